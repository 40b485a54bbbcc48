/**
 * OpenAI and any OpenAI-compatible server (vLLM, Together, Groq, LM Studio, …): Chat Completions over an
 * undici keep-alive pool (https://platform.openai.com/docs/api-reference/chat/create). The one shared base for
 * every Chat Completions upstream: give it `{id, baseUrl, apiKey, headers?}`.
 *
 * Same-schema traffic (an OpenAI Chat Completions caller) goes through {@link OpenAICompatibleAdapter.passthrough}
 * and is forwarded byte for byte (as envoy ai-gateway's `openai_openai` translator does): the only change is
 * the `Authorization` header, which carries the provider key.
 */
import type { CanonicalRequest, CanonicalResponse, StreamEvent, TranslationWarning } from "../../contracts/chat.js";
import type { ProviderAdapter, ProviderCallContext, UpstreamCallResult, UpstreamResponse } from "../../contracts/provider.js";
import { headerValue } from "../shared/upstream-errors.js";
import { decodeJsonReply, decodeStreamEvents, forwardedHeaders, UpstreamHttpClient, type UpstreamReply } from "../shared/upstream-http.js";
import { OPENAI_REQUEST_ID_HEADER, decodeOpenAIErrorResponse } from "./errors.js";
import { encodeChatRequest, type OpenAIRequestOptions } from "./request.js";
import { decodeChatCompletion, OpenAIResponseFormatError } from "./response.js";
import { OpenAIStreamDecoder } from "./stream.js";

/** Upstream response headers passed on to a pass-through caller. */
const FORWARDED_RESPONSE_HEADERS = /^(content-type|retry-after|retry-after-ms|x-request-id|openai-[a-z-]+|x-ratelimit-[a-z-]+)$/;

export interface OpenAIAdapterOptions extends OpenAIRequestOptions {
  /** Provider id from config. */
  id: string;
  /** Base URL including the API version path, e.g. `https://api.openai.com/v1` or `http://vllm:8000/v1`. */
  baseUrl: string;
  /** Returns the provider API key at call time (so rotation needs no restart); "" sends no `Authorization`. */
  apiKey: () => string;
  /** Extra request headers (e.g. `OpenAI-Organization`); cannot replace `Authorization`. */
  headers?: Record<string, string>;
  /** Implementation kind reported by the adapter (default `openai`). */
  kind?: string;
  /** Keep-alive connections per origin (default 128). */
  connections?: number;
}

export class OpenAICompatibleAdapter implements ProviderAdapter {
  readonly id: string;
  readonly kind: string;
  readonly nativeApi = "openai-chat" as const;
  private readonly http: UpstreamHttpClient;

  constructor(private readonly options: OpenAIAdapterOptions) {
    this.id = options.id;
    this.kind = options.kind ?? "openai";
    this.http = new UpstreamHttpClient({ providerId: options.id, baseUrl: options.baseUrl, ...(options.connections === undefined ? {} : { connections: options.connections }) });
  }

  async generate(request: CanonicalRequest, context: ProviderCallContext): Promise<{ response: CanonicalResponse; warnings: TranslationWarning[] } & UpstreamCallResult> {
    const { body, warnings } = encodeChatRequest({ ...request, stream: false }, this.options);
    const reply = await this.send(JSON.stringify(body), false, context);
    await this.throwIfError(reply);
    return { response: await decodeJsonReply(reply, this.id, (parsed) => decodeChatCompletion(parsed), OpenAIResponseFormatError), warnings, upstreamRequestId: headerValue(reply.headers, OPENAI_REQUEST_ID_HEADER) };
  }

  async stream(request: CanonicalRequest, context: ProviderCallContext): Promise<{ events: AsyncIterable<StreamEvent>; warnings: TranslationWarning[] } & UpstreamCallResult> {
    const { body, warnings } = encodeChatRequest({ ...request, stream: true }, this.options);
    const reply = await this.send(JSON.stringify(body), true, context);
    await this.throwIfError(reply);
    const decoder = new OpenAIStreamDecoder({ id: `chatcmpl-${context.requestId}`, model: request.model, createdAt: Math.floor(Date.now() / 1000) });
    return { events: decodeStreamEvents(reply.body, decoder), warnings, upstreamRequestId: headerValue(reply.headers, OPENAI_REQUEST_ID_HEADER) };
  }

  /** Forwards the caller's exact bytes to `/chat/completions`; upstream HTTP errors come back as a response. */
  async passthrough(call: { body: Buffer; stream: boolean }, context: ProviderCallContext): Promise<UpstreamResponse> {
    const reply = await this.send(call.body, call.stream, context);
    return { status: reply.status, headers: forwardedHeaders(reply.headers, FORWARDED_RESPONSE_HEADERS), body: reply.body, bytes: () => reply.bytes(), upstreamRequestId: headerValue(reply.headers, OPENAI_REQUEST_ID_HEADER) };
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private send(body: string | Buffer, stream: boolean, context: ProviderCallContext): Promise<UpstreamReply> {
    const apiKey = this.options.apiKey();
    const headers: Record<string, string> = {
      ...this.options.headers,
      "content-type": "application/json",
      accept: stream ? "text/event-stream" : "application/json",
      "x-request-id": context.requestId,
    };
    if (apiKey !== "") headers.authorization = `Bearer ${apiKey}`;
    return this.http.request({ path: "/chat/completions", headers, body, stream }, context);
  }

  private async throwIfError(reply: UpstreamReply): Promise<void> {
    if (reply.status < 400) return;
    const bodyText = await reply.text(64 * 1024);
    throw decodeOpenAIErrorResponse({ providerId: this.id, status: reply.status, headers: reply.headers, bodyText, nowMs: Date.now() });
  }
}

/** The adapter for OpenAI itself (same class; kept under the name the composition root uses). */
export { OpenAICompatibleAdapter as OpenAIAdapter };
