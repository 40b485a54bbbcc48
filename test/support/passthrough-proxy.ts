/**
 * A minimal stand-in for the gateway's pass-through path, so an official SDK can be the caller of an adapter's
 * `passthrough()`: an HTTP server on 127.0.0.1 that reads the caller's body, hands the exact bytes to the
 * adapter, and writes back the upstream's status, forwarded headers and body as they stream.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ProviderAdapter } from "../../src/contracts/provider.js";
import { callContext } from "./provider-test-helpers.js";

export interface PassthroughProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  close(): Promise<void>;
}

export async function startPassthroughProxy(adapter: ProviderAdapter): Promise<PassthroughProxy> {
  const passthrough = adapter.passthrough?.bind(adapter);
  if (passthrough === undefined) throw new Error(`${adapter.id} has no pass-through`);
  const server = http.createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const body = Buffer.concat(parts);
      const stream = (JSON.parse(body.toString("utf8")) as { stream?: unknown }).stream === true;
      (async () => {
        const reply = await passthrough({ body, stream }, callContext());
        response.writeHead(reply.status, reply.headers);
        for await (const chunk of reply.body) response.write(chunk);
        response.end();
      })().catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(599, { "content-type": "text/plain" });
        response.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
