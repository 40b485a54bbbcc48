/**
 * The one place provider adapters do HTTP: an undici keep-alive `Pool` per origin, the call context's time
 * limits and abort signal, and transport failures mapped to the contract's `ClawfleetError`s.
 *
 * Time limits (from `ProviderCallContext`, ms):
 * - connect: undici's `connect.timeout`. It is a pool option, so there is one pool per distinct connect
 *   limit (in practice one per origin: the router's limits come from config).
 * - first byte: undici's per-request `headersTimeout`; for a streamed answer the first body chunk must also
 *   arrive within the same budget, counted from the moment the request was sent. Waiting for that chunk
 *   before resolving lets the router still retry or fall back when an upstream accepts and then stays silent.
 * - idle: undici's per-request `bodyTimeout` (longest silence between two body chunks).
 * Precision: undici runs `headersTimeout` and `bodyTimeout` on its coarse "fast timers" (about 1 s resolution,
 * `undici/lib/util/timers.js`), so those two fire between the limit and roughly one second after it; the
 * first-event wait of a stream uses a native timer and is exact to the millisecond.
 * Abort: the context's signal is given to undici, which cancels the request and closes its connection; the
 * error raised is then the signal's `reason` (the router's own `CF_UPSTREAM_TIMEOUT`, or the caller's abort).
 */
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import type { StreamEvent } from "../../contracts/chat.js";
import type { ProviderCallContext } from "../../contracts/provider.js";
import { invalidUpstreamResponseError, type ResponseHeaders, transportError, upstreamTimeoutError } from "./upstream-errors.js";

/** Options of {@link UpstreamHttpClient}. */
export interface UpstreamHttpClientOptions {
  /** Provider id (for error messages and details). */
  providerId: string;
  /** Base URL; its path is prefixed to every request path, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Keep-alive connections per origin (default 128). */
  connections?: number;
  /** How long an idle keep-alive connection is kept, in ms (default 30 000). */
  keepAliveTimeoutMs?: number;
}

/** One POST to the upstream. */
export interface UpstreamRequest {
  /** Path under the base URL's path, e.g. `/chat/completions`. */
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
  /** A streamed answer: the first body chunk must arrive within the first-byte limit too. */
  stream: boolean;
}

/** The upstream's answer, body not yet read. */
export interface UpstreamReply {
  status: number;
  /** Lower-case header names. */
  headers: ResponseHeaders;
  /**
   * The body, chunk by chunk; iterate it once. Failures while reading are thrown as `ClawfleetError`
   * (`CF_UPSTREAM_TIMEOUT` phase `idle`, `CF_UPSTREAM_UNREACHABLE`) or the abort reason. Leaving the loop early
   * closes the connection.
   */
  body: AsyncIterable<Uint8Array>;
  /**
   * Reads the whole body in one piece (undici's `body.bytes()`: no iteration per chunk, for an answer that is
   * used whole, such as a JSON document). Use either this or `body`, once. Fails like `body`.
   */
  bytes(): Promise<Buffer>;
  /** Reads the body as UTF-8 text, keeping at most `limitBytes` (default 1 MiB) and discarding the rest. */
  text(limitBytes?: number): Promise<string>;
}

const DEFAULT_TEXT_LIMIT_BYTES = 1024 * 1024;
const CLOSE_GRACE_MS = 1_000;

/** Largest JSON answer read whole, bytes. */
const JSON_ANSWER_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Reads a complete JSON answer (up to 64 MiB) and decodes it with the provider's response translator.
 * @throws ClawfleetError CF_UPSTREAM_ERROR (invalid upstream response) when the body is not JSON or `decode`
 *   throws the provider's `formatError`; other errors from `decode` pass through.
 */
export async function decodeJsonReply<T>(reply: UpstreamReply, providerId: string, decode: (parsed: unknown) => T, formatError: abstract new (...args: never[]) => Error): Promise<T> {
  const text = await reply.text(JSON_ANSWER_LIMIT_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidUpstreamResponseError(providerId, reply.status, "the body is not JSON", error);
  }
  try {
    return decode(parsed);
  } catch (error) {
    if (error instanceof formatError) throw invalidUpstreamResponseError(providerId, reply.status, error.message, error);
    throw error;
  }
}

/** The reason an aborted signal carries, as an Error (the router's `ClawfleetError`, or an `AbortError`). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error("the request was aborted");
  error.name = "AbortError";
  return error;
}

/** A keep-alive HTTP client for one provider base URL. */
export class UpstreamHttpClient {
  private readonly pools = new Map<number, Pool>();
  private readonly origin: string;
  private readonly basePath: string;

  constructor(private readonly options: UpstreamHttpClientOptions) {
    const url = new URL(options.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, "");
  }

