/**
 * The machinery shared by the fake Anthropic and fake Ollama upstreams (`fake-anthropic.ts`, `fake-ollama.ts`):
 * a `node:http` server on 127.0.0.1 that replays wire fixtures, records every request (headers and body), and
 * can be scripted per request to fail: HTTP errors, a connection reset, a stall mid-stream, slow headers or a
 * slow first body byte. Each fake supplies its dialect (route, fixture files, stream framing, error shape).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/** One HTTP request received by a fake. */
export interface RecordedRequest {
  method: string;
  /** Request target as sent, e.g. `/v1/messages`. */
  path: string;
  /** Node's lower-cased request headers. */
  headers: Record<string, string | string[] | undefined>;
  /** `rawBody` parsed as JSON, or undefined when empty or not JSON. */
  body: unknown;
  rawBody: string;
}

/** Delays a fixture reply, in ms. */
export interface ReplyTiming {
  /** Wait before sending the status and headers (a slow first byte). */
  headersDelayMs?: number;
  /** Send the headers at once, then wait this long before the first body byte (streams only). */
  firstChunkDelayMs?: number;
  /** Wait between two stream lines. */
  chunkDelayMs?: number;
  /**
   * Write the body in pieces of this many bytes (a few bytes = chunk boundaries inside JSON, inside multi-byte
   * characters, between `\r` and `\n`…), instead of one write per stream line.
   */
  pieceBytes?: number;
}

/** What a fake answers to one request on its route. */
export type ScriptedReply =
  /** Replay fixture `<name>`: its JSON file to a non-streaming request, its stream file to a streaming one (with its status). */
  | ({ kind: "fixture"; name: string } & ReplyTiming)
  /** HTTP error `status`; `body` (a string is sent as is) defaults to the dialect's error shape. */
  | { kind: "error"; status: number; body?: unknown; headers?: Record<string, string> }
  /** Exactly these bytes with this status and content type (for malformed streams). */
  | ({ kind: "raw"; status: number; contentType: string; body: string } & ReplyTiming)
  /** Destroy the socket without answering. */
  | { kind: "reset" }
  /** Headers, then the first `afterChunks` lines of stream fixture `name`, then silence until the client leaves or `close()`. */
  | { kind: "stall"; name: string; afterChunks: number };

/** How one provider's wire format looks to the fake. */
export interface FakeDialect {
  /** Name used in error messages, e.g. `fake-anthropic`. */
  name: string;
  /** The one route served, e.g. `/v1/messages`. */
  route: string;
  fixtureDirectory: string;
  /** File extension of stream fixtures, e.g. `.chunks.txt`. */
  streamExtension: string;
  streamContentType: string;
  /** Wire text of one stream fixture line (e.g. an SSE event). */
  frameStreamLine: (line: string) => string;
  /** Whether a request body asks for a stream. */
  isStreamRequest: (body: unknown) => boolean;
  /** The provider's error body for a status. */
  errorBody: (status: number) => unknown;
  /** Headers added to every answer (request ids…). */
  standardHeaders: () => Record<string, string>;
  /** Checks a request body as the real API would; a message means a 400 in the dialect's error shape. */
  validateRequest: (body: unknown) => string | null;
  /** The dialect's 400 body for a validation message. */
  validationErrorBody: (message: string) => unknown;
}

/** A fixture as stored. */
export interface LoadedFixture {
  status: number;
  headers: Record<string, string>;
  jsonText: string | undefined;
  /** Non-empty lines of the stream file. */
  streamLines: string[] | undefined;
}

/** A running fake. */
export interface ScriptedFake {
  /** Base URL, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request received, in order (live array). */
  requests: RecordedRequest[];
  /** Queue replies for the next requests on the route, in order. */
  enqueue(...replies: ScriptedReply[]): void;
  /** Reply when nothing is queued (default: fixture `text`). */
  setDefault(reply: ScriptedReply): void;
  /** Responses the client closed before the fake finished writing them (aborts, timeouts). */
  readonly clientDisconnects: number;
  /** TCP connections accepted so far (keep-alive reuse keeps this low). */
  readonly connections: number;
  /** Resolves once `clientDisconnects` reaches `count`; rejects after `timeoutMs`. */
  waitForClientDisconnects(count: number, timeoutMs: number): Promise<void>;
  /** Stop listening and destroy every connection. Idempotent. */
  close(): Promise<void>;
}

/** Reads fixture `name` of a dialect: `<name>.json`, `<name><streamExtension>`, optional `<name>.http.json`. */
export async function loadFixture(dialect: FakeDialect, name: string): Promise<LoadedFixture> {
  const base = path.join(dialect.fixtureDirectory, name);
  const read = async (file: string) => (existsSync(file) ? readFile(file, "utf8") : undefined);
  const [jsonText, streamText, httpText] = await Promise.all([read(`${base}.json`), read(`${base}${dialect.streamExtension}`), read(`${base}.http.json`)]);
  if (jsonText === undefined && streamText === undefined) throw new Error(`${dialect.name}: no fixture ${name}`);
  const meta = httpText === undefined ? { status: 200, headers: {} } : (JSON.parse(httpText) as { status: number; headers: Record<string, string> });
  return { status: meta.status, headers: meta.headers, jsonText, streamLines: streamText?.split("\n").filter((line) => line.trim() !== "") };
}

