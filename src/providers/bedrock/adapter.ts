/**
 * The `bedrock` provider: Amazon Bedrock's Converse and ConverseStream APIs through the official
 * `@aws-sdk/client-bedrock-runtime` client, which signs every request with SigV4 (service `bedrock`, the
 * provider's region) using explicit credentials when given, else the standard AWS credential chain (env vars,
 * SSO, shared config/credentials files, web identity, ECS/EC2 instance roles).
 *
 * Transport: the SDK's HTTP/1.1 `NodeHttpHandler` (keep-alive agents) instead of its default HTTP/2 handler, so
 * the per-call timeouts below apply; Converse and ConverseStream are plain request/response over HTTP/1.1.
 * The SDK's own retries are off (`maxAttempts: 1`): the router retries and falls back.
 *
 * Timeouts (ms): `connectTimeoutMs` (adapter option) bounds connecting; per call, `context.firstByteTimeoutMs`
 * bounds the time to the response headers (the SDK's `requestTimeout`) and, for streams, to the first event;
 * `context.idleTimeoutMs` bounds the silence between two stream events. `context.signal` cancels the upstream
 * request (the SDK's `abortSignal`); the call then rejects, or its stream throws, with the signal's reason.
 * Errors: see `errors.ts` (every upstream failure is a `ClawfleetError`); after a stream was accepted, upstream
 * failures and timeouts end it with an `error` event.
 *
 * Tests run the real client against a local fake that speaks Bedrock's wire format, event-stream framing
 * included: verified against recorded wire formats, not live AWS.
 */
import http from "node:http";
import https from "node:https";
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type BedrockRuntimeClientConfig,
  type ConverseStreamOutput,
} from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { CanonicalRequest, CanonicalResponse, StreamEvent, TranslationWarning } from "../../contracts/chat.js";
import { ClawfleetError } from "../../contracts/errors.js";
import type { ProviderAdapter, ProviderCallContext, UpstreamCallResult } from "../../contracts/provider.js";
import { CallAbortController, forwardAbort } from "../../http/call-abort.js";
import { upstreamTimeoutError, type CallTimeouts } from "../shared/upstream-errors.js";
import { abortReason } from "../shared/upstream-http.js";
import { toClawfleetError, toStreamErrorEvent } from "./errors.js";
import { toConverseInput } from "./request.js";
import { fromConverseOutput } from "./response.js";
import { ConverseStreamTranslator } from "./stream.js";

export interface BedrockAdapterOptions {
  /** Provider id from config. */
  id: string;
  /** AWS region of the Bedrock Runtime endpoint, e.g. `us-east-1`. */
  region: string;
  /** Endpoint override (a VPC endpoint, or a local fake in tests), e.g. `http://127.0.0.1:4566`. */
  endpoint?: string;
  /**
   * Explicit AWS credentials (or a provider of them); absent = the standard credential chain. A provider that
   * returns an `expiration` is asked again when it nears expiry, which is how rotated keys are picked up.
   */
  credentials?: BedrockRuntimeClientConfig["credentials"];
  /** Longest time to establish a connection, ms (default 10_000). */
  connectTimeoutMs?: number;
  /** Socket inactivity limit for any call, ms, a backstop behind the per-call idle timeout (default 600_000). */
  socketTimeoutMs?: number;
  /** Keep-alive sockets per origin (default 256). */
  maxSockets?: number;
  /** Clock for `createdAt`, ms since the epoch (default `Date.now`). */
  now?: () => number;
}

export class BedrockAdapter implements ProviderAdapter {
  readonly kind = "bedrock";
  readonly nativeApi = null;
  readonly id: string;
  private readonly client: BedrockRuntimeClient;
  private readonly now: () => number;
  private readonly connectTimeoutMs: number;

  constructor(options: BedrockAdapterOptions) {
    this.id = options.id;
    this.now = options.now ?? Date.now;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const maxSockets = options.maxSockets ?? 256;
    const requestHandler = new NodeHttpHandler({
      connectionTimeout: this.connectTimeoutMs,
      socketTimeout: options.socketTimeoutMs ?? 600_000,
      throwOnRequestTimeout: true,
      httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
    });
    this.client = new BedrockRuntimeClient({
      region: options.region,
      maxAttempts: 1,
      requestHandler,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      // Explicit keys must win over a Bedrock API key that the environment (AWS_BEARER_TOKEN_BEDROCK) may hold.
      ...(options.credentials === undefined ? {} : { credentials: options.credentials, authSchemePreference: ["sigv4"] }),
    });
  }

