/**
 * The profile service over a real (in-memory SQLite) store with the real snapshot publisher and an in-memory
 * audit sink: create/replace/versions/delete/assign, optimistic concurrency, "approve permanently" forks,
 * `profile_changed` events, and the resolver over the snapshot.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClawfleetError, type ErrorCode } from "../../src/contracts/errors.js";
import type { AuditEventInput, AuditLog } from "../../src/contracts/governance.js";
import type { Store } from "../../src/contracts/store.js";
import { SnapshotPublisher } from "../../src/control/snapshot.js";
import { TenantService } from "../../src/control/tenants.js";
import { createProfileResolver } from "../../src/governance/profiles/resolver.js";
import { ProfileService } from "../../src/governance/profiles/service.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";

class MemoryAudit implements AuditLog {
  readonly events: AuditEventInput[] = [];
  record(event: AuditEventInput): void {
    this.events.push(event);
  }
  async flush(): Promise<void> {}
}

async function setup(): Promise<{ store: Store; snapshots: SnapshotPublisher; audit: MemoryAudit; profiles: ProfileService; tenants: TenantService; close(): Promise<void> }> {
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:", now: () => 1_700_000_000_000 });
  const snapshots = new SnapshotPublisher(store);
  await snapshots.refresh();
  const audit = new MemoryAudit();
  return { store, snapshots, audit, profiles: new ProfileService({ store, snapshots, audit, now: () => 1_700_000_000_000 }), tenants: new TenantService(store, snapshots, Date.now, { audit }), close: () => store.close() };
}

const rejectsWith = (code: ErrorCode) => (error: unknown) => error instanceof ClawfleetError && error.code === code;

const ANALYSTS = { name: "analysts", description: "reads", tools: { allow: ["read", "group:web"], approval: ["write", "group:runtime"] }, exec: { defaultAction: "approval" } };

test("create → version 1 (published in the snapshot, audited); replace → version 2 with the changes; versions newest first", async () => {
  const { profiles, snapshots, audit, close } = await setup();
  try {
    const created = await profiles.create(ANALYSTS, "admin");
    assert.equal(created.version, 1);
    assert.equal(created.updatedBy, "admin");
    assert.equal(snapshots.current().profiles.get("analysts")?.version, 1);
    const replaced = await profiles.replace("analysts", { ...ANALYSTS, tools: { ...ANALYSTS.tools, allow: ["read"] }, exec: { defaultAction: "deny" } }, "admin", 1);
    assert.equal(replaced.version, 2);
    assert.equal(snapshots.current().profiles.get("analysts")?.version, 2);
    assert.deepEqual((await profiles.versions("analysts")).map((version) => version.version), [2, 1]);
    assert.deepEqual(
      audit.events.map((event) => [event.type, event.actor, event.details.action, event.details.beforeVersion, event.details.afterVersion]),
      [
        ["profile_changed", "admin", "created", null, 1],
        ["profile_changed", "admin", "replaced", 1, 2],
      ],
    );
    assert.deepEqual(audit.events[1]?.details.changes, { "tools.allow": { added: [], removed: ["group:web"] }, "exec.defaultAction": { from: "approval", to: "deny" } });
  } finally {
    await close();
  }
});

test("refusals: invalid body, duplicate create, stale expectedVersion, presets read-only, unknown names, body naming another profile", async () => {
  const { profiles, close } = await setup();
  try {
    await assert.rejects(profiles.create({ name: "x", tools: { allow: ["gateway"] } }, "admin"), rejectsWith("CF_PROFILE_INVALID"));
    await profiles.create(ANALYSTS, "admin");
    await assert.rejects(profiles.create(ANALYSTS, "admin"), rejectsWith("CF_PROFILE_CONFLICT"));
    await profiles.replace("analysts", ANALYSTS, "admin");
    await assert.rejects(profiles.replace("analysts", ANALYSTS, "admin", 1), rejectsWith("CF_PROFILE_CONFLICT"));
    await assert.rejects(profiles.replace("full", { name: "full" }, "admin"), rejectsWith("CF_PROFILE_READONLY"));
    await assert.rejects(profiles.delete("readonly-agent", "admin"), rejectsWith("CF_PROFILE_READONLY"));
    await assert.rejects(profiles.replace("ghost", { name: "ghost" }, "admin"), rejectsWith("CF_PROFILE_NOT_FOUND"));
    await assert.rejects(profiles.get("ghost"), rejectsWith("CF_PROFILE_NOT_FOUND"));
    await assert.rejects(profiles.versions("ghost"), rejectsWith("CF_PROFILE_NOT_FOUND"));
    await assert.rejects(profiles.replace("analysts", { ...ANALYSTS, name: "other" }, "admin"), rejectsWith("CF_PROFILE_INVALID"));
    // The name may come from the path alone.
    assert.equal((await profiles.replace("analysts", { description: "no name in body" }, "admin")).version, 3);
    assert.deepEqual((await profiles.versions("full")).map((version) => version.version), [0]);
    const listed = await profiles.list();
    assert.deepEqual(listed.map((item) => [item.name, item.builtIn]), [["readonly-agent", true], ["finance-agent", true], ["erp-agent", true], ["web-agent", true], ["full", true], ["analysts", false]]);
  } finally {
    await close();
  }
});

test("assign needs both to exist; delete is refused while assigned; new tenants get the default profile", async () => {
  const { profiles, tenants, audit, snapshots, close } = await setup();
  try {
    const { tenant } = await tenants.createTenant({ id: "acme" });
    assert.equal(tenant.profile, "readonly-agent");
    await assert.rejects(tenants.createTenant({ id: "globex", profile: "ghost" }), rejectsWith("CF_PROFILE_NOT_FOUND"));
    await profiles.create(ANALYSTS, "admin");
    await assert.rejects(profiles.assign("acme", "ghost", "admin"), rejectsWith("CF_PROFILE_NOT_FOUND"));
    await assert.rejects(profiles.assign("nobody", "analysts", "admin"), rejectsWith("CF_TENANT_NOT_FOUND"));
    assert.equal((await profiles.assign("acme", "analysts", "admin")).profile, "analysts");
    assert.equal(snapshots.current().tenants.get("acme")?.profile, "analysts");
    const assigned = audit.events.find((event) => event.details.action === "assigned");
    assert.deepEqual(assigned, { type: "profile_changed", tenantId: "acme", actor: "admin", requestId: null, details: { action: "assigned", profile: "analysts", version: 1, previousProfile: "readonly-agent" } });
    await assert.rejects(profiles.delete("analysts", "admin"), (error: unknown) => rejectsWith("CF_PROFILE_IN_USE")(error) && JSON.stringify((error as ClawfleetError).details).includes("acme"));
    await profiles.assign("acme", "web-agent", "admin");
    await profiles.delete("analysts", "admin");
    assert.equal(snapshots.current().profiles.has("analysts"), false);
    await assert.rejects(profiles.get("analysts"), rejectsWith("CF_PROFILE_NOT_FOUND"));
    assert.equal((await profiles.versions("analysts")).length, 1, "versions outlive the delete");
    // Keys were audited too.
    assert.ok(audit.events.some((event) => event.type === "key_created" && event.tenantId === "acme" && event.actor === "admin"));
  } finally {
    await close();
  }
});

test("approve permanently on a preset forks <tenant>-custom, assigns it, allows the tool and drops it from approval", async () => {
  const { profiles, tenants, store, audit, close } = await setup();
  try {
    await tenants.createTenant({ id: "acme", profile: "finance-agent" });
    const forked = await profiles.allowToolPermanently("acme", "exec", "approver:alice");
    assert.equal(forked.name, "acme-custom");
    assert.equal(forked.version, 1);
    assert.ok(forked.tools.allow.includes("exec"));
    assert.deepEqual(forked.tools.approval, ["message"]);
    assert.equal((await store.tenants.get("acme"))?.profile, "acme-custom");
    assert.deepEqual((await profiles.get("finance-agent")).tools.approval, ["exec", "message"], "the preset is untouched");
    const fork = audit.events.find((event) => event.details.action === "forked");
    assert.equal(fork?.actor, "approver:alice");
    assert.equal(fork?.details.forkedFrom, "finance-agent");
    assert.deepEqual(fork?.details.changes, { "tools.approval": { added: [], removed: ["exec"] }, "tools.allow": { added: ["exec"], removed: [] } });
    // Now the profile is the tenant's own: the next permanent approval edits it in place.
    const edited = await profiles.allowToolPermanently("acme", "message", "approver:alice");
    assert.equal(edited.name, "acme-custom");
    assert.equal(edited.version, 2);
    assert.deepEqual(edited.tools.approval, []);
    assert.ok(edited.tools.allow.includes("message"));
  } finally {
    await close();
  }
});

test("approve permanently on a profile shared with another tenant forks it; groups in approval are split; denied and always-blocked tools are refused", async () => {
  const { profiles, tenants, store, close } = await setup();
  try {
    await profiles.create(ANALYSTS, "admin");
    await tenants.createTenant({ id: "acme", profile: "analysts" });
    await tenants.createTenant({ id: "globex", profile: "analysts" });
    await profiles.create({ name: "acme-custom" }, "admin");
    const forked = await profiles.allowToolPermanently("acme", "bash", "approver:bob");
    assert.equal(forked.name, "acme-custom-2", "the first free name");
    assert.deepEqual(forked.tools.approval, ["write", "process", "code_execution"]);
    assert.deepEqual(forked.tools.allow, ["read", "group:web", "exec"]);
    assert.equal((await store.tenants.get("globex"))?.profile, "analysts", "the other tenant keeps the shared profile");
    assert.deepEqual((await profiles.get("analysts")).tools.approval, ["write", "group:runtime"]);
    await assert.rejects(profiles.allowToolPermanently("acme", "gateway", "approver:bob"), rejectsWith("CF_PROFILE_INVALID"));
    await tenants.createTenant({ id: "initech", profile: "web-agent" });
    await assert.rejects(profiles.allowToolPermanently("initech", "exec", "approver:bob"), rejectsWith("CF_PROFILE_CONFLICT"));
    await assert.rejects(profiles.allowToolPermanently("nobody", "exec", "approver:bob"), rejectsWith("CF_TENANT_NOT_FOUND"));
  } finally {
    await close();
  }
});

test("resolver: presets, stored profiles from the snapshot, unknown names fall back to readonly-agent and are logged once", async () => {
  const { profiles, snapshots, close } = await setup();
  try {
    const warnings: unknown[] = [];
    const resolver = createProfileResolver(() => snapshots.current(), { warn: (object: unknown) => warnings.push(object) });
    assert.equal(resolver.forTenant("acme", "finance-agent").name, "finance-agent");
    assert.equal(resolver.forTenant("acme", "analysts").name, "readonly-agent");
    assert.equal(resolver.forTenant("acme", "analysts").name, "readonly-agent");
    assert.equal(warnings.length, 1);
    await profiles.create(ANALYSTS, "admin");
    const resolved = resolver.forTenant("acme", "analysts");
    assert.equal(resolved.name, "analysts");
    assert.equal(resolved.version, 1);
    assert.equal(resolver.forTenant("globex", "standard").name, "readonly-agent");
    assert.equal(warnings.length, 2);
  } finally {
    await close();
  }
});
