/**
 * Unit tests of the live identity-scope update: the config-file rewrite (`live-config.ts`: only
 * `gateway.auth.identityScopes` changes, atomically, never through a symlink, nothing written when equal) and the
 * propagation (`identity-sync.ts`: membership announcements over shared-state pub/sub reach only the replica whose
 * runtime is ready; key changes are found by comparing snapshots). The real OpenClaw side is covered by
 * `test/e2e/live-identity-scopes.test.ts`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { pino } from "pino";
import type { PolicySnapshot } from "../../../src/control/snapshot.js";
import type { ApiKeyRecord } from "../../../src/contracts/store.js";
import { canonicalIdentityScopes, rewriteIdentityScopes } from "../../../src/runtime/drivers/process/live-config.js";
import { tenantLayout } from "../../../src/runtime/drivers/process/layout.js";
import { RuntimeIdentitySync } from "../../../src/runtime/identity-sync.js";
import { MemorySharedState } from "../../../src/state/memory/shared-state.js";

const logger = pino({ level: "silent" });

function runningConfig(identityScopes: Record<string, string[]>): Record<string, unknown> {
  return {
    gateway: { mode: "local", port: 18789, auth: { mode: "trusted-proxy", trustedProxy: { userHeader: "x-clawfleet-user", allowLoopback: true }, identityScopes }, trustedProxies: ["127.0.0.1"] },
    agents: { defaults: { workspace: "/srv/tenant/workspace" } },
    tenantOwnSetting: { keep: [1, 2, 3] },
  };
}

function layoutWith(config: unknown): ReturnType<typeof tenantLayout> {
  const layout = tenantLayout(mkdtempSync(path.join(tmpdir(), "cf-live-")), "acme");
  mkdirSync(layout.stateDir, { recursive: true });
  writeFileSync(layout.configPath, typeof config === "string" ? config : `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return layout;
}

test("rewriteIdentityScopes replaces only gateway.auth.identityScopes, in place, mode 0600", async () => {
  const layout = layoutWith(runningConfig({ "clawfleet:approvals": ["operator.read"], "user:a": ["operator.read"] }));
  const inodeBefore = statSync(layout.configPath).ino;
  const outcome = await rewriteIdentityScopes(layout, { "clawfleet:approvals": ["operator.read"], "user:a": ["operator.read", "operator.write"], "apikey:k1": ["operator.read", "operator.write"] });
  assert.equal(outcome, "written");
  const after = JSON.parse(readFileSync(layout.configPath, "utf8")) as ReturnType<typeof runningConfig>;
  const expected = runningConfig({ "clawfleet:approvals": ["operator.read"], "user:a": ["operator.read", "operator.write"], "apikey:k1": ["operator.read", "operator.write"] });
  assert.deepEqual(after, expected, "every other key is as it was");
  const stat = statSync(layout.configPath);
  assert.equal(stat.mode & 0o777, 0o600);
  assert.equal(stat.ino, inodeBefore, "the same inode: the sandbox sees the file through a read-only bind of that inode");
});

test("rewriteIdentityScopes writes nothing when the map on disk is equal (order-insensitive)", async () => {
  const layout = layoutWith(runningConfig({ "user:b": ["operator.write", "operator.read"], "user:a": ["operator.read"] }));
  const inodeBefore = statSync(layout.configPath).ino;
  assert.equal(await rewriteIdentityScopes(layout, { "user:a": ["operator.read"], "user:b": ["operator.read", "operator.write"] }), "unchanged");
  assert.equal(statSync(layout.configPath).ino, inodeBefore);
  assert.equal(canonicalIdentityScopes({ x: ["b", "a", "a"] }), canonicalIdentityScopes({ x: ["a", "b"] }));
  assert.notEqual(canonicalIdentityScopes({ x: ["a"] }), canonicalIdentityScopes({ x: ["a"], y: [] }));
});

test("rewriteIdentityScopes refuses a token-mode config, a non-object, and a symlinked config", async () => {
  const tokenMode = layoutWith({ gateway: { auth: { mode: "token", token: "t" } } });
  await assert.rejects(rewriteIdentityScopes(tokenMode, {}), /not in trusted-proxy mode/);
  assert.deepEqual(JSON.parse(readFileSync(tokenMode.configPath, "utf8")), { gateway: { auth: { mode: "token", token: "t" } } }, "left alone");
  await assert.rejects(rewriteIdentityScopes(layoutWith("[1,2]"), {}), /not a JSON object/);
  await assert.rejects(rewriteIdentityScopes(layoutWith("{nope"), {}), /not valid JSON/);
  const linked = layoutWith(runningConfig({}));
  const outside = path.join(path.dirname(linked.tenantRoot), "outside.json");
  writeFileSync(outside, JSON.stringify(runningConfig({ "user:x": ["operator.read"] })));
  const { rmSync } = await import("node:fs");
  rmSync(linked.configPath);
  symlinkSync(outside, linked.configPath);
  await assert.rejects(rewriteIdentityScopes(linked, { "user:x": ["operator.admin"] }));
  assert.deepEqual(JSON.parse(readFileSync(outside, "utf8")), runningConfig({ "user:x": ["operator.read"] }), "the symlink's target is untouched");
});

function snapshotWith(keys: Array<Pick<ApiKeyRecord, "id" | "tenantId" | "kind" | "scopes">>): PolicySnapshot {
  return { version: 1, builtAtMs: 0, tenants: new Map(), profiles: new Map(), keys: new Map(keys.map((key) => [key.id, key as ApiKeyRecord])) };
}

test("identity sync: a membership announcement refreshes the runtime only on the replica where it is ready", async () => {
  const shared = new MemorySharedState();
  const refreshed: Array<{ replica: string; tenantId: string }> = [];
  const replica = (name: string, ready: string[]) =>
    new RuntimeIdentitySync({ sharedState: shared, logger, resyncIntervalMs: 0, target: { readyTenants: () => ready, refreshIdentityScopes: async (tenantId) => refreshed.push({ replica: name, tenantId }) } });
  const owner = replica("owner", ["acme"]);
  const other = replica("other", ["globex"]);
  await owner.start();
  await other.start();
  await other.membershipsChanged("acme");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(refreshed, [{ replica: "owner", tenantId: "acme" }]);
  await owner.close();
  await other.close();
  await shared.close();
});

test("identity sync: snapshot changes refresh a ready runtime when its tenant's chat keys changed, not otherwise", async () => {
  const refreshed: string[] = [];
  const sync = new RuntimeIdentitySync({ sharedState: new MemorySharedState(), logger, resyncIntervalMs: 0, target: { readyTenants: () => ["acme"], refreshIdentityScopes: async (tenantId) => refreshed.push(tenantId) } });
  const chat = { id: "k1", tenantId: "acme", kind: "tenant" as const, scopes: ["chat" as const] };
  sync.onSnapshot(snapshotWith([chat]));
  assert.deepEqual(refreshed, ["acme"], "first sight of a ready runtime");
  sync.onSnapshot(snapshotWith([chat, { id: "m1", tenantId: "acme", kind: "tenant", scopes: ["model"] }, { id: "g1", tenantId: "globex", kind: "tenant", scopes: ["chat"] }]));
  assert.deepEqual(refreshed, ["acme"], "a model-only key or another tenant's key changes nothing");
  sync.onSnapshot(snapshotWith([chat, { id: "k2", tenantId: "acme", kind: "tenant", scopes: ["chat", "model"] }]));
  sync.onSnapshot(snapshotWith([{ id: "k2", tenantId: "acme", kind: "tenant", scopes: ["chat", "model"] }]));
  assert.deepEqual(refreshed, ["acme", "acme", "acme"], "a created and a revoked/expired chat key each refresh");
});

test("identity sync: the periodic resync refreshes every ready runtime", async () => {
  const refreshed: string[] = [];
  const sync = new RuntimeIdentitySync({ sharedState: new MemorySharedState(), logger, resyncIntervalMs: 20, target: { readyTenants: () => ["acme", "globex"], refreshIdentityScopes: async (tenantId) => refreshed.push(tenantId) } });
  await sync.start();
  await new Promise((resolve) => setTimeout(resolve, 70));
  await sync.close();
  assert.ok(refreshed.filter((tenantId) => tenantId === "acme").length >= 2 && refreshed.includes("globex"), refreshed.join(","));
});
