/**
 * Which replica runs a tenant's runtime. With the `process` driver a runtime lives on one replica's machine;
 * that replica holds the lease `runtime-owner:<tenant>` in shared state (renewed while the runtime runs) and
 * the other replicas forward the tenant's requests to it. With in-memory shared state (one replica) every
 * runtime is local. A replica that loses a lease (it could not renew in time) stops its copy of the runtime.
 */
import type { SharedState } from "../contracts/shared-state.js";
import type { Logger } from "../observability/logger.js";

/** Where a tenant's requests go. */
export type OwnershipDecision = { kind: "local" } | { kind: "remote"; ownerUrl: string };

const LEASE_PREFIX = "runtime-owner:";

export class RuntimeOwnership {
  private readonly held = new Set<string>();
  /** Lease releases under way; {@link close} waits for them. */
  private readonly releasing = new Set<Promise<void>>();
  private renewTimer: NodeJS.Timeout | null = null;

  /** This replica's base URL as other replicas reach it (`server.advertiseUrl`); also its owner id. */
  selfUrl = "";

  /** @param leaseTtlMs how long a lease lives without renewal (renewed every third of it). */
  constructor(
    private readonly state: SharedState,
    private readonly logger: Logger,
    private readonly leaseTtlMs = 15_000,
  ) {}

  /** Sets this replica's URL once it listens (before any request is served). */
  bind(selfUrl: string): void {
    this.selfUrl = selfUrl;
  }

  /** Claims the tenant's runtime for this replica if nobody else holds it; else names the owner. */
  async decide(tenantId: string): Promise<OwnershipDecision> {
    const name = `${LEASE_PREFIX}${tenantId}`;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if (await this.state.acquireLease(name, this.selfUrl, this.leaseTtlMs)) {
        this.held.add(tenantId);
        return { kind: "local" };
      }
      const owner = await this.state.leaseOwner(name);
      if (owner !== null && owner !== this.selfUrl) {
        this.held.delete(tenantId);
        return { kind: "remote", ownerUrl: owner };
      }
      // The lease expired between the two calls: try again.
    }
    return { kind: "local" };
  }

  /** Gives up the tenant's lease (its runtime stopped here). */
  async release(tenantId: string): Promise<void> {
    this.held.delete(tenantId);
    const releasing = this.state.releaseLease(`${LEASE_PREFIX}${tenantId}`, this.selfUrl).catch((error: unknown) => this.logger.warn({ err: error, tenantId }, "runtime lease release failed"));
    this.releasing.add(releasing);
    try {
      await releasing;
    } finally {
      this.releasing.delete(releasing);
    }
  }

  /**
   * Renews the leases of runtimes still running here every `leaseTtlMs / 3`; releases those that stopped;
   * calls `onLost` for a runtime whose lease another replica took.
   */
  startRenewals(isRunningHere: (tenantId: string) => boolean, onLost: (tenantId: string) => void): void {
    this.renewTimer = setInterval(() => {
      for (const tenantId of [...this.held]) {
        if (!isRunningHere(tenantId)) {
          void this.release(tenantId);
          continue;
        }
        this.state
          .acquireLease(`${LEASE_PREFIX}${tenantId}`, this.selfUrl, this.leaseTtlMs)
          .then((kept) => {
            if (kept) return;
            this.held.delete(tenantId);
            this.logger.warn({ tenantId }, "runtime lease lost to another replica; stopping the local runtime");
            onLost(tenantId);
          })
          .catch((error: unknown) => this.logger.warn({ err: error, tenantId }, "runtime lease renewal failed"));
      }
    }, Math.max(1_000, Math.floor(this.leaseTtlMs / 3)));
    this.renewTimer.unref();
  }

  /**
   * Releases every lease still held and waits for releases already under way (a runtime stopped during shutdown
   * starts its release without waiting): the shared state may close only after this resolves, or the lease stays
   * until it expires and other replicas keep forwarding to this one while it is gone.
   */
  async close(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    await Promise.all([...[...this.held].map((tenantId) => this.release(tenantId)), ...this.releasing]);
  }
}
