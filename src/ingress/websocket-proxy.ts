/**
 * WebSocket proxy from a caller to its tenant's runtime (OpenClaw's gateway protocol, see FACTS.md).
 * OpenClaw authenticates a WebSocket in its first `connect` request frame (`params.auth.token`), so the proxy
 * sets that field to the runtime's token on every `connect` frame, whatever the caller sent: the caller never
 * learns the token. Frames sent before the runtime's socket is open are buffered in order.
 */
import { WebSocket, type RawData } from "ws";
import type { RuntimeConnection } from "../runtime/manager.js";
import type { FastifyBaseLogger } from "fastify";
import { directToolInvocationId, directToolRefusalFrame } from "./direct-tool-invocation.js";

/** Close codes that may not be sent in a close frame (RFC 6455 §7.4.1) and what to send instead. */
function sendableCloseCode(code: number): number {
  if (code === 1005 || code === 1006 || code === 1015 || code < 1000 || code > 4999) return 1011;
  return code;
}

/** Replaces `params.auth` of a `connect` request frame with the runtime token; other frames pass unchanged. */
export function injectConnectToken(data: RawData, isBinary: boolean, gatewayToken: string): RawData | string {
  if (isBinary) return data;
  const text = data.toString();
  if (!text.includes('"connect"')) return data;
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return data;
  }
  if (typeof frame !== "object" || frame === null) return data;
  const request = frame as { type?: unknown; method?: unknown; params?: unknown };
  if (request.type !== "req" || request.method !== "connect" || typeof request.params !== "object" || request.params === null) return data;
  (request.params as Record<string, unknown>).auth = { token: gatewayToken };
  return JSON.stringify(frame);
}

/** The URL of the runtime's WebSocket endpoint for a path (`/…` after `/t/{tenant}`). */
export function runtimeWebSocketUrl(connection: RuntimeConnection, path: string): string {
  const endpoint = connection.endpoint;
  return endpoint.kind === "unix" ? `ws+unix://${endpoint.socketPath}:${path}` : `ws://${endpoint.host}:${endpoint.port}${path}`;
}

/** Where a caller's WebSocket goes: this replica's runtime, or the replica that owns the runtime. */
export type WebSocketTarget = { kind: "runtime"; connection: RuntimeConnection } | { kind: "replica"; url: string; headers: Record<string, string> };

/**
 * Pipes a caller's socket to the runtime (or to the replica that owns it). `connect` resolves the target (a
 * local runtime may boot first); `done` is called once when both sides are closed.
 */
export function proxyWebSocket(options: {
  caller: WebSocket;
  path: string;
  connect: () => Promise<WebSocketTarget>;
  logger: FastifyBaseLogger;
  done: () => void;
  /** Identity headers for a trusted-proxy runtime's upgrade request (see `trusted-proxy.ts`). */
  identityHeaders?: Record<string, string>;
  /** The caller's `Origin`, passed on to a trusted-proxy runtime (its Control UI checks it). */
  origin?: string;
}): void {
  const { caller, logger } = options;
  const pending: Array<{ data: RawData; isBinary: boolean }> = [];
  let runtimeSocket: WebSocket | null = null;
  let gatewayToken = "";
  let forward: (data: RawData, isBinary: boolean) => RawData | string = (data) => data;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    options.done();
  };

  caller.on("message", (data, isBinary) => {
    const refusedId = directToolInvocationId(data, isBinary);
    if (refusedId !== null) {
      caller.send(directToolRefusalFrame(refusedId));
      return;
    }
    if (runtimeSocket?.readyState === WebSocket.OPEN) runtimeSocket.send(forward(data, isBinary), { binary: isBinary });
    else pending.push({ data, isBinary });
  });
  caller.on("close", (code, reason) => {
    if (runtimeSocket && (runtimeSocket.readyState === WebSocket.OPEN || runtimeSocket.readyState === WebSocket.CONNECTING)) {
      runtimeSocket.close(sendableCloseCode(code === 1005 ? 1000 : code), reason);
    }
    finish();
  });
  caller.on("error", (error) => logger.debug({ err: error }, "caller websocket error"));

  options
    .connect()
    .then((target) => {
      if (caller.readyState !== WebSocket.OPEN) return finish();
      // Only the replica running the runtime injects its token; a forwarding replica passes frames untouched. A
      // trusted-proxy runtime gets identity headers on the upgrade instead, and the caller's frames as they are.
      const trusted = target.kind === "runtime" && target.connection.trustedProxy === true;
      const inject = target.kind === "runtime" && !trusted;
      gatewayToken = target.kind === "runtime" ? target.connection.gatewayToken : "";
      const upstream =
        target.kind === "runtime"
          ? new WebSocket(runtimeWebSocketUrl(target.connection, options.path), {
              perMessageDeflate: false,
              handshakeTimeout: 10_000,
              ...(trusted ? { headers: options.identityHeaders ?? {}, ...(options.origin ? { origin: options.origin } : {}) } : {}),
            })
          : new WebSocket(target.url, { perMessageDeflate: false, handshakeTimeout: 10_000, headers: target.headers });
      forward = (data, isBinary) => (inject ? injectConnectToken(data, isBinary, gatewayToken) : data);
      runtimeSocket = upstream;
      upstream.on("open", () => {
        for (const frame of pending.splice(0)) upstream.send(forward(frame.data, frame.isBinary), { binary: frame.isBinary });
      });
      upstream.on("message", (data, isBinary) => {
        if (caller.readyState === WebSocket.OPEN) caller.send(data, { binary: isBinary });
      });
      upstream.on("close", (code, reason) => {
        if (caller.readyState === WebSocket.OPEN) caller.close(sendableCloseCode(code === 1005 ? 1000 : code), reason);
      });
      upstream.on("unexpected-response", (_request, response) => {
        logger.warn({ status: response.statusCode }, "runtime refused the websocket upgrade");
        if (caller.readyState === WebSocket.OPEN) caller.close(1011, "runtime refused the connection");
      });
      upstream.on("error", (error) => {
        logger.warn({ err: error }, "runtime websocket error");
        if (caller.readyState === WebSocket.OPEN) caller.close(1011, "runtime connection failed");
      });
    })
    .catch((error: unknown) => {
      logger.warn({ err: error }, "runtime unavailable for websocket");
      // 1013 Try Again Later (IANA WebSocket close code registry).
      if (caller.readyState === WebSocket.OPEN) caller.close(1013, "runtime unavailable, try again later");
      finish();
    });
}
