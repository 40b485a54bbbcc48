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

/**
 * Generated-text string values, by field name (cheap: no JSON parse). A match never crosses a line: a raw newline
 * cannot occur inside a JSON string, so `[^"\\\n]` keeps one line's unterminated string from running into the next.
 */
const GENERATED_TEXT_FIELD = /"(?:content|text|delta|partial_json|arguments)":"((?:[^"\\\n]|\\.)*)"/g;

const NEWLINE = 0x0a;
const DATA_PREFIX = "data:";

/** End of the line of `text` that starts at `start`: the index of its newline, or the text's length. */
function lineEndAt(text: string, start: number): number {
  const end = text.indexOf("\n", start);
  return end === -1 ? text.length : end;
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
   * Feeds raw SSE bytes; only `data:` lines count, and only those mentioning usage are parsed. Lines are cut on the
   * byte `\n`, which never occurs inside a multi-byte UTF-8 sequence, so the complete lines of what has arrived decode
   * on their own (no streaming decoder); they are decoded once, as one string, and searched in one pass each for
   * generated text and for usage (per chunk, not per line: a chunk of a busy stream holds many lines).
   */
  feedStream(chunk: Uint8Array): void {
    const received = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const bytes = this.pending ? Buffer.concat([this.pending, received]) : received;
    const last = bytes.lastIndexOf(NEWLINE);
    if (last === -1) {
      this.pending = bytes;
      return;
    }
    // A copy of the tail: the chunk it came from is not kept alive by it.
    this.pending = last + 1 === bytes.length ? null : Buffer.from(bytes.subarray(last + 1));
    const text = bytes.toString("utf8", 0, last);

    // Generated text: the matches come in order, so the line of each is found by walking the lines forward.
    let characters = 0;
    let lineStart = 0;
    let lineEnd = lineEndAt(text, 0);
    let dataLine = text.startsWith(DATA_PREFIX, 0);
    GENERATED_TEXT_FIELD.lastIndex = 0;
    for (let match = GENERATED_TEXT_FIELD.exec(text); match !== null; match = GENERATED_TEXT_FIELD.exec(text)) {
      while (match.index > lineEnd) {
        lineStart = lineEnd + 1;
        lineEnd = lineEndAt(text, lineStart);
        dataLine = text.startsWith(DATA_PREFIX, lineStart);
      }
      if (dataLine) characters += (match[1] as string).length;
    }
    this.streamedTextCharacters += characters;

    // Usage: each `data:` line mentioning it, parsed once.
    for (let at = text.indexOf('"usage"'); at !== -1; ) {
      const start = text.lastIndexOf("\n", at) + 1;
      const end = lineEndAt(text, at);
      if (text.startsWith(DATA_PREFIX, start)) {
        try {
          this.feedDocument(JSON.parse(text.slice(start + DATA_PREFIX.length, end)));
        } catch {
          // not JSON: nothing to count
        }
      }
      at = text.indexOf('"usage"', end);
    }
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
