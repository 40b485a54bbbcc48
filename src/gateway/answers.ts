/**
 * The answers the model gateway writes itself: the head of a hijacked answer (security headers, request id, the
 * upstream's headers minus those Clawfleet owns), a passed-through answer read whole, a passed-through event
 * stream piped as it arrives, and canonical stream events through a client API's encoder. Each fills in the
 * call's outcome (status, usage, streamed characters) as it writes. The chain that decides which one runs is
 * model-calls.ts.
 */
import type { Socket } from "node:net";
import type { FastifyReply } from "fastify";
import type { ClientApi, StreamEvent, TranslationWarning } from "../contracts/chat.js";
import type { ClientApiCodec } from "../contracts/client-api.js";
import { ClawfleetError, isClawfleetError } from "../contracts/errors.js";
import type { CallOutcome, CallTimer } from "./call-outcome.js";
import { UsageTap } from "./passthrough-usage.js";
import type { PassthroughAnswer } from "./routing/index.js";
import { isProviderAccountHeader } from "./upstream-headers.js";

/** Response header saying whether the answer came from the cache (`hit`) or was stored for next time (`miss`). */
export const CACHE_HEADER = "x-clawfleet-cache";

/** Header listing request parameters the provider could not honour (`parameter: reason; …`). */
export const WARNINGS_HEADER = "x-clawfleet-warnings";
/** Header carrying the time spent inside Clawfleet, excluding the upstream, in ms. */
export const OVERHEAD_HEADER = "x-clawfleet-overhead-ms";
/**
 * Header carrying the provider's own id for the call that answered (OpenAI's `x-request-id`, Anthropic's
 * `request-id`, Bedrock's `x-amzn-RequestId`: the id a provider's support asks for), on every answer a provider gave,
 * passed through or translated, success or error; absent when the provider sent none (Ollama). A separate name
 * because `x-request-id` is Clawfleet's own id for the call.
 */
export const UPSTREAM_REQUEST_ID_HEADER = "x-clawfleet-upstream-request-id";

/** `parameter: message; …`, restricted to visible ASCII so it is a valid header value. */
export function warningsHeaderValue(warnings: readonly TranslationWarning[]): string {
  return warnings
    .map((warning) => `${warning.parameter}: ${warning.message}`)
    .join("; ")
    .replace(/[^\x20-\x7e]/g, "?")
    .slice(0, 4000);
}

/**
 * Names Clawfleet (or Node) writes itself on an answer it sends after `reply.hijack()`: an upstream header with one
 * of these names is left out, so each appears once and Clawfleet's value is the one sent.
 */
const OWN_HEAD_NAMES: ReadonlySet<string> = new Set(["x-request-id", "content-length", "transfer-encoding", "connection", "keep-alive", "date", "cache-control", "x-accel-buffering", OVERHEAD_HEADER, WARNINGS_HEADER, CACHE_HEADER, UPSTREAM_REQUEST_ID_HEADER]);

/** True when `list` holds a header named `name`. */
function namesHeader(list: ReadonlyArray<readonly [string, string]>, name: string): boolean {
  for (const header of list) if (header[0] === name) return true;
  return false;
}

/** Headers of every event stream Clawfleet writes: no caching, no buffering in a proxy in front (nginx). */
const EVENT_STREAM_HEAD: readonly string[] = ["cache-control", "no-cache", "x-accel-buffering", "no"];

/**
 * Writes the status and head of an answer Clawfleet sends itself on `raw`, then takes the reply over from Fastify
 * (`reply.hijack()` after the head, so a head Node refuses still gets Fastify's error answer). The head is one flat
 * `[name, value, …]` list for a single `writeHead` call (Node writes it as given, without the per-header
 * bookkeeping of `setHeader`): the security headers (`onSend` hooks do not run for a hijacked answer), the request
 * id, those already set on the Fastify reply (rate limits, cache), for a passed-through answer the upstream's
 * headers (`upstream`) minus the provider account's rate-limit state and identity (upstream-headers.ts) and minus
 * any name Clawfleet sets itself (Clawfleet's own win; the provider's id for the call is among the reply's headers,
 * as `x-clawfleet-upstream-request-id`), then `own` (the caller's: length, content type, overhead…).
 */
export function startHijackedAnswer(
  reply: FastifyReply,
  status: number,
  securityHeaders: ReadonlyArray<readonly [string, string]>,
  upstream: Readonly<Record<string, string>> | undefined,
  own: readonly string[],
): void {
  const head: string[] = [];
  for (const [name, value] of securityHeaders) head.push(name, value);
  head.push("x-request-id", reply.request.id);
  const headers = reply.getHeaders();
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || name === "x-request-id") continue;
    if (Array.isArray(value)) for (const item of value) head.push(name, item);
    else head.push(name, String(value));
  }
  if (upstream) {
    for (const name of Object.keys(upstream)) {
      if (OWN_HEAD_NAMES.has(name) || isProviderAccountHeader(name) || headers[name] !== undefined || namesHeader(securityHeaders, name)) continue;
      head.push(name, upstream[name] as string);
    }
  }
  for (const item of own) head.push(item);
  reply.raw.writeHead(status, head);
  reply.hijack();
}

/**
 * Sends a passed-through answer read whole (`body`: the upstream's bytes, or the tool guard's replacement) in
 * one write with its length (one packet for small answers, no chunked framing), reading its usage.
 */
