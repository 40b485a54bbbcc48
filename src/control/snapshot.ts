/**
 * The versioned in-memory snapshot of policy the data plane reads (tenants, active keys, stored profiles). The control
 * plane rebuilds it from the store after every change; the hot path never queries the database.
 * Model: envoy ai-gateway `internal/filterapi/filterconfig.go`.
 */
import type { PermissionProfile } from "../contracts/governance.js";
import type { ApiKeyRecord, Store, TenantRecord } from "../contracts/store.js";

/** An immutable view of tenants and active (not revoked) keys at one version. */
export interface PolicySnapshot {
  /** Increases by one on every rebuild. */
  readonly version: number;
  readonly builtAtMs: number;
  readonly tenants: ReadonlyMap<string, TenantRecord>;
  /** Active keys by public key id. Expiry is still checked per use. */
  readonly keys: ReadonlyMap<string, ApiKeyRecord>;
  /** Stored permission profiles (current versions) by name; built-in presets are not in here. */
  readonly profiles: ReadonlyMap<string, PermissionProfile>;
}

/** Holds the current snapshot and rebuilds it on demand; readers call {@link SnapshotPublisher.current}. */
export class SnapshotPublisher {
  private snapshot: PolicySnapshot = { version: 0, builtAtMs: 0, tenants: new Map(), keys: new Map(), profiles: new Map() };
  private readonly listeners: Array<(snapshot: PolicySnapshot) => void> = [];
  private rebuilding: Promise<PolicySnapshot> | null = null;
  /** The one rebuild queued behind the running one (shared by every call made while that one runs). */
  private queued: Promise<PolicySnapshot> | null = null;

  private broadcast: ((version: number) => Promise<void>) | null = null;

  constructor(private readonly store: Store, private readonly now: () => number = Date.now) {}

  /**
   * Connects replicas: `broadcast` tells the others that this replica changed policy (they rebuild from the
   * shared database on receipt, see {@link SnapshotPublisher.refresh}).
   */
  setBroadcast(broadcast: (version: number) => Promise<void>): void {
    this.broadcast = broadcast;
  }

  /** After a change made here: rebuild, then tell the other replicas. */
  async changed(): Promise<PolicySnapshot> {
    const snapshot = await this.refresh();
    await this.broadcast?.(snapshot.version);
    return snapshot;
  }

  /**
   * Calls `listener` after every rebuild with the new snapshot (synchronously; a throwing listener is ignored).
   * @returns a function that removes the listener
   */
  onChange(listener: (snapshot: PolicySnapshot) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** The snapshot in force. O(1), no I/O. */
  current(): PolicySnapshot {
    return this.snapshot;
  }

  /**
   * Rebuilds from the store and publishes. Concurrent calls coalesce, but a call made while a rebuild runs
   * always triggers one more rebuild, so a change committed before the call is visible when it resolves.
   */
  refresh(): Promise<PolicySnapshot> {
    if (!this.rebuilding) return this.startRebuild();
    // The running rebuild may have read the store before the caller's change: queue exactly one more after it (every
    // call made meanwhile shares it), or join a rebuild someone started after it, which saw the change too.
    const queue = () => {
      this.queued = null;
      return this.rebuilding ?? this.startRebuild();
    };
    this.queued ??= this.rebuilding.then(queue, queue);
    return this.queued;
  }

  private startRebuild(): Promise<PolicySnapshot> {
    const run: Promise<PolicySnapshot> = this.build().finally(() => {
      if (this.rebuilding === run) this.rebuilding = null;
    });
    this.rebuilding = run;
    return run;
  }

  private async build(): Promise<PolicySnapshot> {
    const nowMs = this.now();
    const [tenants, keys, profiles] = await Promise.all([this.store.tenants.list(), this.store.apiKeys.listActive(nowMs), this.store.profiles.list()]);
    this.snapshot = {
      version: this.snapshot.version + 1,
      builtAtMs: nowMs,
      tenants: new Map(tenants.map((tenant) => [tenant.id, tenant])),
      keys: new Map(keys.map((key) => [key.id, key])),
      profiles: new Map(profiles.map((profile) => [profile.name, profile])),
    };
    for (const listener of [...this.listeners]) {
      try {
        listener(this.snapshot);
      } catch {
        // A listener's failure must not break publishing; listeners log their own errors.
      }
    }
    return this.snapshot;
  }
}
