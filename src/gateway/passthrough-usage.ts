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

const NEWLINE = 0x0a;
/** `data:` as bytes. */
const DATA_PREFIX = Buffer.from("data:");

/** True when the line `bytes[start, end)` starts with `data:`. */
function startsWithData(bytes: Buffer, start: number, end: number): boolean {
  return end - start >= DATA_PREFIX.length && bytes[start] === 0x64 && DATA_PREFIX.compare(bytes, start, start + DATA_PREFIX.length) === 0;
}

/** Accumulates usage from JSON documents (whole bodies or stream events) of one client API. */
export class UsageTap {
  private usage: CanonicalUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  private seen = false;
  /** The unfinished last line of the stream so far (bytes: a line is decoded only once it is complete). */
  private pending: Buffer | null = null;
  /** Characters of generated text seen in the stream (for billing a stream cut short before its usage). */
  streamedTextCharacters = 0;

  constructor(private readonly api: ClientApi) {}

  /**
   * Feeds raw SSE bytes; only `data:` lines mentioning usage are parsed. Lines are cut on the byte `\n`, which never
   * occurs inside a multi-byte UTF-8 sequence, so each complete line decodes on its own (no streaming decoder).
   */
  feedStream(chunk: Uint8Array): void {
    const received = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const bytes = this.pending ? Buffer.concat([this.pending, received]) : received;
    let start = 0;
    let newline = bytes.indexOf(NEWLINE);
    while (newline !== -1) {
      if (startsWithData(bytes, start, newline)) {
        const line = bytes.toString("utf8", start, newline);
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
      newline = bytes.indexOf(NEWLINE, start);
    }
    // A copy of the tail: the chunk it came from is not kept alive by it.
    this.pending = start === bytes.length ? null : start === 0 ? bytes : Buffer.from(bytes.subarray(start));
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
