/**
 * Attempt functions over `ProviderAdapter`s, for `execute`: they pick the target's adapter, rewrite the model
 * to the target's own model id and call it with the attempt's context.
 *
 * "No fallback after the first byte": `streamAttempt` and `passthroughAttempt` resolve only once the upstream
 * has delivered its first event (or first body chunk), which they hold back and replay. Until then nothing has
 * reached the caller, so a stall before the first event, an early `error` event or an error status still
 * retries or falls back. Once `execute` resolves the pipeline writes to the caller, and a later failure (a
 * stall mid-stream, a reset) ends the stream with an error: the wrapped iterables rethrow it, and report it
 * to the target's circuit breaker.
 */
import type { CanonicalRequest, CanonicalResponse, StreamEvent, TranslationWarning } from "../../contracts/chat.js";
import { ClawfleetError } from "../../contracts/errors.js";
import type { ProviderAdapter, UpstreamCallResult } from "../../contracts/provider.js";
import type { AttemptContext, AttemptFunction, TargetHealthReport } from "./execute.js";
import type { PlannedTarget } from "./plan.js";
import { isRetryableFailure } from "./retry.js";

/** Where adapters come from: a map by provider id, or a lookup function (e.g. over a config snapshot). */
export type AdapterLookup = ReadonlyMap<string, ProviderAdapter> | ((providerId: string) => ProviderAdapter | undefined);

/** The result of a `generate` attempt (`upstreamRequestId`: the provider's id for the call, when it sent one). */
export interface GenerateAttemptResult extends UpstreamCallResult {
  response: CanonicalResponse;
  warnings: TranslationWarning[];
}

/** The result of a `stream` attempt: `events` starts with the held-back first event. */
export interface StreamAttemptResult extends UpstreamCallResult {
  events: AsyncIterable<StreamEvent>;
  warnings: TranslationWarning[];
}

/** Largest part of an error body read to build the error message of a passthrough failure, bytes. */
const ERROR_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The adapter of `providerId`.
 * @throws ClawfleetError `CF_CONFIG_INVALID` (final, no fallback) when none is registered — the config schema's
 *   reference check (`routingReferenceIssues`) prevents it.
 */
export function resolveAdapter(adapters: AdapterLookup, providerId: string): ProviderAdapter {
  const adapter = typeof adapters === "function" ? adapters(providerId) : adapters.get(providerId);
  if (!adapter) throw new ClawfleetError("CF_CONFIG_INVALID", `no provider adapter with id "${providerId}"`, { details: { provider: providerId } });
  return adapter;
}

/** An attempt calling `adapter.generate` with `request.model` set to the target's model. */
export function generateAttempt(adapters: AdapterLookup, request: CanonicalRequest): AttemptFunction<GenerateAttemptResult> {
  return (target, context) => resolveAdapter(adapters, target.provider).generate({ ...request, model: target.model }, context);
}

/**
 * An attempt calling `adapter.stream` with `request.model` set to the target's model, that resolves only
 * after the first event arrived (see the module docstring).
 * Rejects (so `execute` retries or falls back) when the call fails, the first event fails or times out, the
 * stream ends before any event (`CF_UPSTREAM_ERROR` 502), or the first event is an `error` event
 * (`CF_UPSTREAM_ERROR` with its status). The breaker verdict is given when the stream ends: `finish` is a
 * success, an error or an end without `finish` a failure, a caller abort or early `return()` no verdict.
 */
export function streamAttempt(adapters: AdapterLookup, request: CanonicalRequest): AttemptFunction<StreamAttemptResult> {
  return async (target, context) => {
    const adapter = resolveAdapter(adapters, target.provider);
    const health = context.deferHealthReport();
    const { events, warnings, upstreamRequestId } = await adapter.stream({ ...request, model: target.model }, context);
    const iterator = events[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) throw new ClawfleetError("CF_UPSTREAM_ERROR", `provider ${target.provider} ended the stream before any event`, { status: 502, details: { provider: target.provider } });
    if (first.value.type === "error") {
      await closeQuietly(iterator);
      throw errorEventFailure(target, first.value);
    }
    return { events: continueEvents(first.value, iterator, health, context), warnings, upstreamRequestId };
  };
}

/**
 * A passed-through answer. `whole`: an answer that is not an event stream (a JSON document, an error body),
 * read completely inside the attempt; `stream`: an SSE answer (`content-type: text/event-stream`), whose `body`
 * starts with the held-back first chunk. `upstreamRequestId`: the provider's id for the call, when it sent one.
 */
export type PassthroughAnswer =
  | { kind: "whole"; status: number; headers: Record<string, string>; body: Buffer; upstreamRequestId: string | undefined }
  | { kind: "stream"; status: number; headers: Record<string, string>; body: AsyncIterable<Uint8Array>; upstreamRequestId: string | undefined };

/**
 * An attempt calling `adapter.passthrough` (same-schema traffic) with `bodyFor(target)` (the caller's bytes,
 * `model` rewritten for that target). A 429 or 5xx answer is read (up to 64 KiB), closed and thrown as
 * `CF_UPSTREAM_ERROR` with its status and `retry-after`, so it is retried or falls back like any other; other
 * statuses (2xx, the caller's 4xx) are returned as they are. A stream resolves after its first body chunk
 * arrived; any other answer after its whole body arrived (in one read, no iteration per chunk), so a failure
 * midway through a JSON answer (a reset, a stall past the idle limit) still retries or falls back: nothing has
 * reached the caller yet. The attempt's backstop deadline (`attemptDeadlineMs`) covers that read too, as it
 * does `generate`'s.
 * @throws ClawfleetError `CF_INTERNAL` when the target's adapter has no `passthrough`.
 */
