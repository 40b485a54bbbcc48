/**
 * A minimal OpenAI Chat Completions adapter for routing tests over real sockets: `ProviderAdapter.generate`
 * and `stream` over undici, honouring the context's timeouts and signal, and throwing the contract's errors
 * (`src/contracts/provider.ts`). Text only: messages are sent as text, answers read as text; no tools,
 * images or passthrough. Independent of `src/providers/` on purpose (that code is being rewritten).
 *
 * Timeouts (ms, from the `ProviderCallContext`):
 * - `connectTimeoutMs`: undici's connect timeout (one `Agent` per distinct value);
 * - `firstByteTimeoutMs`: until the response headers (undici `headersTimeout`), then again until the first
 *   body chunk (for a stream: the first event);
 * - `idleTimeoutMs`: between two body chunks.
 * Wire format: https://platform.openai.com/docs/api-reference/chat (SSE per the WHATWG HTML "Server-sent
 * events" section: events separated by a blank line, `data:` lines joined by "\n", `:` comments ignored).
 */
import { Agent, request as undiciRequest } from "undici";
import type { CanonicalRequest, CanonicalResponse, CanonicalUsage, FinishReason, StreamEvent } from "../../src/contracts/chat.js";
import { EMPTY_USAGE } from "../../src/contracts/chat.js";
import { ClawfleetError, isClawfleetError } from "../../src/contracts/errors.js";
import type { ProviderAdapter, ProviderCallContext } from "../../src/contracts/provider.js";

export interface MinimalOpenAIAdapterOptions {
  /** Provider id. */
  id: string;
  /** Base URL including `/v1`, e.g. the fake upstream's `url`. */
  baseUrl: string;
  apiKey?: string;
}

const UNREACHABLE_CODES = new Set(["UND_ERR_SOCKET", "UND_ERR_CLOSED", "ECONNRESET", "ECONNREFUSED", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND"]);
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

type JsonRecord = Record<string, unknown>;
const isRecord = (value: unknown): value is JsonRecord => typeof value === "object" && value !== null && !Array.isArray(value);

function errorCode(error: unknown): string | undefined {
  if (!isRecord(error)) return undefined;
  if (typeof error.code === "string") return error.code;
  return errorCode(error.cause);
}

/** Any failure of a call as the contract's error; the context's abort reason wins (router timeout or caller). */
function contractError(providerId: string, error: unknown, context: ProviderCallContext): unknown {
  if (context.signal.aborted) return context.signal.reason;
  if (isClawfleetError(error)) return error;
  const code = errorCode(error);
  const details = { provider: providerId, cause: code ?? String(error) };
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new ClawfleetError("CF_UPSTREAM_TIMEOUT", `provider ${providerId} timed out (${code})`, { cause: error, details });
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return new ClawfleetError("CF_UPSTREAM_UNREACHABLE", `provider ${providerId} is unreachable (${code})`, { cause: error, details });
  return new ClawfleetError("CF_UPSTREAM_UNREACHABLE", `provider ${providerId} failed: ${String(error)}`, { cause: error, details });
}

/** Body chunks of `body`, each awaited at most `firstMs` (the first) or `idleMs` (the others). */
async function* timedChunks(providerId: string, body: AsyncIterable<Uint8Array> & { destroy(error?: Error): void }, firstMs: number, idleMs: number): AsyncGenerator<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  let waitMs = firstMs;
  let which = "first byte";
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new ClawfleetError("CF_UPSTREAM_TIMEOUT", `provider ${providerId}: no ${which} within ${waitMs} ms`, { details: { provider: providerId, timeoutMs: waitMs } })), waitMs);
      });
      let next: IteratorResult<Uint8Array>;
      try {
        next = await Promise.race([iterator.next(), timeout]);
      } finally {
        clearTimeout(timer);
      }
      if (next.done) return;
      yield next.value;
      waitMs = idleMs;
      which = "chunk";
    }
  } finally {
    body.destroy();
  }
}

