/**
 * A minimal OpenClaw gateway WebSocket client for tests (protocol 4, FACTS.md): answers the server's
 * `connect.challenge` with a `connect` request, then lets the test call methods and see how the socket closes.
 */
import { WebSocket } from "ws";

/** One response frame (`{type: "res", id, ok, payload?, error?}`). */
export interface GatewayResponse {
  ok: boolean;
  payload?: Record<string, unknown> & { auth?: { method?: string; scopes?: string[] } };
  error?: { message?: string; code?: string };
}

/** An open, connected gateway session, or why there is none. */
export interface GatewaySession {
  /** HTTP status of a refused upgrade (the ingress's answer), else undefined. */
  upgradeStatus?: number;
  upgradeBody?: string;
  /** The `connect` response; undefined when the upgrade was refused or timed out. */
  hello?: GatewayResponse;
  /** Sends one request and waits (up to 30 s) for its response; a socket closed meanwhile answers `ok: false`. */
  call(method: string, params?: Record<string, unknown>): Promise<GatewayResponse>;
  /** Resolves with the close code once the socket is closed (by either side). */
  closed: Promise<number>;
  close(): void;
}

/**
 * Opens `url` with `headers` (the caller's credentials), connects as `client` (default: a device-less `test` client,
 * whose scopes come from `gateway.auth.identityScopes` only) asking for `scopes`.
 */
export function openGatewaySession(url: string, headers: Record<string, string>, options: { client?: { id: string; mode: string }; scopes?: string[]; localAddress?: string } = {}): Promise<GatewaySession> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const waiting = new Map<string, (response: GatewayResponse) => void>();
    let nextId = 0;
    let resolveClosed: (code: number) => void = () => undefined;
    const closed = new Promise<number>((done) => (resolveClosed = done));
    const session: GatewaySession = {
      closed,
      close: () => socket.close(1000),
      call(method, params = {}) {
        nextId += 1;
        const id = `r${nextId}`;
        return new Promise((done, fail) => {
          const timer = setTimeout(() => fail(new Error(`${method}: no response within 30 s`)), 30_000);
          waiting.set(id, (response) => {
            clearTimeout(timer);
            done(response);
          });
          if (socket.readyState !== WebSocket.OPEN) {
            waiting.delete(id);
            clearTimeout(timer);
            done({ ok: false, error: { message: "socket not open" } });
            return;
          }
          socket.send(JSON.stringify({ type: "req", id, method, params }));
        });
      },
    };
    const giveUp = setTimeout(() => {
      socket.terminate();
      resolve(session);
    }, 60_000);
    socket.on("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => {
        clearTimeout(giveUp);
        session.upgradeStatus = response.statusCode ?? 0;
        session.upgradeBody = body;
        resolveClosed(-1);
        resolve(session);
      });
    });
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { type?: string; event?: string; id?: string } & GatewayResponse;
      if (message.type === "event" && message.event === "connect.challenge") {
        const client = options.client ?? { id: "test", mode: "test" };
        socket.send(JSON.stringify({ type: "req", id: "connect", method: "connect", params: { minProtocol: 4, maxProtocol: 4, client: { ...client, version: "1.0.0", platform: "linux" }, role: "operator", scopes: options.scopes ?? ["operator.read", "operator.write"], caps: [] } }));
        return;
      }
      if (message.type !== "res" || message.id === undefined) return;
      if (message.id === "connect") {
        clearTimeout(giveUp);
        session.hello = message;
        resolve(session);
        return;
      }
      waiting.get(message.id)?.(message);
      waiting.delete(message.id);
    });
    socket.on("close", (code) => {
      clearTimeout(giveUp);
      for (const answer of waiting.values()) answer({ ok: false, error: { message: `socket closed (${code}) before the response` } });
      waiting.clear();
      resolveClosed(code);
      resolve(session);
    });
    socket.on("error", () => undefined);
  });
}