export function passthroughAttempt(adapters: AdapterLookup, bodyFor: (target: PlannedTarget) => { body: Buffer; stream: boolean }): AttemptFunction<PassthroughAnswer> {
  return async (target, context) => {
    const adapter = resolveAdapter(adapters, target.provider);
    if (!adapter.passthrough) throw new ClawfleetError("CF_INTERNAL", `provider ${target.provider} cannot pass requests through`, { details: { provider: target.provider } });
    const response = await adapter.passthrough(bodyFor(target), context);
    if (response.status === 429 || response.status >= 500) {
      const text = await readLimited(response.body, ERROR_BODY_LIMIT_BYTES);
      throw new ClawfleetError("CF_UPSTREAM_ERROR", `provider ${target.provider} answered HTTP ${response.status}`, {
        status: response.status,
        retryAfterSeconds: parseRetryAfterSeconds(response.headers["retry-after"]),
        details: {
          provider: target.provider,
          upstreamStatus: response.status,
          upstreamMessage: text.slice(0, 1000),
          ...(response.upstreamRequestId === undefined ? {} : { upstreamRequestId: response.upstreamRequestId }),
        },
      });
    }
    if (!(response.headers["content-type"] ?? "").includes("text/event-stream")) {
      return { kind: "whole", status: response.status, headers: response.headers, body: await response.bytes(), upstreamRequestId: response.upstreamRequestId };
    }
    const health = context.deferHealthReport();
    const iterator = response.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    return { kind: "stream", status: response.status, headers: response.headers, body: continueBytes(first, iterator, health, context), upstreamRequestId: response.upstreamRequestId };
  };
}

/**
 * Seconds of a `retry-after` header value (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date relative to
 * `nowMs` (epoch ms). Undefined when absent or unparsable; never negative.
 */
export function parseRetryAfterSeconds(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const dateMs = Date.parse(text);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, Math.ceil((dateMs - nowMs) / 1000));
}

function errorEventFailure(target: PlannedTarget, event: Extract<StreamEvent, { type: "error" }>): ClawfleetError {
  return new ClawfleetError("CF_UPSTREAM_ERROR", event.message, {
    status: event.status >= 400 ? event.status : 502,
    details: { provider: target.provider, upstreamStatus: event.status, upstreamType: event.errorType, upstreamMessage: event.message },
  });
}

async function closeQuietly<Item>(iterator: AsyncIterator<Item>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // The upstream is being dropped; its close error changes nothing.
  }
}

/** Reports a failure after the attempt resolved: no verdict when the caller aborted, else a breaker failure. */
function reportLateFailure(health: TargetHealthReport, context: AttemptContext, error: unknown): void {
  if (context.signal.aborted) health.release();
  else health.failure(error);
}

async function* continueEvents(
  first: StreamEvent,
  iterator: AsyncIterator<StreamEvent>,
  health: TargetHealthReport,
  context: AttemptContext,
): AsyncGenerator<StreamEvent, void, undefined> {
  let exhausted = false;
  try {
    let current: IteratorResult<StreamEvent> = { done: false, value: first };
    while (!current.done) {
      const event = current.value;
      if (event.type === "finish") health.success();
      if (event.type === "error") {
        const failure = errorEventFailure(context.target, event);
        if (isRetryableFailure(failure)) health.failure(failure);
        else health.release();
      }
      yield event;
      current = await iterator.next();
    }
    exhausted = true;
    health.failure(new ClawfleetError("CF_UPSTREAM_ERROR", `provider ${context.target.provider} ended the stream without finishing`, { status: 502 }));
  } catch (error) {
    exhausted = true;
    reportLateFailure(health, context, error);
    throw error;
  } finally {
    health.release();
    if (!exhausted) await closeQuietly(iterator);
  }
}

async function* continueBytes(
  first: IteratorResult<Uint8Array>,
  iterator: AsyncIterator<Uint8Array>,
  health: TargetHealthReport,
  context: AttemptContext,
): AsyncGenerator<Uint8Array, void, undefined> {
  let exhausted = false;
  try {
    let current = first;
    while (!current.done) {
      yield current.value;
      current = await iterator.next();
    }
    exhausted = true;
    health.success();
  } catch (error) {
    exhausted = true;
    reportLateFailure(health, context, error);
    throw error;
  } finally {
    health.release();
    if (!exhausted) await closeQuietly(iterator);
  }
}

/** Up to `limitBytes` of `body` as UTF-8, then closes it. A read error ends the text early (it is only a message). */
async function readLimited(body: AsyncIterable<Uint8Array>, limitBytes: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  try {
    while (size < limitBytes) {
      const next = await iterator.next();
      if (next.done) break;
      parts.push(Buffer.from(next.value));
      size += next.value.byteLength;
    }
  } catch {
    // Keep what arrived: the status already says what went wrong.
  } finally {
    await closeQuietly(iterator);
  }
  return Buffer.concat(parts).subarray(0, limitBytes).toString("utf8");
}