function toOpenAIBody(request: CanonicalRequest, stream: boolean): JsonRecord {
  const messages = request.messages.map((message) => ({
    role: message.role,
    content: message.content.map((part) => (part.type === "text" ? part.text : "")).join(""),
  }));
  return { model: request.model, messages, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) };
}

function toFinishReason(value: unknown): FinishReason {
  return value === "stop" || value === "length" || value === "tool_calls" || value === "content_filter" ? value : "other";
}

function toUsage(value: unknown): CanonicalUsage {
  if (!isRecord(value)) return EMPTY_USAGE;
  const number = (item: unknown) => (typeof item === "number" ? item : 0);
  const prompt = isRecord(value.prompt_tokens_details) ? value.prompt_tokens_details : {};
  const completion = isRecord(value.completion_tokens_details) ? value.completion_tokens_details : {};
  return {
    inputTokens: number(value.prompt_tokens),
    outputTokens: number(value.completion_tokens),
    cacheReadTokens: number(prompt.cached_tokens),
    cacheWriteTokens: 0,
    reasoningTokens: number(completion.reasoning_tokens),
  };
}

/** SSE `data` payloads of a byte stream. */
async function* ssePayloads(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  const eventsOf = function* (final: boolean): Generator<string> {
    const blocks = buffer.split(/\r\n\r\n|\n\n|\r\r/);
    buffer = final ? "" : (blocks.pop() ?? "");
    for (const block of blocks) {
      const data = block
        .split(/\r\n|\n|\r/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""));
      if (data.length > 0) yield data.join("\n");
    }
  };
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    yield* eventsOf(false);
  }
  buffer += decoder.decode();
  yield* eventsOf(true);
}

/** Canonical events of an OpenAI chat completion stream (text only). */
async function* toStreamEvents(providerId: string, payloads: AsyncIterable<string>): AsyncGenerator<StreamEvent> {
  let started = false;
  let textOpen = false;
  let finishReason: FinishReason | undefined;
  let usage: CanonicalUsage | null = null;
  const finish = function* (): Generator<StreamEvent> {
    if (textOpen) yield { type: "block_end", index: 0 };
    yield { type: "finish", finishReason: finishReason ?? "other", usage };
  };
  for await (const payload of payloads) {
    if (payload === "[DONE]") {
      yield* finish();
      return;
    }
    const chunk: unknown = JSON.parse(payload);
    if (!isRecord(chunk)) continue;
    if (isRecord(chunk.error)) {
      const message = typeof chunk.error.message === "string" ? chunk.error.message : "upstream error";
      yield { type: "error", status: 500, message, errorType: typeof chunk.error.type === "string" ? chunk.error.type : "api_error" };
      return;
    }
    if (!started) {
      started = true;
      yield { type: "start", id: String(chunk.id ?? ""), model: String(chunk.model ?? ""), createdAt: typeof chunk.created === "number" ? chunk.created : 0 };
    }
    const choice = Array.isArray(chunk.choices) && isRecord(chunk.choices[0]) ? chunk.choices[0] : undefined;
    const delta = choice && isRecord(choice.delta) ? choice.delta : undefined;
    if (delta && typeof delta.content === "string" && delta.content !== "") {
      textOpen = true;
      yield { type: "text_delta", index: 0, text: delta.content };
    }
    if (choice && typeof choice.finish_reason === "string") finishReason = toFinishReason(choice.finish_reason);
    if (isRecord(chunk.usage)) usage = toUsage(chunk.usage);
  }
  throw new ClawfleetError("CF_UPSTREAM_ERROR", `provider ${providerId} ended the stream without [DONE]`, { status: 502, details: { provider: providerId } });
}

