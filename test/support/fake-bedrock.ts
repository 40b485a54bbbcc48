/**
 * Fake Amazon Bedrock Runtime for tests: a local `node:http` server on 127.0.0.1 that speaks the wire format
 * of Converse and ConverseStream, so the REAL `@aws-sdk/client-bedrock-runtime` client (its SigV4 signer,
 * its REST-JSON serializer, its event-stream decoder) can be pointed at it with `endpoint`.
 *
 * Wire format, written from the API reference (not live recordings):
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html,
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html.
 * - `POST /model/{modelId}/converse`: JSON request, JSON answer (`output`, `stopReason`, `usage`, `metrics`).
 * - `POST /model/{modelId}/converse-stream`: JSON request, `application/vnd.amazon.eventstream` answer: AWS
 *   event-stream binary frames (prelude with lengths and CRC32, headers, JSON payload, message CRC32) encoded
 *   with `@smithy/eventstream-codec`'s `EventStreamCodec`, headers `:event-type` (`messageStart`,
 *   `contentBlockStart`, `contentBlockDelta`, `contentBlockStop`, `messageStop`, `metadata`),
 *   `:content-type: application/json`, `:message-type: event`. An exception inside the stream is a frame with
 *   `:message-type: exception` and `:exception-type` (`throttlingException`, `modelStreamErrorException`, …).
 * - Errors: HTTP status, header `x-amzn-errortype: <Name>:http://internal.amazon.com/coral/com.amazon.bedrock/`,
 *   JSON body `{"message": "..."}`.
 * - Every request must carry a SigV4 `authorization` header for service `bedrock`; without one the fake answers
 *   403 `MissingAuthenticationTokenException`, with a wrong signature (secret known to the fake) 403
 *   `InvalidSignatureException`, as AWS does. Each request is recorded with its signature check.
 *
 * Fixtures live in `test/fixtures/bedrock/`: `<case>.json` (a Converse response body, or an error body),
 * `<case>.http.json` (optional `{status, headers}`), `<case>.events.json` (stream frames, see {@link FakeStreamFrame}).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { checkSignature, type SignatureCheck } from "./fake-aws-signature.js";

/** Absolute path of `test/fixtures/bedrock/`. */
export const BEDROCK_FIXTURE_DIRECTORY = fileURLToPath(new URL("../fixtures/bedrock/", import.meta.url));

/** One frame of a ConverseStream answer: an event, or an exception. `data` is the JSON payload. */
export type FakeStreamFrame = { event: string; data: Record<string, unknown> } | { exception: string; data: Record<string, unknown> };

/** What the fake answers to one Converse or ConverseStream call. */
export type FakeBedrockReply =
  /** A JSON body with a status (default 200). */
  | { kind: "json"; body: unknown; status?: number; headers?: Record<string, string> }
  /** An event stream made of these frames; `delayMs` between frames (default 0). */
  | { kind: "events"; frames: FakeStreamFrame[]; delayMs?: number }
  /** `<name>.json` (Converse) or `<name>.events.json` (ConverseStream) from the fixture directory, with `<name>.http.json`. */
  | { kind: "fixture"; name: string }
  /** An AWS error: `x-amzn-errortype` header and `{message}` body. */
  | { kind: "error"; status: number; errorType: string; message: string; headers?: Record<string, string> }
  /** Destroy the socket without answering. */
  | { kind: "reset" }
  /** Send nothing (Converse), or the stream headers and the first `afterFrames` frames of `frames` (ConverseStream), then silence until `close()`. */
  | { kind: "stall"; frames?: FakeStreamFrame[]; afterFrames?: number };

/** One request received by the fake. */
export interface RecordedBedrockRequest {
  method: string;
  /** Request target as sent (model id percent-encoded). */
  path: string;
  /** `converse`, `converse-stream`, or `other`. */
  operation: "converse" | "converse-stream" | "other";
  /** The model id, percent-decoded. */
  modelId: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body, parsed (undefined when not JSON). */
  body: unknown;
  rawBody: string;
  signature: SignatureCheck;
}

export interface FakeBedrock {
  /** The `endpoint` to give the Bedrock client, e.g. `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** Every request received (live array). */
  requests: RecordedBedrockRequest[];
  /** Replies for the next calls, in order; with none queued the fake answers 500 `InternalServerException`. */
  enqueue(...replies: FakeBedrockReply[]): void;
  /** TCP connections currently open (a cancelled call closes its connection). */
  openConnections(): number;
  /** Stops listening and destroys every open connection. Idempotent. */
  close(): Promise<void>;
}

export interface StartFakeBedrockOptions {
  /** Access key id → secret access key; signatures from these keys are verified. */
  secrets?: Record<string, string>;
}

const ROUTE_PATTERN = /^\/model\/([^/]+)\/(converse|converse-stream)$/;
const FIXTURE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/i;
const ERROR_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/";
const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One event-stream frame, binary-encoded as Bedrock sends it. */
export function encodeFrame(frame: FakeStreamFrame): Uint8Array {
  const body = fromUtf8(JSON.stringify(frame.data));
  if ("event" in frame) {
    return codec.encode({
      headers: {
        ":event-type": { type: "string", value: frame.event },
        ":content-type": { type: "string", value: "application/json" },
        ":message-type": { type: "string", value: "event" },
      },
      body,
    });
  }
  return codec.encode({
    headers: {
      ":exception-type": { type: "string", value: frame.exception },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: "exception" },
    },
    body,
  });
}

