/**
 * HTTP readiness probe of a runtime's gateway over its endpoint (Unix socket or loopback TCP), with undici.
 * OpenClaw answers `/readyz` without auth: 503 while starting, 200 once ready (FACTS.md).
 */
import { Client } from "undici";
import type { RuntimeEndpoint } from "../../../contracts/runtime-driver.js";

/** Default probe timeout (ms) for connect + headers + body. */
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

/** An undici client bound to one runtime endpoint (`Host: localhost` for Unix sockets). */
export function clientForEndpoint(endpoint: RuntimeEndpoint, timeoutMs: number): Client {
  const timeouts = { connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs };
  if (endpoint.kind === "unix") return new Client("http://localhost", { socketPath: endpoint.socketPath, ...timeouts });
  return new Client(`http://${endpoint.host}:${endpoint.port}`, timeouts);
}

/**
 * GETs `path` on the endpoint.
 * @returns true iff the answer is HTTP 200 within `timeoutMs`; never throws
 */
export async function probeHttpOk(endpoint: RuntimeEndpoint, path: string, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<boolean> {
  const client = clientForEndpoint(endpoint, timeoutMs);
  try {
    const response = await client.request({ method: "GET", path, signal: AbortSignal.timeout(timeoutMs) });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  } finally {
    await client.destroy().catch(() => undefined);
  }
}
