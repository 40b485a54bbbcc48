/**
 * Usage read off a passed-through answer without re-encoding it: the bytes go to the caller untouched while
 * this tap reads the few JSON lines that carry usage. Field names per API reference:
 * - OpenAI Chat Completions: `usage.prompt_tokens`, `usage.completion_tokens`,
 *   `usage.prompt_tokens_details.cached_tokens`, `usage.completion_tokens_details.reasoning_tokens`
 *   (streams: the final chunk, when `stream_options.include_usage` was set);
 * - OpenAI Responses: `usage.input_tokens`, `usage.output_tokens`, `input_tokens_details.cached_tokens`,
 *   `output_tokens_details.reasoning_tokens` (streams: `response.completed`);
 * - Anthropic Messages: `usage.input_tokens` (excluding cache), `cache_read_input_tokens`,
 *   `cache_creation_input_tokens`, `output_tokens` (streams: `message_start` then `message_delta`).
 */
import { TextDecoder } from "node:util";
import type { CanonicalUsage, ClientApi } from "../contracts/chat.js";

type Json = Record<string, unknown>;

function objectAt(value: unknown, key: string): Json | null {
  if (typeof value !== "object" || value === null) return null;
  const inner = (value as Json)[key];
  return typeof inner === "object" && inner !== null ? (inner as Json) : null;
}

function count(value: Json | null, key: string): number {
  const raw = value?.[key];
  return typeof raw === "number" && Number.isFinite(raw) && raw >= 0 ? raw : 0;
}

/** Generated-text string values of one SSE data line, by field name (cheap: no JSON parse). */
const GENERATED_TEXT_FIELD = /"(?:content|text|delta|partial_json|arguments)":"((?:[^"\\]|\\.)*)"/g;

function generatedTextLength(line: string): number {
  // An `exec` loop on the one global regex (`matchAll` clones it and builds an iterator per line).
  let total = 0;
  GENERATED_TEXT_FIELD.lastIndex = 0;
  for (let match = GENERATED_TEXT_FIELD.exec(line); match !== null; match = GENERATED_TEXT_FIELD.exec(line)) total += (match[1] as string).length;
  return total;
}

/** Accumulates usage from JSON documents (whole bodies or stream events) of one client API. */
export class UsageTap {
  private usage: CanonicalUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  private seen = false;
  private pending = "";
  /** Characters of generated text seen in the stream (for billing a stream cut short before its usage). */
  streamedTextCharacters = 0;
  /** Created on the first stream chunk: a JSON answer never needs one (one object less per request). */
  private decoder: TextDecoder | undefined;

  constructor(private readonly api: ClientApi) {}

  /** Feeds raw SSE bytes; only `data:` lines mentioning usage are parsed. */
  feedStream(chunk: Uint8Array): void {
    this.decoder ??= new TextDecoder();
    // Scans by index and keeps only the unfinished tail, instead of re-slicing the pending text per line.
    const text = this.pending + this.decoder.decode(chunk, { stream: true });
    let start = 0;
    let newline = text.indexOf("\n");
    while (newline !== -1) {
      if (text.startsWith("data:", start)) {
        const line = text.slice(start, newline);
        this.streamedTextCharacters += generatedTextLength(line);
        if (line.includes('"usage"')) {
          try {
            this.feedDocument(JSON.parse(line.slice(5)));
          } catch {
            // not JSON: nothing to count
          }
        }
      }
      start = newline + 1;
      newline = text.indexOf("\n", start);
    }
    this.pending = start === 0 ? text : text.slice(start);
  }

  /** Feeds one parsed JSON document (a whole answer or one stream event). */
  feedDocument(document: unknown): void {
    if (this.api === "openai-chat") {
      const usage = objectAt(document, "usage");
      if (!usage) return;
      this.set({
        inputTokens: count(usage, "prompt_tokens"),
        outputTokens: count(usage, "completion_tokens"),
        cacheReadTokens: count(objectAt(usage, "prompt_tokens_details"), "cached_tokens"),
        cacheWriteTokens: 0,
        reasoningTokens: count(objectAt(usage, "completion_tokens_details"), "reasoning_tokens"),
      });
    } else if (this.api === "openai-responses") {
      const usage = objectAt(document, "usage") ?? objectAt(objectAt(document, "response"), "usage");
      if (!usage) return;
      this.set({
        inputTokens: count(usage, "input_tokens"),
        outputTokens: count(usage, "output_tokens"),
        cacheReadTokens: count(objectAt(usage, "input_tokens_details"), "cached_tokens"),
        cacheWriteTokens: 0,
        reasoningTokens: count(objectAt(usage, "output_tokens_details"), "reasoning_tokens"),
      });
    } else {
      // message_start carries input usage in `message.usage`; message_delta and whole bodies in `usage`.
      const usage = objectAt(objectAt(document, "message"), "usage") ?? objectAt(document, "usage");
      if (!usage) return;
      const cacheRead = count(usage, "cache_read_input_tokens");
      const cacheWrite = count(usage, "cache_creation_input_tokens");
      const input = count(usage, "input_tokens") + cacheRead + cacheWrite;
      this.set({
        inputTokens: Math.max(this.usage.inputTokens, input),
        outputTokens: Math.max(this.usage.outputTokens, count(usage, "output_tokens")),
        cacheReadTokens: Math.max(this.usage.cacheReadTokens, cacheRead),
        cacheWriteTokens: Math.max(this.usage.cacheWriteTokens, cacheWrite),
        reasoningTokens: 0,
      });
    }
  }

  /** The usage seen so far, or null when the answer reported none. */
  result(): CanonicalUsage | null {
    return this.seen ? this.usage : null;
  }

  private set(usage: CanonicalUsage): void {
    this.usage = usage;
    this.seen = true;
  }
}
