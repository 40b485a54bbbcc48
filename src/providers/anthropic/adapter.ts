/**
 * Anthropic Messages (https://docs.anthropic.com/en/api/messages) over an undici keep-alive pool. Requests carry
 * `x-api-key` and `anthropic-version: 2023-06-01`. Same-schema traffic (an Anthropic Messages caller) goes
 * through {@link AnthropicAdapter.passthrough}, byte for byte.
 */
import type { CanonicalRequest, CanonicalResponse, StreamEvent, TranslationWarning } from "../../contracts/chat.js";
import type { ProviderAdapter, ProviderCallContext, UpstreamCallResult, UpstreamResponse } from "../../contracts/provider.js";
import { headerValue } from "../shared/upstream-errors.js";
import { decodeJsonReply, decodeStreamEvents, forwardedHeaders, UpstreamHttpClient, type UpstreamReply } from "../shared/upstream-http.js";
import { ANTHROPIC_REQUEST_ID_HEADER, decodeAnthropicErrorResponse } from "./errors.js";
import { encodeMessagesRequest } from "./request.js";
import { AnthropicResponseFormatError, decodeMessagesResponse } from "./response.js";
import { AnthropicStreamDecoder } from "./stream.js";
import { ANTHROPIC_VERSION } from "./wire.js";

/** Upstream response headers passed on to a pass-through caller. */
const FORWARDED_RESPONSE_HEADERS = /^(content-type|retry-after|request-id|x-should-retry|anthropic-[a-z-]+)$/;

export interface AnthropicAdapterOptions {
  /** Provider id from config. */
  id: string;
  /** Base URL without the version path, as the official SDK takes it (default `https://api.anthropic.com`). */
  baseUrl?: string;
  /** Returns the provider API key at call time (so rotation needs no restart). */
  apiKey: () => string;
  /** Extra request headers (e.g. `anthropic-beta`); cannot replace `x-api-key` or `anthropic-version`. */
  headers?: Record<string, string>;
  /** Keep-alive connections per origin (default 128). */
  connections?: number;
}

export class AnthropicAdapter implements ProviderAdapter {
  readonly id: string;
  readonly kind = "anthropic";
  readonly nativeApi = "anthropic-messages" as const;
  private readonly http: UpstreamHttpClient;

  constructor(private readonly options: AnthropicAdapterOptions) {
    this.id = options.id;
    this.http = new UpstreamHttpClient({
      providerId: options.id,
      baseUrl: options.baseUrl ?? "https://api.anthropic.com",
      ...(options.connections === undefined ? {} : { connections: options.connections }),
    });
  }

  async generate(request: CanonicalRequest, context: ProviderCallContext): Promise<{ response: CanonicalResponse; warnings: TranslationWarning[] } & UpstreamCallResult> {
    const { body, warnings } = encodeMessagesRequest({ ...request, stream: false });
    const reply = await this.send(JSON.stringify(body), false, context);
    await this.throwIfError(reply);
    return { response: await decodeJsonReply(reply, this.id, (parsed) => decodeMessagesResponse(parsed, Math.floor(Date.now() / 1000)), AnthropicResponseFormatError), warnings, upstreamRequestId: headerValue(reply.headers, ANTHROPIC_REQUEST_ID_HEADER) };
  }

  async stream(request: CanonicalRequest, context: ProviderCallContext): Promise<{ events: AsyncIterable<StreamEvent>; warnings: TranslationWarning[] } & UpstreamCallResult> {
    const { body, warnings } = encodeMessagesRequest({ ...request, stream: true });
    const reply = await this.send(JSON.stringify(body), true, context);
    await this.throwIfError(reply);
    return { events: decodeStreamEvents(reply.body, new AnthropicStreamDecoder(Math.floor(Date.now() / 1000))), warnings, upstreamRequestId: headerValue(reply.headers, ANTHROPIC_REQUEST_ID_HEADER) };
  }

  /** Forwards the caller's exact bytes to `/v1/messages`; upstream HTTP errors come back as a response. */
  async passthrough(call: { body: Buffer; stream: boolean }, context: ProviderCallContext): Promise<UpstreamResponse> {
    const reply = await this.send(call.body, call.stream, context);
    return { status: reply.status, headers: forwardedHeaders(reply.headers, FORWARDED_RESPONSE_HEADERS), body: reply.body, bytes: () => reply.bytes(), upstreamRequestId: headerValue(reply.headers, ANTHROPIC_REQUEST_ID_HEADER) };
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private send(body: string | Buffer, stream: boolean, context: ProviderCallContext): Promise<UpstreamReply> {
    const headers: Record<string, string> = {
      ...this.options.headers,
      "content-type": "application/json",
      accept: stream ? "text/event-stream" : "application/json",
      "x-api-key": this.options.apiKey(),
      "anthropic-version": ANTHROPIC_VERSION,
    };
    return this.http.request({ path: "/v1/messages", headers, body, stream }, context);
  }

  private async throwIfError(reply: UpstreamReply): Promise<void> {
    if (reply.status < 400) return;
    const bodyText = await reply.text(64 * 1024);
    throw decodeAnthropicErrorResponse({ providerId: this.id, status: reply.status, headers: reply.headers, bodyText, nowMs: Date.now() });
  }
}
