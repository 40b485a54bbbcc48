/**
 * The provider adapter contract: how the model gateway calls one upstream model provider. Implementations
 * live in `src/providers/<kind>/`, are built by the composition root, and are never imported by core code.
 */

/** One OpenAI Chat Completions call as the gateway hands it to a provider. */
export interface ChatCompletionCall {
  /** The parsed request body (OpenAI Chat Completions shape), `model` already set to the provider's model id. */
  body: Record<string, unknown>;
  /**
   * The caller's exact bytes when the body did not change on the way (same schema, same model id): an
   * OpenAI-compatible provider forwards them untouched. Null when the gateway rewrote the body.
   */
  rawBody: Buffer | null;
  /** True when the caller asked for SSE (`"stream": true`). */
  stream: boolean;
  requestId: string;
  /** Aborted when the caller disconnects: the provider must cancel the upstream request. */
  signal: AbortSignal;
}

/** The upstream's answer, streamed: the gateway pipes `body` to the caller as it arrives. */
export interface UpstreamResponse {
  /** HTTP status from the upstream (its own error statuses are passed on). */
  status: number;
  /** Response headers worth passing on (lowercase names): content-type, retry-after, x-ratelimit-*, openai-*. */
  headers: Record<string, string>;
  body: AsyncIterable<Uint8Array>;
}

/** A model the provider offers, as listed by `/v1/models`. */
export interface ProviderModel {
  id: string;
  ownedBy: string;
}

export interface ProviderAdapter {
  /** Provider id from config (`providers[].id`). */
  readonly id: string;
  /** Implementation kind (`openai`, `mock`, …). */
  readonly kind: string;
  /**
   * Performs one Chat Completions call.
   * @throws ClawfleetError CF_UPSTREAM_UNREACHABLE (connect error, reset), CF_UPSTREAM_TIMEOUT (no headers in
   *   time). Upstream HTTP errors are not thrown: they come back as an {@link UpstreamResponse} with their status.
   */
  chatCompletions(call: ChatCompletionCall): Promise<UpstreamResponse>;
  /** Releases connection pools. */
  close(): Promise<void>;
}