/** Builds the adapter; `close()` destroys its connection pools (requests still running fail). */
export function createMinimalOpenAIAdapter(options: MinimalOpenAIAdapterOptions): ProviderAdapter {
  const agents = new Map<number, Agent>();
  const agentFor = (connectTimeoutMs: number): Agent => {
    let agent = agents.get(connectTimeoutMs);
    if (!agent) {
      agent = new Agent({ connect: { timeout: connectTimeoutMs }, keepAliveTimeout: 1_000 });
      agents.set(connectTimeoutMs, agent);
    }
    return agent;
  };

  /** Sends the request; resolves with the 2xx body chunks (timed), or throws the contract's error. */
  async function send(request: CanonicalRequest, context: ProviderCallContext, stream: boolean): Promise<AsyncGenerator<Uint8Array>> {
    let response: Awaited<ReturnType<typeof undiciRequest>>;
    try {
      response = await undiciRequest(`${options.baseUrl.replace(/\/+$/, "")}/chat/completions`, {
        method: "POST",
        dispatcher: agentFor(context.connectTimeoutMs),
        headers: {
          "content-type": "application/json",
          accept: stream ? "text/event-stream" : "application/json",
          authorization: `Bearer ${options.apiKey ?? "sk-test"}`,
          "x-request-id": context.requestId,
        },
        body: JSON.stringify(toOpenAIBody(request, stream)),
        signal: context.signal,
        headersTimeout: context.firstByteTimeoutMs,
        bodyTimeout: 0,
      });
    } catch (error) {
      throw contractError(options.id, error, context);
    }
    const chunks = timedChunks(options.id, response.body, context.firstByteTimeoutMs, context.idleTimeoutMs);
    if (response.statusCode < 400) return chunks;
    let text = "";
    try {
      for await (const chunk of chunks) text += Buffer.from(chunk).toString("utf8");
    } catch {
      // The status is the error; a cut body only loses the message.
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const upstream = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
    const retryAfter = response.headers["retry-after"];
    const retryAfterSeconds = typeof retryAfter === "string" && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
    const upstreamMessage = typeof upstream.message === "string" ? upstream.message : text.slice(0, 500);
    throw new ClawfleetError("CF_UPSTREAM_ERROR", `provider ${options.id} answered ${response.statusCode}: ${upstreamMessage}`, {
      status: response.statusCode,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      details: { provider: options.id, upstreamStatus: response.statusCode, upstreamType: upstream.type ?? null, upstreamMessage },
    });
  }

  /** Wraps an iterable so its failures come out as the contract's errors. */
  async function* mapFailures<Item>(items: AsyncIterable<Item>, context: ProviderCallContext): AsyncGenerator<Item> {
    try {
      yield* items;
    } catch (error) {
      throw contractError(options.id, error, context);
    }
  }

  return {
    id: options.id,
    kind: "openai",
    nativeApi: "openai-chat",
    async generate(request, context) {
      const chunks = await send(request, context, false);
      let text = "";
      for await (const chunk of mapFailures(chunks, context)) text += Buffer.from(chunk).toString("utf8");
      const body: unknown = JSON.parse(text);
      if (!isRecord(body) || !Array.isArray(body.choices) || !isRecord(body.choices[0])) {
        throw new ClawfleetError("CF_UPSTREAM_ERROR", `provider ${options.id} sent an unexpected body`, { status: 502 });
      }
      const choice = body.choices[0];
      const message = isRecord(choice.message) ? choice.message : {};
      const response: CanonicalResponse = {
        id: String(body.id ?? ""),
        model: String(body.model ?? request.model),
        content: typeof message.content === "string" ? [{ type: "text", text: message.content }] : [],
        finishReason: toFinishReason(choice.finish_reason),
        usage: toUsage(body.usage),
        createdAt: typeof body.created === "number" ? body.created : 0,
      };
      return { response, warnings: [] };
    },
    async stream(request, context) {
      const chunks = await send(request, context, true);
      return { events: mapFailures(toStreamEvents(options.id, ssePayloads(chunks)), context), warnings: [] };
    },
    async close() {
      // destroy, not close: close() would wait for a stalled request that never ends.
      await Promise.all([...agents.values()].map((agent) => agent.destroy()));
      agents.clear();
    },
  };
}
