/**
 * A tiny in-test gateway for contract tests of the client-API codecs: a `node:http` server on 127.0.0.1 that
 * decodes each request with one codec, records the canonical request, and answers with a scripted canonical
 * response, stream or error encoded by the same codec. Official SDKs are pointed at it as real clients.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chatStreamIncludesUsage } from "../../src/apis/index.js";
import type { CanonicalResponse, StreamEvent } from "../../src/contracts/chat.js";
import type { ClientApiCodec, DecodedRequest } from "../../src/contracts/client-api.js";
import { ClawfleetError, isClawfleetError } from "../../src/contracts/errors.js";

/** What the server answers to the next request (a decoding error is answered without consuming one). */
export type ScriptedAnswer =
  | { kind: "response"; response: CanonicalResponse }
  | { kind: "stream"; events: StreamEvent[] }
  | { kind: "error"; error: ClawfleetError };

/** One request the server received. */
export interface ReceivedRequest {
  path: string;
  body: unknown;
  /** The codec's decoding, or null when decoding failed. */
  decoded: DecodedRequest | null;
}

export interface CodecServer {
  /** Origin, e.g. `http://127.0.0.1:PORT` (add `/v1` for the OpenAI SDK). */
  origin: string;
  received: ReceivedRequest[];
  /** Queues answers, used in order by the next requests. */
  enqueue(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Writes each event's SSE text as its own socket write, so clients see real chunk boundaries. */
async function sendStream(response: http.ServerResponse, codec: ClientApiCodec, model: string, includeUsage: boolean, events: StreamEvent[]): Promise<void> {
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const encoder = codec.createStreamEncoder(model, { includeUsage });
  for (const event of events) {
    const text = encoder.encode(event);
    if (text.length > 0) response.write(text);
    await new Promise((resolve) => setImmediate(resolve));
  }
  response.end();
}

/** Starts a server for `codec` on an ephemeral 127.0.0.1 port. */
export async function startCodecServer(codec: ClientApiCodec): Promise<CodecServer> {
  const queue: ScriptedAnswer[] = [];
  const received: ReceivedRequest[] = [];
  const server = http.createServer((request, response) => {
    void (async () => {
      const path = (request.url ?? "").split("?", 1)[0] ?? "";
      const text = await readBody(request);
      if (request.method !== "POST" || path !== codec.path) return sendJson(response, 404, codec.encodeError(new ClawfleetError("CF_NOT_FOUND", `no route ${path}`)));
      const body: unknown = JSON.parse(text);
      const record: ReceivedRequest = { path, body, decoded: null };
      received.push(record);
      try {
        record.decoded = codec.decodeRequest(body);
      } catch (error) {
        if (!isClawfleetError(error)) throw error;
        return sendJson(response, error.status, codec.encodeError(error));
      }
      const answer = queue.shift();
      if (!answer) return sendJson(response, 500, codec.encodeError(new ClawfleetError("CF_INTERNAL", "no scripted answer left")));
      const model = record.decoded.request.model;
      if (answer.kind === "error") {
        if (answer.error.retryAfterSeconds !== undefined) response.setHeader("retry-after", String(answer.error.retryAfterSeconds));
        return sendJson(response, answer.error.status, codec.encodeError(answer.error));
      }
      if (answer.kind === "response") return sendJson(response, 200, codec.encodeResponse(answer.response, model));
      return sendStream(response, codec, model, chatStreamIncludesUsage(body), answer.events);
    })().catch((error: unknown) => {
      response.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    enqueue: (...answers) => queue.push(...answers),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
