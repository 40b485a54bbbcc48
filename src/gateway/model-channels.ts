/**
 * Per-runtime listeners of the model gateway. Each tenant runtime reaches the model gateway only through its
 * own listener (a Unix socket bind-mounted into its sandbox, or a loopback port in the unsandboxed fallback).
 * Connections accepted there are handed to the one HTTP server and remembered as belonging to that tenant, so
 * the gateway knows which runtime is calling from the connection itself — headers prove nothing, since the
 * tenant's own shell can send any header through the bridge.
 */
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { Server as HttpServer } from "node:http";
import type { ModelChannelAddress } from "../contracts/runtime-driver.js";
import type { Logger } from "../observability/logger.js";

/** Tenant id bound to each accepted model-channel connection. */
const channelOfSocket = new WeakMap<net.Socket, string>();

/** The tenant whose runtime channel a connection arrived on, or null for the public listener. */
export function channelTenantOf(socket: net.Socket): string | null {
  return channelOfSocket.get(socket) ?? null;
}

export class ModelChannelListeners {
  private readonly servers = new Map<string, { server: net.Server; key: string }>();

  constructor(private readonly httpServer: () => HttpServer, private readonly logger: Logger) {}

  /** Listens on `address` for `tenantId` (idempotent for the same address; replaces a different one). */
  async listen(tenantId: string, address: ModelChannelAddress): Promise<void> {
    const key = address.kind === "unix" ? `unix:${address.socketPath}` : `tcp:${address.host}:${address.port}`;
    const existing = this.servers.get(tenantId);
    if (existing?.key === key && existing.server.listening) return;
    if (existing) await this.close(tenantId);
    // allowHalfOpen as node:http itself sets it: a client may end its side before the response is written.
    const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
      channelOfSocket.set(socket, tenantId);
      this.httpServer().emit("connection", socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      if (address.kind === "unix") {
        mkdirSync(path.dirname(address.socketPath), { recursive: true });
        rmSync(address.socketPath, { force: true });
        server.listen(address.socketPath, () => resolve());
      } else {
        server.listen(address.port, address.host, () => resolve());
      }
    });
    // The runtime runs under its own uid: it needs write permission on the socket file to connect. The
    // directory holding it is the runtime's alone (bind-mounted read-only into that one sandbox).
    if (address.kind === "unix") chmodSync(address.socketPath, 0o666);
    server.on("error", (error) => this.logger.error({ err: error, tenantId }, "model channel listener error"));
    this.servers.set(tenantId, { server, key });
    this.logger.debug({ tenantId, address: key }, "model channel listening");
  }

  /** Stops listening for one tenant (open connections finish on their own). */
  async close(tenantId: string): Promise<void> {
    const entry = this.servers.get(tenantId);
    if (!entry) return;
    this.servers.delete(tenantId);
    await new Promise<void>((resolve) => entry.server.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((tenantId) => this.close(tenantId)));
  }
}
