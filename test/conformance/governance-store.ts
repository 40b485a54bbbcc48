/**
 * Conformance cases for the governance repositories (profiles with versions, the append-only audit trail),
 * registered inside {@link runStoreConformance} so SQLite (memory and file) and PostgreSQL all run them.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClawfleetError } from "../../src/contracts/errors.js";
import type { AuditEvent, PermissionProfileInput } from "../../src/contracts/governance.js";
import type { Store } from "../../src/contracts/store.js";

type WithStore = (body: (store: Store) => Promise<void>) => Promise<void>;

const AT_MS = 1_700_000_000_000;

function profileInput(name: string, overrides: Partial<PermissionProfileInput> = {}): PermissionProfileInput {
  return {
    name,
    description: "Reads the workspace — ünïcode ✓",
    tools: { allow: ["read", "group:web"], deny: ["group:runtime"], approval: ["write"] },
    paths: { roots: ["~workspace"] },
    exec: { allow: ["ls *"], deny: ["rm *"], defaultAction: "deny" },
    injection: { action: "block" },
    updatedBy: "admin",
    ...overrides,
  };
}

function isConflict(error: unknown): boolean {
  return error instanceof ClawfleetError && error.code === "CF_PROFILE_CONFLICT";
}

function event(overrides: Partial<Omit<AuditEvent, "id">> = {}): Omit<AuditEvent, "id"> {
  return { type: "key_created", tenantId: "acme", actor: "admin", requestId: null, atMs: AT_MS, details: { keyId: "abc", nested: { list: [1, "two", null, true] } }, ...overrides };
}

/** Registers the governance cases; `withStore` opens a fresh store for one test and disposes of it. */
export function runGovernanceStoreConformance(withStore: WithStore): void {
  describe("profiles", () => {
    test("put creates version 1; get and list return it with every field; unknown names are null", () =>
      withStore(async (store) => {
        const created = await store.profiles.put(profileInput("analysts"), { atMs: AT_MS });
        assert.deepEqual(created, { ...profileInput("analysts"), version: 1, updatedAtMs: AT_MS });
        assert.deepEqual(await store.profiles.get("analysts"), created);
        assert.deepEqual(await store.profiles.list(), [created]);
        assert.equal(await store.profiles.get("nobody"), null);
      }));

    test("every put is a new version kept in the history, newest first", () =>
      withStore(async (store) => {
        await store.profiles.put(profileInput("analysts"), { atMs: AT_MS });
        await store.profiles.put(profileInput("analysts", { description: "second" }), { atMs: AT_MS + 1 });
        const third = await store.profiles.put(profileInput("analysts", { description: "third", updatedBy: "approval:req-9" }), { atMs: AT_MS + 2 });
        assert.equal(third.version, 3);
        assert.equal(third.updatedBy, "approval:req-9");
        assert.deepEqual((await store.profiles.history("analysts")).map((version) => [version.version, version.description, version.updatedAtMs]), [
          [3, "third", AT_MS + 2],
          [2, "second", AT_MS + 1],
          [1, "Reads the workspace — ünïcode ✓", AT_MS],
        ]);
        assert.deepEqual(await store.profiles.get("analysts"), third);
      }));

    test("expectedVersion: 0 means create-only; a stale version is CF_PROFILE_CONFLICT and changes nothing", () =>
      withStore(async (store) => {
        await store.profiles.put(profileInput("analysts"), { atMs: AT_MS, expectedVersion: 0 });
        await assert.rejects(store.profiles.put(profileInput("analysts"), { atMs: AT_MS, expectedVersion: 0 }), isConflict);
        await store.profiles.put(profileInput("analysts", { description: "v2" }), { atMs: AT_MS, expectedVersion: 1 });
        await assert.rejects(store.profiles.put(profileInput("analysts", { description: "stale" }), { atMs: AT_MS, expectedVersion: 1 }), isConflict);
        await assert.rejects(store.profiles.put(profileInput("ghost"), { atMs: AT_MS, expectedVersion: 3 }), isConflict);
        assert.equal((await store.profiles.get("analysts"))?.description, "v2");
        assert.equal((await store.profiles.history("analysts")).length, 2);
        assert.equal(await store.profiles.get("ghost"), null);
      }));

    test("10 parallel writers expecting the same version: exactly one wins", () =>
      withStore(async (store) => {
        await store.profiles.put(profileInput("analysts"), { atMs: AT_MS });
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_unused, index) => store.profiles.put(profileInput("analysts", { description: `writer ${index}` }), { atMs: AT_MS, expectedVersion: 1 })),
        );
        assert.equal(results.filter((result) => result.status === "fulfilled").length, 1);
        for (const result of results) if (result.status === "rejected") assert.ok(isConflict(result.reason));
        assert.equal((await store.profiles.get("analysts"))?.version, 2);
        assert.equal((await store.profiles.history("analysts")).length, 2);
      }));

    test("delete removes the current version only; a re-create continues the numbering; list is sorted", () =>
      withStore(async (store) => {
        await store.profiles.put(profileInput("b-team"), { atMs: AT_MS });
        await store.profiles.put(profileInput("a-team"), { atMs: AT_MS });
        await store.profiles.put(profileInput("ab"), { atMs: AT_MS });
        assert.deepEqual((await store.profiles.list()).map((profile) => profile.name), ["a-team", "ab", "b-team"]);
        assert.equal(await store.profiles.delete("b-team"), true);
        assert.equal(await store.profiles.delete("b-team"), false);
        assert.equal(await store.profiles.get("b-team"), null);
        assert.equal((await store.profiles.history("b-team")).length, 1);
        const recreated = await store.profiles.put(profileInput("b-team"), { atMs: AT_MS, expectedVersion: 0 });
        assert.equal(recreated.version, 2);
      }));
  });

  describe("tenant profile assignment", () => {
    test("updateProfile changes the tenant's profile name; unknown tenants give null", () =>
      withStore(async (store) => {
        await store.tenants.create({ id: "acme", profile: "readonly-agent" });
        const updated = await store.tenants.updateProfile("acme", "analysts");
        assert.equal(updated?.profile, "analysts");
        assert.equal((await store.tenants.get("acme"))?.profile, "analysts");
        assert.equal(await store.tenants.updateProfile("globex", "analysts"), null);
      }));
  });

  describe("audit trail", () => {
    test("append assigns increasing ids in order and round-trips every field", () =>
      withStore(async (store) => {
        const first = await store.audit.append([event(), event({ type: "key_revoked", tenantId: null, requestId: "req-1", actor: "system", atMs: 4_102_444_800_000 })]);
        const second = await store.audit.append([event({ type: "profile_changed" })]);
        const ids = [...first, ...second].map((stored) => Number(stored.id));
        assert.deepEqual([...ids].sort((left, right) => left - right), ids);
        assert.equal(new Set(ids).size, 3);
        assert.deepEqual(await store.audit.list({ limit: 10, order: "asc" }), [...first, ...second]);
        assert.deepEqual(first[1], { ...event({ type: "key_revoked", tenantId: null, requestId: "req-1", actor: "system", atMs: 4_102_444_800_000 }), id: first[1]?.id });
        assert.deepEqual(await store.audit.append([]), []);
      }));

    test("filters combine; cursor pages newest-first and oldest-first without gaps or repeats", () =>
      withStore(async (store) => {
        const events = await store.audit.append(
          Array.from({ length: 25 }, (_unused, index) =>
            event({ tenantId: index % 2 === 0 ? "acme" : "globex", type: index % 3 === 0 ? "agent_invocation" : "key_created", actor: `key:${index % 5}`, requestId: `req-${index}`, atMs: AT_MS + index * 1000 }),
          ),
        );
        const acme = events.filter((stored) => stored.tenantId === "acme");
        assert.deepEqual(await store.audit.list({ tenantId: "acme", limit: 100 }), [...acme].reverse());
        assert.deepEqual(
          (await store.audit.list({ tenantId: "acme", type: "agent_invocation", limit: 100, order: "asc" })).map((stored) => stored.requestId),
          ["req-0", "req-6", "req-12", "req-18", "req-24"],
        );
        assert.deepEqual((await store.audit.list({ actor: "key:3", limit: 100, order: "asc" })).map((stored) => stored.requestId), ["req-3", "req-8", "req-13", "req-18", "req-23"]);
        assert.deepEqual((await store.audit.list({ requestId: "req-7", limit: 100 })).map((stored) => stored.id), [events[7]?.id]);
        assert.deepEqual((await store.audit.list({ fromMs: AT_MS + 5000, toMs: AT_MS + 8000, limit: 100, order: "asc" })).map((stored) => stored.requestId), ["req-5", "req-6", "req-7"]);
        for (const order of ["asc", "desc"] as const) {
          const seen: string[] = [];
          let cursor: string | undefined;
          for (;;) {
            const page = await store.audit.list({ limit: 7, order, ...(cursor === undefined ? {} : { cursor }) });
            if (page.length === 0) break;
            seen.push(...page.map((stored) => stored.id));
            cursor = page[page.length - 1]?.id;
          }
          const expected = events.map((stored) => stored.id);
          assert.deepEqual(seen, order === "asc" ? expected : [...expected].reverse(), order);
        }
      }));

    test("a malformed cursor is CF_VALIDATION_FAILED", () =>
      withStore(async (store) => {
        await assert.rejects(store.audit.list({ limit: 10, cursor: "1; drop table audit_events" }), (error: unknown) => error instanceof ClawfleetError && error.code === "CF_VALIDATION_FAILED");
      }));

    test("append-only: the repository has no update or delete, and the database refuses both", () =>
      withStore(async (store) => {
        assert.deepEqual(Object.getOwnPropertyNames(Object.getPrototypeOf(store.audit)).filter((name) => name !== "constructor").sort(), ["append", "list"]);
        await store.audit.append([event()]);
        // Reach the table with raw SQL through the repository's own connection: both dialects carry a trigger.
        const database = (store.audit as unknown as { database: import("kysely").Kysely<unknown> }).database;
        const { sql } = await import("kysely");
        await assert.rejects(sql`update audit_events set actor = 'forged'`.execute(database), /append-only/);
        await assert.rejects(sql`delete from audit_events`.execute(database), /append-only/);
        assert.equal((await store.audit.list({ limit: 10 }))[0]?.actor, "admin");
      }));
  });
}