/** Reads `test/fixtures/bedrock/<name>.events.json`. */
export async function loadStreamFixture(name: string): Promise<FakeStreamFrame[]> {
  return JSON.parse(await readFile(path.join(BEDROCK_FIXTURE_DIRECTORY, `${name}.events.json`), "utf8")) as FakeStreamFrame[];
}

/** Reads `test/fixtures/bedrock/<name>.json`, parsed. */
export async function loadJsonFixture(name: string): Promise<unknown> {
  return JSON.parse(await readFile(path.join(BEDROCK_FIXTURE_DIRECTORY, `${name}.json`), "utf8"));
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function requestId(): string {
  return `fake-${Math.random().toString(16).slice(2, 10)}-${Date.now().toString(16)}`;
}

function sendJson(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "x-amzn-requestid": requestId(), ...headers });
  response.end(text);
}

function sendError(response: http.ServerResponse, status: number, errorType: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(response, status, { message }, { "x-amzn-errortype": `${errorType}:${ERROR_NAMESPACE}`, ...headers });
}

function openEventStream(response: http.ServerResponse): void {
  response.writeHead(200, { "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": requestId() });
  response.flushHeaders();
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts the fake on 127.0.0.1 (any free port). */
export async function startFakeBedrock(options: StartFakeBedrockOptions = {}): Promise<FakeBedrock> {
  const requests: RecordedBedrockRequest[] = [];
  const queue: FakeBedrockReply[] = [];
  const sockets = new Set<Socket>();

  async function sendFrames(response: http.ServerResponse, frames: FakeStreamFrame[], delayMs: number): Promise<void> {
    openEventStream(response);
    for (const frame of frames) {
      if (delayMs > 0) await pause(delayMs);
      if (response.destroyed) return;
      response.write(encodeFrame(frame));
    }
    response.end();
  }

  async function answer(request: http.IncomingMessage, response: http.ServerResponse, operation: "converse" | "converse-stream"): Promise<void> {
    const reply = queue.shift() ?? { kind: "error", status: 500, errorType: "InternalServerException", message: "fake-bedrock: no reply queued" };
    switch (reply.kind) {
      case "json":
        sendJson(response, reply.status ?? 200, reply.body, reply.headers);
        return;
      case "events":
        await sendFrames(response, reply.frames, reply.delayMs ?? 0);
        return;
      case "error":
        sendError(response, reply.status, reply.errorType, reply.message, reply.headers);
        return;
      case "fixture": {
        if (!FIXTURE_NAME_PATTERN.test(reply.name)) throw new TypeError(`fake-bedrock: bad fixture name ${reply.name}`);
        const base = path.join(BEDROCK_FIXTURE_DIRECTORY, reply.name);
        const meta = existsSync(`${base}.http.json`)
          ? (JSON.parse(await readFile(`${base}.http.json`, "utf8")) as { status: number; headers?: Record<string, string> })
          : { status: 200 };
        if (operation === "converse-stream" && meta.status < 400) {
          await sendFrames(response, await loadStreamFixture(reply.name), 0);
        } else {
          sendJson(response, meta.status, await loadJsonFixture(reply.name), meta.headers);
        }
        return;
      }
      case "reset":
        request.socket.destroy();
        return;
      case "stall":
        if (operation === "converse-stream") {
          openEventStream(response);
          for (const frame of (reply.frames ?? []).slice(0, reply.afterFrames ?? 0)) response.write(encodeFrame(frame));
        }
        return;
    }
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const rawBody = await readBody(request);
    const target = request.url ?? "/";
    const route = ROUTE_PATTERN.exec(new URL(target, "http://fake.invalid").pathname);
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString("utf8"));
    } catch {
      body = undefined;
    }
    const signature = await checkSignature(request, rawBody, options.secrets ?? {});
    const operation = route ? (route[2] as "converse" | "converse-stream") : "other";
    requests.push({
      method: request.method ?? "GET",
      path: target,
      operation,
      modelId: route ? decodeURIComponent(route[1] ?? "") : undefined,
      headers: { ...request.headers },
      body,
      rawBody: rawBody.toString("utf8"),
      signature,
    });
    if (!signature.wellFormed || signature.service !== "bedrock") {
      sendError(response, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    } else if (signature.valid === false) {
      sendError(response, 403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
    } else if (request.method !== "POST" || operation === "other") {
      sendError(response, 404, "UnknownOperationException", `fake-bedrock: no route ${request.method} ${target}`);
    } else {
      await answer(request, response, operation);
    }
  }

  const server = http.createServer((request, response) => {
    response.on("error", () => undefined);
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) response.destroy();
      else sendError(response, 500, "InternalServerException", `fake-bedrock: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    enqueue(...replies: FakeBedrockReply[]): void {
      queue.push(...replies);
    },
    openConnections(): number {
      return sockets.size;
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
