/**
 * The provider adapter contract: how the model gateway calls one upstream model provider. Implementations
 * live in `src/providers/<kind>/` (pure translators plus one adapter that does the I/O), are built by the
 * composition root, and are never imported by core code.
 */
import type { CanonicalRequest, CanonicalResponse, ClientApi, StreamEvent, TranslationWarning } from "./chat.js";

/** Per-call settings chosen by the router. Times in ms. */
export interface ProviderCallContext {
  requestId: string;
  /** Aborted when the caller disconnects or a timeout fires: the adapter must cancel the upstream request. */
  signal: AbortSignal;
  /** Longest time to establish a connection. */
  connectTimeoutMs: number;
  /** Longest time from sending the request to the response headers (and, for streams, the first event). */
  firstByteTimeoutMs: number;
  /** Longest silence between two body chunks of a streamed answer. */
  idleTimeoutMs: number;
}

/** The upstream's raw answer for a pass-through call, streamed: the gateway pipes `body` to the caller. */
export interface UpstreamResponse extends UpstreamCallResult {
  /** HTTP status from the upstream (its own error statuses are passed on). */
  status: number;
  /** Response headers worth passing on (lowercase names): content-type, retry-after, x-ratelimit-*, request ids. */
  headers: Record<string, string>;
  /** The body chunk by chunk (a stream is piped as it arrives). Use either this or `bytes`, once. */
  body: AsyncIterable<Uint8Array>;
  /** The whole body in one read (a JSON answer, used whole). Use either this or `body`, once; fails like `body`. */
  bytes(): Promise<Buffer>;
}

/**
 * What every answered call can report besides its content: `upstreamRequestId`, the provider's own id for the
 * call as its API reference names it — OpenAI's `x-request-id` response header, Anthropic's `request-id`
 * response header, Bedrock's `x-amzn-RequestId` (the AWS SDK's `$metadata.requestId`); undefined when the provider
 * sent none (Ollama). Kept on the request record, so a call can be looked up with the provider's support.
 */
export interface UpstreamCallResult {
  upstreamRequestId?: string | undefined;
}

/** A model the provider offers, as listed by `/v1/models`. */
export interface ProviderModel {
  id: string;
  ownedBy: string;
}

/**
 * One upstream provider. Upstream failures are thrown as `ClawfleetError`:
 * - `CF_UPSTREAM_UNREACHABLE` (connect refused/reset before an answer; retryable),
 * - `CF_UPSTREAM_TIMEOUT` (connect, first byte or idle timeout; retryable),
 * - `CF_UPSTREAM_ERROR` with `status` = the upstream's HTTP status, `retryAfterSeconds` from its
 *   `retry-after` header, and `details: {provider, upstreamStatus, upstreamType, upstreamMessage}` plus
 *   `upstreamRequestId` when the provider's error answer carried its id ({@link UpstreamCallResult}).
 * The router retries and falls back on connect errors, timeouts, 429 and 5xx — never on other 4xx.
 */
export interface ProviderAdapter {
  /** Provider id from config (`providers[].id`). */
  readonly id: string;
  /** Implementation kind (`openai`, `anthropic`, `bedrock`, `ollama`, `mock`). */
  readonly kind: string;
  /** The client API this provider speaks natively (same-schema traffic passes through untouched), or null. */
  readonly nativeApi: ClientApi | null;
  /** A complete answer. `request.model` is the provider's own model id. */
  generate(request: CanonicalRequest, context: ProviderCallContext): Promise<{ response: CanonicalResponse; warnings: TranslationWarning[] } & UpstreamCallResult>;
  /**
   * A streamed answer. Resolves once the upstream has accepted the request (status and headers received), so
   * the router can still retry or fall back; after that, failures surface as an `error` event or a thrown
   * iteration error, and there is no fallback.
   */
  stream(request: CanonicalRequest, context: ProviderCallContext): Promise<{ events: AsyncIterable<StreamEvent>; warnings: TranslationWarning[] } & UpstreamCallResult>;
  /**
   * Sends the caller's exact bytes in the provider's native API (only when `nativeApi` equals the caller's
   * API). `body` may have had its `model` rewritten. Upstream HTTP errors come back as a response, not thrown.
   */
  passthrough?(call: { body: Buffer; stream: boolean }, context: ProviderCallContext): Promise<UpstreamResponse>;
  /** Releases connection pools. */
  close(): Promise<void>;
}
