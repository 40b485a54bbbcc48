/**
 * undici keep-alive clients to tenant runtimes, one per runtime endpoint (a Unix socket when sandboxed, a
 * loopback port otherwise). A restarted runtime gets a new client (its token and maybe its endpoint changed).
 */
import { Client, errors as undiciErrors } from "undici";
import type { RuntimeEndpoint } from "../contracts/runtime-driver.js";

function endpointKey(endpoint: RuntimeEndpoint): string {
  return endpoint.kind === "unix" ? `unix:${endpoint.socketPath}` : `tcp:${endpoint.host}:${endpoint.port}`;
}

/**
 * True when a proxied request failed because its upstream (a tenant runtime, or the replica that owns it) could not
 * be reached or dropped the connection: undici's own errors, and the plain Node.js socket errors it passes through
 * unwrapped (`connect ECONNREFUSED`, `ENOENT` on a Unix socket, `ECONNRESET`, … — any error carrying a `syscall`).
 */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof undiciErrors.UndiciError) return true;
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string" && typeof (error as NodeJS.ErrnoException).syscall === "string";
}

export class RuntimeClientPool {
  private readonly clients = new Map<string, { key: string; client: Client }>();

  /** The client for a tenant's current endpoint (replacing, and closing, one for an old endpoint). */
  clientFor(tenantId: string, endpoint: RuntimeEndpoint): Client {
    const key = endpointKey(endpoint);
    const existing = this.clients.get(tenantId);
    if (existing && existing.key === key) return existing.client;
    if (existing) void existing.client.close().catch(() => undefined);
    const options = { keepAliveTimeout: 10_000, headersTimeout: 0, bodyTimeout: 0, connect: { timeout: 10_000 } } as const;
    const client =
      endpoint.kind === "unix"
        ? new Client("http://localhost", { ...options, socketPath: endpoint.socketPath })
        : new Client(`http://${endpoint.host}:${endpoint.port}`, options);
    this.clients.set(tenantId, { key, client });
    return client;
  }

  /** Closes a tenant's client (on stop or delete). */
  async drop(tenantId: string): Promise<void> {
    const existing = this.clients.get(tenantId);
    this.clients.delete(tenantId);
    if (existing) await existing.client.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.clients.keys()].map((tenantId) => this.drop(tenantId)));
  }
}
