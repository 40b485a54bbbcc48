/**
 * Keeps the identity scopes of running trusted-proxy runtimes current (`gateway.auth.identityScopes`: which
 * members and chat keys get which WebSocket scopes), without restarting them.
 *
 * Only the replica that runs a tenant's runtime can rewrite its config (`src/runtime/ownership.ts`), while a
 * membership or key may change on any replica. So:
 *
 * - membership changes (add, role change, removal, user deletion) are announced on the shared state's pub/sub
 *   channel {@link IDENTITY_CHANNEL} with the tenant id; every replica hears it (Redis, or in memory for one
 *   process) and the one whose runtime is ready re-renders it at once;
 * - key changes already rebuild every replica's policy snapshot (create, revoke; an expired key drops out at the
 *   next rebuild): each replica compares the chat keys of its ready runtimes' tenants with the previous snapshot
 *   and re-renders the ones that differ;
 * - every `resyncIntervalMs` (default 30 s, the snapshot's own safety refresh) every ready runtime is re-rendered
 *   anyway, covering a missed message and a key that expired between rebuilds. A re-render that finds the same
 *   map on disk writes nothing.
 *
 * Why not forward the change to the owner over HTTP or re-render on the next request: pub/sub is what replicas
 * already share for policy changes, needs no replica addresses, and reaches an owner that receives no request
 * (a removal must take effect while the removed member's WebSocket is idle).
 */
import type { SharedState } from "../contracts/shared-state.js";
import type { PolicySnapshot } from "../control/snapshot.js";
import type { Logger } from "../observability/logger.js";

/** Pub/sub channel carrying the id of a tenant whose memberships changed. */
export const IDENTITY_CHANNEL = "tenant-identity-changed";

/** What the sync needs of the runtime manager. */
export interface IdentityScopeTarget {
  /** Tenants whose runtime is ready on this replica. */
  readyTenants(): string[];
  /** Re-renders and rewrites one runtime's identity scopes (coalesced per tenant). */
  refreshIdentityScopes(tenantId: string): Promise<unknown>;
}

/** Options of {@link RuntimeIdentitySync}. */
export interface RuntimeIdentitySyncOptions {
  sharedState: SharedState;
  target: IdentityScopeTarget;
  logger: Logger;
  /** Period of the full re-render of every ready runtime, in ms (default 30 000; 0 = never). */
  resyncIntervalMs?: number;
}

/** Signature of a tenant's chat-capable tenant keys in a snapshot (sorted key ids). */
function chatKeysOf(snapshot: PolicySnapshot, tenantId: string): string {
  const ids: string[] = [];
  for (const key of snapshot.keys.values()) if (key.tenantId === tenantId && key.kind === "tenant" && key.scopes.includes("chat")) ids.push(key.id);
  return ids.sort().join(",");
}

/** See the module docstring. */
export class RuntimeIdentitySync {
  private unsubscribe: (() => Promise<void>) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly seenKeys = new Map<string, string>();

  constructor(private readonly options: RuntimeIdentitySyncOptions) {}

  /** Subscribes to {@link IDENTITY_CHANNEL} and starts the periodic re-render. */
  async start(): Promise<void> {
    this.unsubscribe = await this.options.sharedState.subscribe(IDENTITY_CHANNEL, (tenantId) => {
      if (this.options.target.readyTenants().includes(tenantId)) this.refresh(tenantId, "membership change");
    });
    const intervalMs = this.options.resyncIntervalMs ?? 30_000;
    if (intervalMs > 0) {
      this.timer = setInterval(() => {
        for (const tenantId of this.options.target.readyTenants()) this.refresh(tenantId, "periodic resync");
      }, intervalMs);
      this.timer.unref();
    }
  }

  /**
   * Announces that a tenant's memberships changed (call after the change is committed). Never throws: a lost
   * announcement is repaired by the periodic re-render.
   */
  async membershipsChanged(tenantId: string): Promise<void> {
    await this.options.sharedState.publish(IDENTITY_CHANNEL, tenantId).catch((error: unknown) => this.options.logger.warn({ err: error, tenantId }, "identity change announcement failed; the periodic resync applies it"));
  }

  /** Snapshot listener: re-renders ready runtimes whose tenant's chat keys changed since the last snapshot. */
  onSnapshot(snapshot: PolicySnapshot): void {
    const ready = new Set(this.options.target.readyTenants());
    for (const tenantId of [...this.seenKeys.keys()]) if (!ready.has(tenantId)) this.seenKeys.delete(tenantId);
    for (const tenantId of ready) {
      const keys = chatKeysOf(snapshot, tenantId);
      const previous = this.seenKeys.get(tenantId);
      this.seenKeys.set(tenantId, keys);
      // First sight of a ready runtime too: a key may have changed between its start's own refresh and now.
      if (previous !== keys) this.refresh(tenantId, "key change");
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private refresh(tenantId: string, reason: string): void {
    this.options.target.refreshIdentityScopes(tenantId).catch((error: unknown) => this.options.logger.warn({ err: error, tenantId, reason }, "runtime identity scope refresh failed"));
  }
}
