/**
 * OpenAI and any OpenAI-compatible server (vLLM, Together, Groq, LM Studio, …): Chat Completions over an
 * undici keep-alive pool. Same-schema traffic is forwarded byte for byte (envoy ai-gateway's `openai_openai`
 * translator does the same): the only change is the `Authorization` header, which carries the provider key.
 * API reference: https://platform.openai.com/docs/api-reference/chat/create
 */
import { Pool, errors as undiciErrors } from "undici";
import { ClawfleetError } from "../../contracts/errors.js";
import type { ChatCompletionCall, ProviderAdapter, UpstreamResponse } from "../../contracts/provider.js";

/** Upstream response headers passed on to the caller. */
const FORWARDED_RESPONSE_HEADERS = /^(content-type|retry-after|x-request-id|openai-[a-z-]+|x-ratelimit-[a-z-]+)$/;

export interface OpenAIAdapterOptions {
  id: string;
  /** Base URL including the API version path, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Returns the provider API key at call time (so rotation needs no restart). */
  apiKey: () => string;
  /** Time allowed for connecting, in ms. */
  connectTimeoutMs?: number;
  /** Time allowed until response headers arrive, in ms. */
  headersTimeoutMs?: number;
  /** Longest silence between body chunks, in ms. */
  bodyTimeoutMs?: number;
  /** Keep-alive connections per origin. */
  connections?: number;
}

export class OpenAIAdapter implements ProviderAdapter {
  readonly kind = "openai";
  readonly id: string;
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly options: OpenAIAdapterOptions) {
    this.id = options.id;
    const url = new URL(options.baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 128,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: options.connectTimeoutMs ?? 10_000 },
      headersTimeout: options.headersTimeoutMs ?? 300_000,
      bodyTimeout: options.bodyTimeoutMs ?? 300_000,
    });
  }

  async chatCompletions(call: ChatCompletionCall): Promise<UpstreamResponse> {
    const payload = call.rawBody ?? Buffer.from(JSON.stringify(call.body));
    const apiKey = this.options.apiKey();
    try {
      const response = await this.pool.request({
        method: "POST",
        path: `${this.basePath}/chat/completions`,
        headers: {
          "content-type": "application/json",
          accept: call.stream ? "text/event-stream" : "application/json",
          authorization: `Bearer ${apiKey}`,
          "x-request-id": call.requestId,
        },
        body: payload,
        signal: call.signal,
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (FORWARDED_RESPONSE_HEADERS.test(name) && typeof value === "string") headers[name] = value;
      }
      return { status: response.statusCode, headers, body: response.body };
    } catch (error) {
      throw upstreamError(this.id, error);
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

function upstreamError(providerId: string, error: unknown): ClawfleetError {
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.ConnectTimeoutError) {
    return new ClawfleetError("CF_UPSTREAM_TIMEOUT", `provider ${providerId} did not answer in time`, { cause: error, details: { provider: providerId } });
  }
  return new ClawfleetError("CF_UPSTREAM_UNREACHABLE", `provider ${providerId} is unreachable`, { cause: error, details: { provider: providerId } });
}
