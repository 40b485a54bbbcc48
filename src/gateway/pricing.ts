/**
 * The price table and per-request cost. Prices are USD per million tokens, as the providers publish them
 * (OpenAI https://openai.com/api/pricing, Anthropic https://www.anthropic.com/pricing#api, Amazon Bedrock
 * https://aws.amazon.com/bedrock/pricing/ — on-demand, us-east-1, as of 2025). Any entry can be overridden
 * or added in config (`pricing`). Unknown models cost 0 and are reported as unpriced.
 */
import type { CanonicalUsage } from "../contracts/chat.js";

/** USD per million tokens. Cache reads/writes default to the input price when a provider has no such tier. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
  cacheReadPerMillion?: number;
  cacheWritePerMillion?: number;
}

/** Built-in prices by the provider's model id (matched exactly, then by the longest known prefix). */
export const BUILT_IN_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  "gpt-4o-mini": { inputPerMillion: 0.15, outputPerMillion: 0.6, cacheReadPerMillion: 0.075 },
  "gpt-4o": { inputPerMillion: 2.5, outputPerMillion: 10, cacheReadPerMillion: 1.25 },
  "gpt-4.1": { inputPerMillion: 2, outputPerMillion: 8, cacheReadPerMillion: 0.5 },
  "gpt-4.1-mini": { inputPerMillion: 0.4, outputPerMillion: 1.6, cacheReadPerMillion: 0.1 },
  "gpt-4.1-nano": { inputPerMillion: 0.1, outputPerMillion: 0.4, cacheReadPerMillion: 0.025 },
  "o3-mini": { inputPerMillion: 1.1, outputPerMillion: 4.4, cacheReadPerMillion: 0.55 },
  "claude-3-5-haiku": { inputPerMillion: 0.8, outputPerMillion: 4, cacheReadPerMillion: 0.08, cacheWritePerMillion: 1 },
  "claude-3-5-sonnet": { inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: 0.3, cacheWritePerMillion: 3.75 },
  "claude-3-7-sonnet": { inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: 0.3, cacheWritePerMillion: 3.75 },
  "claude-sonnet-4": { inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: 0.3, cacheWritePerMillion: 3.75 },
  "claude-opus-4": { inputPerMillion: 15, outputPerMillion: 75, cacheReadPerMillion: 1.5, cacheWritePerMillion: 18.75 },
  "anthropic.claude-3-5-haiku": { inputPerMillion: 0.8, outputPerMillion: 4, cacheReadPerMillion: 0.08, cacheWritePerMillion: 1 },
  "anthropic.claude-3-5-sonnet": { inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: 0.3, cacheWritePerMillion: 3.75 },
  "anthropic.claude-sonnet-4": { inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: 0.3, cacheWritePerMillion: 3.75 },
  "us.anthropic.claude-sonnet-4": { inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: 0.3, cacheWritePerMillion: 3.75 },
  "amazon.nova-lite": { inputPerMillion: 0.06, outputPerMillion: 0.24, cacheReadPerMillion: 0.015 },
  "amazon.nova-pro": { inputPerMillion: 0.8, outputPerMillion: 3.2, cacheReadPerMillion: 0.2 },
  "mock-1": { inputPerMillion: 0, outputPerMillion: 0 },
});

/** Cost of one request. `usdMicros` is an integer number of millionths of a US dollar (rounded). */
export interface RequestCost {
  usdMicros: number;
  /** False when no price is known for the model (the cost is then 0). */
  priced: boolean;
}

export class PriceTable {
  private readonly prices: Map<string, ModelPrice>;
  private readonly prefixes: string[];

  /** `overrides` keys are provider model ids, or `<provider>/<model>` to price one provider's model only. */
  constructor(overrides: Readonly<Record<string, ModelPrice>> = {}) {
    this.prices = new Map(Object.entries({ ...BUILT_IN_PRICES, ...overrides }));
    this.prefixes = [...this.prices.keys()].sort((left, right) => right.length - left.length);
  }

  /** The price of `model` at `provider`: `<provider>/<model>`, then `<model>`, then the longest known prefix. */
  priceOf(provider: string, model: string): ModelPrice | null {
    const exact = this.prices.get(`${provider}/${model}`) ?? this.prices.get(model);
    if (exact) return exact;
    const prefix = this.prefixes.find((candidate) => model.startsWith(candidate));
    return prefix ? (this.prices.get(prefix) ?? null) : null;
  }

  /**
   * Cost from reported usage. Canonical input tokens include cached ones: uncached input = input − cache reads
   * − cache writes, each priced at its own rate.
   */
  costOf(provider: string, model: string, usage: CanonicalUsage): RequestCost {
    const price = this.priceOf(provider, model);
    if (!price) return { usdMicros: 0, priced: false };
    const uncachedInput = Math.max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheWriteTokens);
    const usd =
      (uncachedInput * price.inputPerMillion +
        usage.cacheReadTokens * (price.cacheReadPerMillion ?? price.inputPerMillion) +
        usage.cacheWriteTokens * (price.cacheWritePerMillion ?? price.inputPerMillion) +
        usage.outputTokens * price.outputPerMillion) /
      1_000_000;
    return { usdMicros: Math.round(usd * 1_000_000), priced: true };
  }
}