  /**
   * Sends the request and resolves once the status and headers are in (and, for a stream with a success
   * status, the first body chunk).
   * @throws ClawfleetError CF_UPSTREAM_TIMEOUT (connect / first_byte), CF_UPSTREAM_UNREACHABLE; or the abort reason.
   */
  async request(request: UpstreamRequest, context: ProviderCallContext): Promise<UpstreamReply> {
    const { signal } = context;
    if (signal.aborted) throw abortReason(signal);
    const startedAt = performance.now();
    const failure = (error: unknown): Error => (signal.aborted ? abortReason(signal) : transportError(this.options.providerId, error, context));
    let response: Awaited<ReturnType<Pool["request"]>>;
    try {
      response = await this.pool(context.connectTimeoutMs).request({
        method: "POST",
        path: `${this.basePath}${request.path}`,
        headers: request.headers,
        body: request.body,
        signal,
        headersTimeout: context.firstByteTimeoutMs,
        bodyTimeout: context.idleTimeoutMs,
      });
    } catch (error) {
      throw failure(error);
    }
    const readable = response.body;
    const iterator: AsyncIterator<Uint8Array> = readable[Symbol.asyncIterator]();
    let first: IteratorResult<Uint8Array> | undefined;
    if (request.stream && response.statusCode < 400) {
      const remainingMs = Math.max(1, context.firstByteTimeoutMs - (performance.now() - startedAt));
      first = await new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
        const timer = setTimeout(() => {
          readable.destroy();
          reject(upstreamTimeoutError(this.options.providerId, "first_byte", context.firstByteTimeoutMs));
        }, remainingMs);
        iterator.next().then(
          (result) => {
            clearTimeout(timer);
            resolve(result);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(failure(error));
          },
        );
      });
    }
    const body = chunksOf(first, iterator, () => readable.destroy(), failure);
    return {
      status: response.statusCode,
      headers: response.headers,
      body,
      async bytes(): Promise<Buffer> {
        if (first !== undefined) return Buffer.concat(await collect(body));
        try {
          const whole = await readable.bytes();
          return Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength);
        } catch (error) {
          readable.destroy();
          throw failure(error);
        }
      },
      async text(limitBytes = DEFAULT_TEXT_LIMIT_BYTES): Promise<string> {
        const parts: Uint8Array[] = [];
        let size = 0;
        for await (const chunk of body) {
          parts.push(chunk);
          size += chunk.byteLength;
          if (size >= limitBytes) break;
        }
        return Buffer.concat(parts).subarray(0, limitBytes).toString("utf8");
      },
    };
  }

  /** Closes every pool: waits up to 1 s for requests in flight, then destroys what remains. */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(
      pools.map(async (pool) => {
        let timer: NodeJS.Timeout | undefined;
        const graceful = pool.close().then(() => true);
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS);
        });
        const closed = await Promise.race([graceful, timedOut]);
        clearTimeout(timer);
        if (!closed) await pool.destroy();
      }),
    );
  }

  private pool(connectTimeoutMs: number): Pool {
    let pool = this.pools.get(connectTimeoutMs);
    if (pool === undefined) {
      pool = new Pool(this.origin, {
        connections: this.options.connections ?? 128,
        pipelining: 1,
        keepAliveTimeout: this.options.keepAliveTimeoutMs ?? 30_000,
        connect: { timeout: connectTimeoutMs },
      });
      this.pools.set(connectTimeoutMs, pool);
    }
    return pool;
  }
}

/** Every chunk of `body`, in order (a stream answer whose first chunk was already read, wanted whole). */
async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for await (const chunk of body) parts.push(chunk);
  return parts;
}

async function* chunksOf(
  first: IteratorResult<Uint8Array> | undefined,
  iterator: AsyncIterator<Uint8Array>,
  destroy: () => void,
  failure: (error: unknown) => Error,
): AsyncGenerator<Uint8Array, void, undefined> {
  let complete = false;
  try {
    if (first !== undefined) {
      if (first.done === true) {
        complete = true;
        return;
      }
      yield first.value;
    }
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw failure(error);
      }
      if (next.done === true) {
        complete = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!complete) destroy();
  }
}

/** Headers of a reply whose lower-case name matches `pattern` (first value each), for a pass-through caller. */
export function forwardedHeaders(headers: ResponseHeaders, pattern: RegExp): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && pattern.test(name)) forwarded[name] = first;
  }
  return forwarded;
}

/** An incremental stream decoder: body chunks in, canonical events out (see each provider's `stream.ts`). */
export interface StreamDecoder {
  push(chunk: Uint8Array): StreamEvent[];
  end(): StreamEvent[];
}

/**
 * Decoded events of a streamed body. After `finish` the (normally empty) rest of the body is still read, so the
 * keep-alive connection can be reused; after an `error` event the loop stops, which closes the connection.
 */
export async function* decodeStreamEvents(body: AsyncIterable<Uint8Array>, decoder: StreamDecoder): AsyncGenerator<StreamEvent, void, undefined> {
  for await (const chunk of body) {
    for (const event of decoder.push(chunk)) {
      yield event;
      if (event.type === "error") return;
    }
  }
  yield* decoder.end();
}
