/**
 * A misbehaving upstream for timeout and abort tests: a `node:http` server on 127.0.0.1 that reads each request
 * and then either never answers, or sends status and headers (and optionally some body text) and then goes
 * silent. It records when the client closes each connection, so a test can assert that an abort or a timeout
 * really cancelled the upstream request.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface SilentUpstreamOptions {
  /** Send `200` and these headers, then `body` (if any), then nothing more. Without it, never answer. */
  headers?: Record<string, string>;
  body?: string;
}

export interface SilentUpstream {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Requests received (bodies as text). */
  requestBodies: string[];
  /** Resolves when `count` client connections have closed; rejects after `timeoutMs`. */
  waitForClosedConnections(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSilentUpstream(options: SilentUpstreamOptions = {}): Promise<SilentUpstream> {
  const requestBodies: string[] = [];
  let closedConnections = 0;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const server = http.createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      requestBodies.push(Buffer.concat(parts).toString("utf8"));
      if (options.headers === undefined) return;
      response.writeHead(200, options.headers);
      response.flushHeaders();
      if (options.body !== undefined) response.write(options.body);
    });
  });
  server.on("connection", (socket) => {
    socket.on("close", () => {
      closedConnections += 1;
      for (const waiter of [...waiters]) {
        if (closedConnections >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requestBodies,
    waitForClosedConnections(count: number, timeoutMs: number): Promise<void> {
      if (closedConnections >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`silent-upstream: ${closedConnections} closed connection(s) after ${timeoutMs} ms, expected ${count}`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close(): Promise<void> {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