  async generate(request: CanonicalRequest, context: ProviderCallContext): Promise<{ response: CanonicalResponse; warnings: TranslationWarning[] } & UpstreamCallResult> {
    const { input, warnings } = toConverseInput(request);
    try {
      const output = await this.client.send(new ConverseCommand(input), { abortSignal: context.signal, requestTimeout: context.firstByteTimeoutMs });
      const createdAt = Math.floor(this.now() / 1000);
      const response = fromConverseOutput(output, { id: output.$metadata.requestId ?? context.requestId, model: request.model, createdAt });
      return { response, warnings, upstreamRequestId: output.$metadata.requestId };
    } catch (error) {
      throw this.failure(error, context);
    }
  }

  async stream(request: CanonicalRequest, context: ProviderCallContext): Promise<{ events: AsyncIterable<StreamEvent>; warnings: TranslationWarning[] } & UpstreamCallResult> {
    const { input, warnings } = toConverseInput(request);
    // Aborted by the caller's signal (forwarded until the stream ends), or by the first-event / idle watchdog
    // below. Not `AbortSignal.any`: it needs Node's own signals, and on Node 20 its result stays reachable
    // from the source signal (nodejs/node#54614).
    const local = new CallAbortController();
    const stopForwarding = forwardAbort(context.signal, local);
    let output;
    try {
      output = await this.client.send(new ConverseStreamCommand(input), { abortSignal: local.signal, requestTimeout: context.firstByteTimeoutMs });
    } catch (error) {
      stopForwarding();
      throw this.failure(error, context);
    }
    const source = output.stream;
    if (!source) {
      stopForwarding();
      local.abort();
      throw new ClawfleetError("CF_UPSTREAM_ERROR", `provider ${this.id} answered a stream without a body`, {
        status: 502,
        details: { provider: this.id, upstreamStatus: output.$metadata.httpStatusCode ?? null, upstreamType: null, upstreamMessage: null },
      });
    }
    const translator = new ConverseStreamTranslator({ id: output.$metadata.requestId ?? context.requestId, model: request.model, createdAt: Math.floor(this.now() / 1000) });
    return { events: this.translateStream(source, translator, local, context, stopForwarding), warnings, upstreamRequestId: output.$metadata.requestId };
  }

  private async *translateStream(
    source: AsyncIterable<ConverseStreamOutput>,
    translator: ConverseStreamTranslator,
    local: CallAbortController,
    context: ProviderCallContext,
    stopForwarding: () => void,
  ): AsyncGenerator<StreamEvent> {
    let timedOut: ClawfleetError | undefined;
    let timer: NodeJS.Timeout | undefined;
    let drained = false;
    // The watchdog runs only while waiting for the upstream, never while the consumer holds an event.
    const arm = (ms: number, phase: "first_byte" | "idle") => {
      timer = setTimeout(() => {
        timedOut = upstreamTimeoutError(this.id, phase, ms);
        local.abort(timedOut);
      }, ms);
    };
    arm(context.firstByteTimeoutMs, "first_byte");
    try {
      for await (const event of source) {
        clearTimeout(timer);
        // After `finish`, the rest (nothing, per the API) is read and ignored so the connection can be reused.
        for (const canonical of translator.translate(event)) yield canonical;
        arm(context.idleTimeoutMs, "idle");
      }
      clearTimeout(timer);
      drained = true;
      yield* translator.end();
    } catch (error) {
      clearTimeout(timer);
      if (context.signal.aborted) throw abortReason(context.signal);
      yield* translator.fail(toStreamErrorEvent(timedOut ?? this.upstreamFailure(error, context)));
    } finally {
      clearTimeout(timer);
      // Cancels the upstream request when the consumer stopped early or the stream failed.
      if (!drained) local.abort();
      stopForwarding();
    }
  }

  /** Maps a thrown error; a call the caller cancelled is reported with the abort reason (the router's error, or an AbortError). */
  private failure(error: unknown, context: ProviderCallContext): Error {
    return context.signal.aborted ? abortReason(context.signal) : this.upstreamFailure(error, context);
  }

  private upstreamFailure(error: unknown, context: ProviderCallContext): ClawfleetError {
    const timeouts: CallTimeouts = { connectTimeoutMs: this.connectTimeoutMs, firstByteTimeoutMs: context.firstByteTimeoutMs, idleTimeoutMs: context.idleTimeoutMs };
    return toClawfleetError(this.id, error, timeouts, this.now());
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
