/**
 * Ollama's native chat API (`POST /api/chat`, NDJSON streaming) over an undici keep-alive pool
 * (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion). Ollama speaks none of the
 * client APIs, so there is no pass-through. Ollama needs no key; one is sent as `Authorization: Bearer` when
 * configured (Ollama behind an authenticating proxy, or ollama.com).
 */
import type { CanonicalRequest, CanonicalResponse, StreamEvent, TranslationWarning } from "../../contracts/chat.js";
import type { ProviderAdapter, ProviderCallContext } from "../../contracts/provider.js";
import { decodeJsonReply, decodeStreamEvents, UpstreamHttpClient, type UpstreamReply } from "../shared/upstream-http.js";
import { decodeOllamaErrorResponse } from "./errors.js";
import { encodeOllamaChatRequest } from "./request.js";
import { decodeOllamaChatResponse, OllamaResponseFormatError } from "./response.js";
import { OllamaStreamDecoder } from "./stream.js";

/** Ollama's default address. */
export const DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434";

/**
 * A base URL from an `OLLAMA_HOST`-style value, as the Ollama CLI reads it: `host`, `host:port`, or a URL.
 * No scheme means `http`; no port without a scheme means 11434; an unspecified address (`0.0.0.0`, `::`), which
 * a server binds but a client cannot dial, means loopback. Empty → {@link DEFAULT_OLLAMA_HOST}.
 */
export function ollamaBaseUrl(host: string | undefined): string {
  const value = host?.trim() ?? "";
  if (value === "") return DEFAULT_OLLAMA_HOST;
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  const url = new URL(hasScheme ? value : `http://${value}`);
  if (!hasScheme && url.port === "") url.port = "11434";
  if (url.hostname === "0.0.0.0") url.hostname = "127.0.0.1";
  if (url.hostname === "[::]") url.hostname = "[::1]";
  return url.toString().replace(/\/+$/, "");
}

export interface OllamaAdapterOptions {
  /** Provider id from config. */
  id: string;
  /** `OLLAMA_HOST`-style address (see {@link ollamaBaseUrl}); default `http://127.0.0.1:11434`. */
  host?: string;
  /** Returns a key sent as `Authorization: Bearer` (optional; "" sends none). */
  apiKey?: () => string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Keep-alive connections per origin (default 128). */
  connections?: number;
}

export class OllamaAdapter implements ProviderAdapter {
  readonly id: string;
  readonly kind = "ollama";
  readonly nativeApi = null;
  private readonly http: UpstreamHttpClient;

  constructor(private readonly options: OllamaAdapterOptions) {
    this.id = options.id;
    this.http = new UpstreamHttpClient({
      providerId: options.id,
      baseUrl: ollamaBaseUrl(options.host),
      ...(options.connections === undefined ? {} : { connections: options.connections }),
    });
  }

  async generate(request: CanonicalRequest, context: ProviderCallContext): Promise<{ response: CanonicalResponse; warnings: TranslationWarning[] }> {
    const { body, warnings } = encodeOllamaChatRequest({ ...request, stream: false });
    const reply = await this.send(JSON.stringify(body), false, context);
    await this.throwIfError(reply);
    return { response: await decodeJsonReply(reply, this.id, (parsed) => decodeOllamaChatResponse(parsed, this.identity(context)), OllamaResponseFormatError), warnings };
  }

  async stream(request: CanonicalRequest, context: ProviderCallContext): Promise<{ events: AsyncIterable<StreamEvent>; warnings: TranslationWarning[] }> {
    const { body, warnings } = encodeOllamaChatRequest({ ...request, stream: true });
    const reply = await this.send(JSON.stringify(body), true, context);
    await this.throwIfError(reply);
    return { events: decodeStreamEvents(reply.body, new OllamaStreamDecoder(this.identity(context))), warnings };
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private identity(context: ProviderCallContext): { id: string; createdAt: number } {
    return { id: `ollama-${context.requestId}`, createdAt: Math.floor(Date.now() / 1000) };
  }

  private send(body: string, stream: boolean, context: ProviderCallContext): Promise<UpstreamReply> {
    const headers: Record<string, string> = {
      ...this.options.headers,
      "content-type": "application/json",
      accept: stream ? "application/x-ndjson" : "application/json",
    };
    const apiKey = this.options.apiKey?.() ?? "";
    if (apiKey !== "") headers.authorization = `Bearer ${apiKey}`;
    return this.http.request({ path: "/api/chat", headers, body, stream }, context);
  }

  private async throwIfError(reply: UpstreamReply): Promise<void> {
    if (reply.status < 400) return;
    const bodyText = await reply.text(64 * 1024);
    throw decodeOllamaErrorResponse({ providerId: this.id, status: reply.status, headers: reply.headers, bodyText, nowMs: Date.now() });
  }
}
