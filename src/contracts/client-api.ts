/**
 * The client-API codec contract: how the gateway reads one client API (OpenAI Chat Completions, OpenAI
 * Responses, Anthropic Messages) into canonical form and writes canonical answers back in that API's exact
 * wire format. Implementations live in `src/apis/<api>/` as pure functions (no I/O, no config).
 */
import type { CanonicalRequest, CanonicalResponse, ClientApi, JsonObject, StreamEvent, TranslationWarning } from "./chat.js";
import type { ClawfleetError } from "./errors.js";

export interface DecodedRequest {
  request: CanonicalRequest;
  /** Parameters the canonical form cannot carry (reported to the caller, never silently dropped). */
  warnings: TranslationWarning[];
}

/** Writes one streamed answer: call `encode` per event, in order; each call returns the SSE text to send. */
export interface StreamEncoder {
  encode(event: StreamEvent): string;
}

export interface ClientApiCodec {
  readonly api: ClientApi;
  /** The path this API is served on, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /**
   * Decodes and validates a request body (already parsed JSON).
   * @throws ClawfleetError CF_VALIDATION_FAILED with `details.param` naming the offending field.
   */
  decodeRequest(body: unknown): DecodedRequest;
  /** Encodes a complete answer; `model` is the model id to report (the one the caller asked for). */
  encodeResponse(response: CanonicalResponse, model: string): JsonObject;
  /** A fresh encoder for one streamed answer. */
  createStreamEncoder(model: string, options: { includeUsage: boolean }): StreamEncoder;
  /** The error body in this API's own error shape. */
  encodeError(error: ClawfleetError): JsonObject;
}
