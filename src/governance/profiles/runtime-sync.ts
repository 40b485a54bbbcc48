/**
 * Keeps running runtimes in line with their tenant's profile: after every snapshot rebuild (a change made here,
 * or announced by another replica), each tenant's rendered tool policy is compared with the one seen before;
 * when it differs (profile edited, or another profile assigned) and the tenant's runtime runs on this replica,
 * the runtime is stopped and started again, so its OpenClaw config is rewritten with the new policy. A stopped
 * runtime needs nothing: its config is rendered at its next start.
 */
import type { ProfileResolver } from "../../contracts/governance.js";
import type { RuntimeState } from "../../contracts/runtime-driver.js";
import type { PolicySnapshot } from "../../control/snapshot.js";
import type { Logger } from "../../observability/logger.js";
import { renderProfileConfig } from "./render.js";

/** What the sync needs of the runtime manager and of runtime ownership. */
export interface RuntimeRestartControl {
  stateOf(tenantId: string): RuntimeState;
  stop(tenantId: string): Promise<void>;
  start(tenantId: string): Promise<unknown>;
  /** Whether this replica may run the tenant's runtime (takes the lease when free). */
  decide(tenantId: string): Promise<{ kind: "local" } | { kind: "remote"; ownerUrl: string }>;
}

/** States in which a runtime process exists (or is about to) with a config rendered earlier. */
const RUNNING: ReadonlySet<RuntimeState> = new Set(["starting", "ready", "backoff"]);

/**
 * Creates the snapshot listener. The first snapshot only records each tenant's policy.
 * @returns the listener (for `SnapshotPublisher.onChange`) and `settled()`, resolving when restarts begun so far
 *   have finished (tests, shutdown)
 */
export function createProfileRuntimeSync(resolver: ProfileResolver, runtimes: RuntimeRestartControl, logger: Pick<Logger, "info" | "error">): {
  onSnapshot(snapshot: Pick<PolicySnapshot, "tenants">): void;
  settled(): Promise<void>;
} {
  const applied = new Map<string, string>();
  const restarts = new Map<string, Promise<void>>();

  async function restart(tenantId: string): Promise<void> {
    if (!RUNNING.has(runtimes.stateOf(tenantId))) return;
    logger.info({ tenantId }, "permission profile changed: restarting the runtime with its new config");
    await runtimes.stop(tenantId);
    if ((await runtimes.decide(tenantId)).kind === "local") await runtimes.start(tenantId);
  }

  return {
    onSnapshot(snapshot) {
      for (const tenantId of applied.keys()) if (!snapshot.tenants.has(tenantId)) applied.delete(tenantId);
      for (const tenant of snapshot.tenants.values()) {
        const fingerprint = JSON.stringify(renderProfileConfig(resolver.forTenant(tenant.id, tenant.profile)));
        const previous = applied.get(tenant.id);
        applied.set(tenant.id, fingerprint);
        if (previous === undefined || previous === fingerprint) continue;
        // One restart at a time per tenant; a later change waits for the earlier restart, then restarts again.
        const next = (restarts.get(tenant.id) ?? Promise.resolve())
          .then(() => restart(tenant.id))
          .catch((error: unknown) => logger.error({ err: error, tenantId: tenant.id }, "restarting a runtime after a profile change failed"));
        restarts.set(tenant.id, next);
        void next.finally(() => {
          if (restarts.get(tenant.id) === next) restarts.delete(tenant.id);
        });
      }
    },
    async settled() {
      while (restarts.size > 0) await Promise.all([...restarts.values()]);
    },
  };
}
