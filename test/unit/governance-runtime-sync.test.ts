/**
 * Profile changes restart running runtimes: the sync over a real store and snapshot publisher, with a recording
 * runtime control (the real runtime manager is exercised end to end in test/e2e/governance-runtime.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AuditLog } from "../../src/contracts/governance.js";
import type { RuntimeState } from "../../src/contracts/runtime-driver.js";
import { SnapshotPublisher } from "../../src/control/snapshot.js";
import { TenantService } from "../../src/control/tenants.js";
import { createProfileResolver } from "../../src/governance/profiles/resolver.js";
import { createProfileRuntimeSync } from "../../src/governance/profiles/runtime-sync.js";
import { ProfileService } from "../../src/governance/profiles/service.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";

test("assignment and edits that change the rendered policy restart running runtimes only; description edits and stopped runtimes do not", async () => {
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
  try {
    const snapshots = new SnapshotPublisher(store);
    const audit: AuditLog = { record: () => undefined, flush: async () => undefined };
    const tenants = new TenantService(store, snapshots);
    const profiles = new ProfileService({ store, snapshots, audit });
    await tenants.createTenant({ id: "acme" });
    await tenants.createTenant({ id: "idle" });
    await snapshots.refresh();
    const states = new Map<string, RuntimeState>([["acme", "ready"]]);
    const calls: string[] = [];
    const sync = createProfileRuntimeSync(
      createProfileResolver(() => snapshots.current(), { warn: () => undefined }),
      {
        stateOf: (tenantId) => states.get(tenantId) ?? "stopped",
        stop: async (tenantId) => {
          calls.push(`stop ${tenantId}`);
          states.set(tenantId, "stopped");
        },
        start: async (tenantId) => {
          calls.push(`start ${tenantId}`);
          states.set(tenantId, "ready");
        },
        decide: async () => ({ kind: "local" }),
      },
      { info: () => undefined, error: () => undefined },
    );
    sync.onSnapshot(snapshots.current());
    const unsubscribe = snapshots.onChange((snapshot) => sync.onSnapshot(snapshot));

    await profiles.assign("acme", "finance-agent", "admin");
    await profiles.assign("idle", "finance-agent", "admin");
    await sync.settled();
    assert.deepEqual(calls, ["stop acme", "start acme"]);

    await profiles.create({ name: "analysts", tools: { allow: ["read"] } }, "admin");
    await profiles.assign("acme", "analysts", "admin");
    await sync.settled();
    await profiles.replace("analysts", { description: "only the text changes" , tools: { allow: ["read"] } }, "admin");
    await sync.settled();
    assert.deepEqual(calls, ["stop acme", "start acme", "stop acme", "start acme"]);

    await profiles.replace("analysts", { tools: { allow: ["read", "exec"] } }, "admin");
    await sync.settled();
    assert.deepEqual(calls.slice(4), ["stop acme", "start acme"]);

    // A runtime owned by another replica is stopped here only if it ran here; never started here.
    const remote = createProfileRuntimeSync(
      createProfileResolver(() => snapshots.current(), { warn: () => undefined }),
      { stateOf: () => "ready", stop: async (tenantId) => void calls.push(`remote-stop ${tenantId}`), start: async (tenantId) => void calls.push(`remote-start ${tenantId}`), decide: async () => ({ kind: "remote", ownerUrl: "http://127.0.0.1:1" }) },
      { info: () => undefined, error: () => undefined },
    );
    remote.onSnapshot(snapshots.current());
    unsubscribe();
    snapshots.onChange((snapshot) => remote.onSnapshot(snapshot));
    await profiles.assign("acme", "web-agent", "admin");
    await remote.settled();
    assert.deepEqual(calls.slice(6), ["remote-stop acme"]);
  } finally {
    await store.close();
  }
});