export function sendWholeAnswer(
  reply: FastifyReply,
  answer: Extract<PassthroughAnswer, { kind: "whole" }>,
  body: Uint8Array,
  api: ClientApi,
  timer: CallTimer,
  outcome: CallOutcome,
  storeInCache: (answer: { status: number; contentType: string; body: Buffer }) => void,
  securityHeaders: ReadonlyArray<readonly [string, string]>,
): void {
  outcome.status = answer.status;
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (answer.status < 300) {
    const tap = new UsageTap(api);
    try {
      tap.feedDocument(JSON.parse(bytes.toString("utf8")));
    } catch {
      // not JSON: no usage to count
    }
    outcome.usage = tap.result();
  }
  storeInCache({ status: answer.status, contentType: answer.headers["content-type"] ?? "application/json", body: bytes });
  startHijackedAnswer(reply, answer.status, securityHeaders, answer.headers, ["content-length", String(bytes.length), OVERHEAD_HEADER, timer.overheadMs().toFixed(3)]);
  reply.raw.end(bytes);
}

/** Pipes a passed-through SSE answer to the caller chunk by chunk as it arrives, reading its usage on the side. */
export async function sendStreamedAnswer(
  reply: FastifyReply,
  answer: Extract<PassthroughAnswer, { kind: "stream" }>,
  body: AsyncIterable<Uint8Array>,
  api: ClientApi,
  timer: CallTimer,
  outcome: CallOutcome,
  securityHeaders: ReadonlyArray<readonly [string, string]>,
): Promise<FastifyReply> {
  outcome.status = answer.status;
  const tap = new UsageTap(api);
  const iterator = body[Symbol.asyncIterator]();
  startHijackedAnswer(reply, answer.status, securityHeaders, answer.headers, [...EVENT_STREAM_HEAD, OVERHEAD_HEADER, timer.overheadMs().toFixed(3)]);
  try {
    for (;;) {
      const next = await timer.upstream(() => iterator.next());
      if (next.done) break;
      tap.feedStream(next.value);
      outcome.streamedCharacters = tap.streamedTextCharacters;
      corkUntilCheckPhase(reply.raw.socket);
      if (!reply.raw.write(next.value)) await new Promise<void>((resolve) => reply.raw.once("drain", () => resolve()));
    }
  } finally {
    outcome.usage = tap.result();
  }
  reply.raw.end();
  return reply;
}

/**
 * Holds the caller's socket corked until the event loop's check phase (`setImmediate`), so what is written to it
 * in the meantime leaves in one `writev`. The upstream's last chunk and its end usually arrive in the same turn of
 * the loop, a few ticks apart; Node's own cork of a chunked write lasts one tick only (`process.nextTick`), so the
 * chunk and the chunked terminator (`0\r\n\r\n`, written by `res.end()`, which fully uncorks the socket) used to
 * leave in two syscalls and two packets. A chunk waits at most until this turn's remaining I/O callbacks have run.
 */
function corkUntilCheckPhase(socket: Socket | null): void {
  if (socket === null || socket.writableCorked > 0) return;
  socket.cork();
  setImmediate(uncork, socket);
}

function uncork(socket: Socket): void {
  socket.uncork();
}

/** Writes canonical stream events through the client API's encoder. */
export async function sendEvents(
  reply: FastifyReply,
  events: AsyncIterable<StreamEvent>,
  encoder: ReturnType<ClientApiCodec["createStreamEncoder"]>,
  warnings: TranslationWarning[],
  timer: CallTimer,
  outcome: CallOutcome,
  securityHeaders: ReadonlyArray<readonly [string, string]>,
): Promise<void> {
  const own = ["content-type", "text/event-stream; charset=utf-8", ...EVENT_STREAM_HEAD, OVERHEAD_HEADER, timer.overheadMs().toFixed(3)];
  if (warnings.length > 0) own.push(WARNINGS_HEADER, warningsHeaderValue(warnings));
  startHijackedAnswer(reply, 200, securityHeaders, undefined, own);
  outcome.status = 200;
  const iterator = events[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await timer.upstream(() => iterator.next());
      if (next.done) break;
      const event = next.value;
      if (event.type === "finish" && event.usage) outcome.usage = event.usage;
      if (event.type === "text_delta" || event.type === "reasoning_delta") outcome.streamedCharacters += event.text.length;
      else if (event.type === "tool_call_delta") outcome.streamedCharacters += event.argumentsDelta.length;
      if (event.type === "error") outcome.errorCode = "CF_UPSTREAM_ERROR";
      const text = encoder.encode(event);
      if (text.length === 0) continue;
      corkUntilCheckPhase(reply.raw.socket);
      if (!reply.raw.write(text)) await new Promise<void>((resolve) => reply.raw.once("drain", () => resolve()));
    }
  } catch (error) {
    // No fallback after the first byte: tell the caller in its own stream format, then end.
    const failure = isClawfleetError(error) ? error : new ClawfleetError("CF_UPSTREAM_ERROR", "the upstream stream failed");
    outcome.errorCode = failure.code;
    if (!reply.raw.destroyed) reply.raw.write(encoder.encode({ type: "error", status: failure.status, message: failure.message, errorType: "api_error" }));
  } finally {
    reply.raw.end();
  }
}