const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Starts a fake for `dialect` on 127.0.0.1 (any free port). */
export async function startScriptedFake(dialect: FakeDialect): Promise<ScriptedFake> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  let defaultReply: ScriptedReply = { kind: "fixture", name: "text" };
  let clientDisconnects = 0;
  let connections = 0;
  const disconnectWaiters: Array<{ count: number; resolve: () => void }> = [];

  function noteDisconnect(): void {
    clientDisconnects += 1;
    for (const waiter of [...disconnectWaiters]) {
      if (clientDisconnects >= waiter.count) {
        disconnectWaiters.splice(disconnectWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  async function writeBody(response: http.ServerResponse, pieces: string[], timing: ReplyTiming): Promise<void> {
    if (timing.firstChunkDelayMs !== undefined) await sleep(timing.firstChunkDelayMs);
    const writes: Array<string | Buffer> = timing.pieceBytes === undefined ? pieces : splitBytes(pieces.join(""), timing.pieceBytes);
    for (const [position, piece] of writes.entries()) {
      if (response.destroyed) return;
      if (position > 0 && timing.chunkDelayMs !== undefined) await sleep(timing.chunkDelayMs);
      response.write(piece);
    }
    response.end();
  }

  async function answer(request: http.IncomingMessage, response: http.ServerResponse, body: unknown): Promise<void> {
    const reply = queue.shift() ?? defaultReply;
    const streaming = dialect.isStreamRequest(body);
    switch (reply.kind) {
      case "reset":
        request.socket.destroy();
        return;
      case "error": {
        const errorBody = reply.body ?? dialect.errorBody(reply.status);
        const text = typeof errorBody === "string" ? errorBody : JSON.stringify(errorBody);
        response.writeHead(reply.status, { "content-type": "application/json", ...dialect.standardHeaders(), ...reply.headers });
        response.end(text);
        return;
      }
      case "raw":
        if (reply.headersDelayMs !== undefined) await sleep(reply.headersDelayMs);
        response.writeHead(reply.status, { "content-type": reply.contentType, ...dialect.standardHeaders() });
        response.flushHeaders();
        await writeBody(response, [reply.body], reply);
        return;
      case "stall": {
        const fixture = await loadFixture(dialect, reply.name);
        response.writeHead(200, { "content-type": streaming ? dialect.streamContentType : "application/json", ...dialect.standardHeaders() });
        response.flushHeaders();
        if (streaming) for (const line of (fixture.streamLines ?? []).slice(0, reply.afterChunks)) response.write(dialect.frameStreamLine(line));
        return;
      }
      case "fixture": {
        const fixture = await loadFixture(dialect, reply.name);
        if (reply.headersDelayMs !== undefined) await sleep(reply.headersDelayMs);
        if (response.destroyed) return;
        const sendStream = streaming && fixture.status < 400 && fixture.streamLines !== undefined;
        if (sendStream) {
          response.writeHead(fixture.status, { "content-type": dialect.streamContentType, "cache-control": "no-cache", ...dialect.standardHeaders(), ...fixture.headers });
          response.flushHeaders();
          await writeBody(response, (fixture.streamLines ?? []).map(dialect.frameStreamLine), reply);
        } else if (fixture.jsonText !== undefined) {
          response.writeHead(fixture.status, { "content-type": "application/json", ...dialect.standardHeaders(), ...fixture.headers });
          response.flushHeaders();
          await writeBody(response, [fixture.jsonText], reply);
        } else {
          response.writeHead(500, { "content-type": "text/plain" });
          response.end(`${dialect.name}: fixture ${reply.name} has no file for this request`);
        }
        return;
      }
    }
  }

  const server = http.createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const rawBody = Buffer.concat(parts).toString("utf8");
      const body = parseJson(rawBody);
      requests.push({ method: request.method ?? "GET", path: request.url ?? "/", headers: { ...request.headers }, body, rawBody });
      response.on("close", () => {
        if (!response.writableFinished) noteDisconnect();
      });
      response.on("error", () => undefined);
      if (request.method !== "POST" || request.url !== dialect.route) {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(JSON.stringify(dialect.errorBody(404)));
        return;
      }
      const problem = dialect.validateRequest(body);
      if (problem !== null) {
        response.writeHead(400, { "content-type": "application/json", ...dialect.standardHeaders() });
        response.end(JSON.stringify(dialect.validationErrorBody(problem)));
        return;
      }
      answer(request, response, body).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
        response.end(`${dialect.name}: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
  });
  server.on("connection", () => {
    connections += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed = false;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue(...replies: ScriptedReply[]): void {
      queue.push(...replies);
    },
    setDefault(reply: ScriptedReply): void {
      defaultReply = reply;
    },
    get clientDisconnects(): number {
      return clientDisconnects;
    },
    get connections(): number {
      return connections;
    },
    waitForClientDisconnects(count: number, timeoutMs: number): Promise<void> {
      if (clientDisconnects >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${dialect.name}: ${clientDisconnects} client disconnect(s) after ${timeoutMs} ms, expected ${count}`)), timeoutMs);
        disconnectWaiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close(): Promise<void> {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** `text` as UTF-8 bytes split every `size` bytes (a piece may end inside a multi-byte character). */
function splitBytes(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text, "utf8");
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) pieces.push(bytes.subarray(offset, offset + size));
  return pieces;
}
