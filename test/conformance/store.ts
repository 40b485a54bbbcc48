/**
 * The {@link Store} conformance suite (STYLE.md §7), run against every dialect: `test/unit/store-sqlite.test.ts`
 * (SQLite in memory and on a file) and `test/e2e/store-postgres.test.ts` (a real PostgreSQL).
 * Model: kysely's DIALECTS test matrix, oauth2-proxy's `RunSessionStoreTests`.
 *
 * Every test opens a fresh, empty store (migrated to the latest schema) and cleans it up afterwards.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { ClawfleetError, type ErrorCode } from "../../src/contracts/errors.js";
import type { ApiKeyRecord, RequestRecord, Store } from "../../src/contracts/store.js";
import { runApprovalStoreConformance } from "./approval-store.js";
import { runGovernanceStoreConformance } from "./governance-store.js";

/** A store under test and how to dispose of it (close it, drop its schema or file). */
export interface StoreUnderTest {
  store: Store;
  cleanup(): Promise<void>;
}

/** Opens a fresh, empty, migrated store whose record timestamps come from `now` (epoch ms). */
export type OpenStoreUnderTest = (options: { now: () => number }) => Promise<StoreUnderTest>;

const START_MS = 1_700_000_000_000;
/** 2100-01-01: past 2^32 seconds and far past 2^31 ms, so a 32-bit column would fail. */
const FAR_FUTURE_MS = 4_102_444_800_000;

function rejectsWith(code: ErrorCode) {
  return (error: unknown) => error instanceof ClawfleetError && error.code === code;
}

function apiKey(overrides: Partial<ApiKeyRecord> & Pick<ApiKeyRecord, "id" | "tenantId">): ApiKeyRecord {
  return {
    kind: "tenant",
    scopes: ["chat", "model"],
    hash: "a".repeat(64),
    createdAtMs: START_MS,
    expiresAtMs: null,
    revokedAtMs: null,
    lastUsedAtMs: null,
    ...overrides,
  };
}

function requestRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: randomUUID(),
    requestId: "req-1",
    tenantId: "acme",
    keyId: "key-acme-1",
    api: "openai-chat",
    requestedModel: "default",
    provider: "openai",
    model: "gpt-4o-mini",
    status: 200,
    stream: true,
    inputTokens: 1200,
    outputTokens: 80,
    cacheReadTokens: 1000,
    cacheWriteTokens: 7,
    reasoningTokens: 3,
    costUsdMicros: 153,
    overheadMs: 0.412,
    durationMs: 812.537_891,
    attempts: 2,
    errorCode: null,
    upstreamRequestId: "req_0123456789abcdef0123456789abcdef",
    createdAtMs: START_MS,
    ...overrides,
  };
}

/** Settings that exercise JSON escaping and Unicode (astral plane, combining marks, RTL, NUL, a lone surrogate). */
const TRICKY_SETTINGS: Record<string, unknown> = {
  name: "Zoë Ångström 東京 🚀👩‍💻",
  rtl: "مرحبا بالعالم",
  combining: "e\u0301",
  escapes: "quote \" backslash \\ newline \n tab \t",
  nul: "before\u0000after",
  loneSurrogate: "\ud800",
  nested: { list: [1, -2.5, "three", null, true, { deep: [] }], empty: {} },
  big: Number.MAX_SAFE_INTEGER,
  "key with spaces / and ünïcode": "✓",
};

/**
 * Registers the conformance tests for one store implementation under `describe(name)`.
 * `open` may ignore its options when called as `() => …`, but then time-dependent assertions use the wall clock.
 */
export function runStoreConformance(name: string, open: OpenStoreUnderTest): void {
  describe(`Store conformance: ${name}`, () => {
    let nowMs = START_MS;
    const clock = { now: () => nowMs };

    async function withStore(body: (store: Store) => Promise<void>): Promise<void> {
      nowMs = START_MS;
      const { store, cleanup } = await open(clock);
      try {
        await body(store);
      } finally {
        await cleanup();
      }
    }

    runApprovalStoreConformance(withStore);

    test("ping answers on an open store", () =>
      withStore(async (store) => {
        assert.equal(await store.ping(), true);
      }));

    describe("tenants", () => {
      test("create returns the stored record; get finds it; unknown ids are null", () =>
        withStore(async (store) => {
          const created = await store.tenants.create({ id: "acme", profile: "default" });
          assert.deepEqual(created, { id: "acme", number: created.number, profile: "default", settings: {}, createdAtMs: START_MS });
          assert.equal(typeof created.number, "number");
          assert.ok(Number.isSafeInteger(created.number) && created.number >= 1);
          assert.deepEqual(await store.tenants.get("acme"), created);
          assert.equal(await store.tenants.get("globex"), null);
          assert.equal(await store.tenants.get("ACME"), null, "ids compare case-sensitively");
        }));

      test("numbers increase and are never reused, even after deletes", () =>
        withStore(async (store) => {
          const first = await store.tenants.create({ id: "a", profile: "default" });
          const second = await store.tenants.create({ id: "b", profile: "default" });
          assert.ok(second.number > first.number);
          assert.equal(await store.tenants.delete("b"), true);
          const third = await store.tenants.create({ id: "c", profile: "default" });
          assert.ok(third.number > second.number, "the deleted tenant's number is not handed out again");
          assert.equal(await store.tenants.delete("a"), true);
          const again = await store.tenants.create({ id: "a", profile: "default" });
          assert.ok(again.number > third.number, "re-creating an id gets a new number");
        }));

      test("a duplicate id is refused with CF_TENANT_EXISTS and leaves the existing tenant untouched", () =>
        withStore(async (store) => {
          const original = await store.tenants.create({ id: "acme", profile: "default", settings: { keep: true } });
          await assert.rejects(store.tenants.create({ id: "acme", profile: "other", settings: { keep: false } }), rejectsWith("CF_TENANT_EXISTS"));
          assert.deepEqual(await store.tenants.get("acme"), original);
          assert.equal((await store.tenants.list()).length, 1);
          const next = await store.tenants.create({ id: "globex", profile: "default" });
          assert.ok(next.number > original.number);
        }));

      test("20 parallel creates get 20 distinct numbers", () =>
        withStore(async (store) => {
          const ids = Array.from({ length: 20 }, (_, index) => `tenant-${String(index).padStart(2, "0")}`);
          const created = await Promise.all(ids.map((id) => store.tenants.create({ id, profile: "default" })));
          assert.equal(new Set(created.map((tenant) => tenant.number)).size, 20);
          const listed = await store.tenants.list();
          assert.deepEqual(listed.map((tenant) => tenant.id), ids);
          assert.deepEqual(new Map(listed.map((tenant) => [tenant.id, tenant.number])), new Map(created.map((tenant) => [tenant.id, tenant.number])));
        }));

      test("parallel creates of one id: exactly one wins, the others get CF_TENANT_EXISTS", () =>
        withStore(async (store) => {
          const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, index) => store.tenants.create({ id: "race", profile: `p${index}` })));
          const won = outcomes.filter((outcome) => outcome.status === "fulfilled");
          const lost = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
          assert.equal(won.length, 1);
          for (const outcome of lost) assert.ok(rejectsWith("CF_TENANT_EXISTS")(outcome.reason), String(outcome.reason));
          assert.deepEqual(await store.tenants.get("race"), won[0]?.value);
        }));

      test("list is empty at first, then ordered by id in code-point order", () =>
        withStore(async (store) => {
          assert.deepEqual(await store.tenants.list(), []);
          for (const id of ["b", "ab", "a-c", "aa", "a-b", "a0", "z9"]) await store.tenants.create({ id, profile: "default" });
          assert.deepEqual((await store.tenants.list()).map((tenant) => tenant.id), ["a-b", "a-c", "a0", "aa", "ab", "b", "z9"]);
        }));

      test("settings round-trip through JSON text, Unicode and escapes included", () =>
        withStore(async (store) => {
          const created = await store.tenants.create({ id: "acme", profile: "default", settings: TRICKY_SETTINGS });
          assert.deepEqual(created.settings, TRICKY_SETTINGS);
          assert.deepEqual((await store.tenants.get("acme"))?.settings, TRICKY_SETTINGS);
        }));

      test("updateSettings replaces the settings and returns the record; unknown tenants give null", () =>
        withStore(async (store) => {
          const created = await store.tenants.create({ id: "acme", profile: "default", settings: { old: 1, kept: "no" } });
          const updated = await store.tenants.updateSettings("acme", TRICKY_SETTINGS);
          assert.deepEqual(updated, { ...created, settings: TRICKY_SETTINGS });
          assert.deepEqual(await store.tenants.get("acme"), updated);
          assert.deepEqual((await store.tenants.updateSettings("acme", {}))?.settings, {});
          assert.equal(await store.tenants.updateSettings("globex", { any: 1 }), null);
          assert.equal(await store.tenants.get("globex"), null);
        }));

      test("delete removes the tenant and its keys only; false when unknown", () =>
        withStore(async (store) => {
          await store.tenants.create({ id: "acme", profile: "default" });
          await store.tenants.create({ id: "globex", profile: "default" });
          await store.apiKeys.insert(apiKey({ id: "key-acme-1", tenantId: "acme" }));
          await store.apiKeys.insert(apiKey({ id: "key-acme-2", tenantId: "acme", kind: "runtime" }));
          await store.apiKeys.insert(apiKey({ id: "key-globex-1", tenantId: "globex" }));
          assert.equal(await store.tenants.delete("acme"), true);
          assert.equal(await store.tenants.get("acme"), null);
          assert.equal(await store.apiKeys.get("key-acme-1"), null);
          assert.deepEqual(await store.apiKeys.listByTenant("acme"), []);
          assert.equal((await store.apiKeys.get("key-globex-1"))?.tenantId, "globex");
          assert.equal(await store.tenants.delete("acme"), false);
          assert.equal(await store.tenants.delete("never-existed"), false);
          assert.deepEqual((await store.tenants.list()).map((tenant) => tenant.id), ["globex"]);
        }));
    });

    describe("API keys", () => {
      async function withTenants(body: (store: Store) => Promise<void>): Promise<void> {
        return withStore(async (store) => {
          await store.tenants.create({ id: "acme", profile: "default" });
          await store.tenants.create({ id: "globex", profile: "default" });
          await body(store);
        });
      }

      test("insert then get round-trips every field, nulls and far-future times included", () =>
        withTenants(async (store) => {
          const plain = apiKey({ id: "key-acme-1", tenantId: "acme" });
          const full = apiKey({
            id: "key-acme-2",
            tenantId: "acme",
            kind: "runtime",
            scopes: ["model"],
            hash: "0123456789abcdef".repeat(4),
            createdAtMs: START_MS + 1,
            expiresAtMs: FAR_FUTURE_MS,
            revokedAtMs: START_MS + 2,
            lastUsedAtMs: START_MS + 3,
          });
          await store.apiKeys.insert(plain);
          await store.apiKeys.insert(full);
          assert.deepEqual(await store.apiKeys.get("key-acme-1"), plain);
          assert.deepEqual(await store.apiKeys.get("key-acme-2"), full);
          assert.equal(await store.apiKeys.get("unknown"), null);
          const stored = await store.apiKeys.get("key-acme-2");
          for (const field of ["createdAtMs", "expiresAtMs", "revokedAtMs", "lastUsedAtMs"] as const) assert.equal(typeof stored?.[field], "number", field);
        }));

      test("a duplicate key id is refused", () =>
        withTenants(async (store) => {
          await store.apiKeys.insert(apiKey({ id: "key-1", tenantId: "acme" }));
          await assert.rejects(store.apiKeys.insert(apiKey({ id: "key-1", tenantId: "globex" })));
          assert.equal((await store.apiKeys.get("key-1"))?.tenantId, "acme");
        }));

      test("listByTenant gives only that tenant's keys, oldest first", () =>
        withTenants(async (store) => {
          await store.apiKeys.insert(apiKey({ id: "key-c", tenantId: "acme", createdAtMs: START_MS + 30 }));
          await store.apiKeys.insert(apiKey({ id: "key-a", tenantId: "acme", createdAtMs: START_MS + 10 }));
          await store.apiKeys.insert(apiKey({ id: "key-g", tenantId: "globex", createdAtMs: START_MS + 5 }));
          await store.apiKeys.insert(apiKey({ id: "key-b", tenantId: "acme", createdAtMs: START_MS + 20, revokedAtMs: START_MS + 21 }));
          assert.deepEqual((await store.apiKeys.listByTenant("acme")).map((key) => key.id), ["key-a", "key-b", "key-c"]);
          assert.deepEqual((await store.apiKeys.listByTenant("globex")).map((key) => key.id), ["key-g"]);
          assert.deepEqual(await store.apiKeys.listByTenant("initech"), []);
        }));

      test("listActive leaves out revoked keys and keys expired at or before now", () =>
        withTenants(async (store) => {
          const now = START_MS + 1_000;
          await store.apiKeys.insert(apiKey({ id: "no-expiry", tenantId: "acme" }));
          await store.apiKeys.insert(apiKey({ id: "expires-later", tenantId: "globex", expiresAtMs: now + 1 }));
          await store.apiKeys.insert(apiKey({ id: "far-future", tenantId: "acme", expiresAtMs: FAR_FUTURE_MS }));
          await store.apiKeys.insert(apiKey({ id: "expires-now", tenantId: "acme", expiresAtMs: now }));
          await store.apiKeys.insert(apiKey({ id: "expired", tenantId: "acme", expiresAtMs: now - 1 }));
          await store.apiKeys.insert(apiKey({ id: "revoked", tenantId: "acme", revokedAtMs: START_MS }));
          await store.apiKeys.insert(apiKey({ id: "revoked-future", tenantId: "globex", expiresAtMs: FAR_FUTURE_MS, revokedAtMs: START_MS }));
          const active = await store.apiKeys.listActive(now);
          assert.deepEqual(active.map((key) => key.id).sort(), ["expires-later", "far-future", "no-expiry"]);
          assert.deepEqual(active.find((key) => key.id === "far-future"), apiKey({ id: "far-future", tenantId: "acme", expiresAtMs: FAR_FUTURE_MS }));
          assert.deepEqual((await store.apiKeys.listActive(now + 1)).map((key) => key.id).sort(), ["far-future", "no-expiry"]);
          assert.deepEqual((await store.apiKeys.listActive(START_MS - 10_000)).map((key) => key.id).sort(), ["expired", "expires-later", "expires-now", "far-future", "no-expiry"]);
        }));

      test("revoke marks only the tenant's own, not-yet-revoked key", () =>
        withTenants(async (store) => {
          await store.apiKeys.insert(apiKey({ id: "key-acme", tenantId: "acme" }));
          assert.equal(await store.apiKeys.revoke("globex", "key-acme", START_MS + 5), false, "another tenant cannot revoke it");
          assert.equal((await store.apiKeys.get("key-acme"))?.revokedAtMs, null);
          assert.equal(await store.apiKeys.revoke("acme", "unknown", START_MS + 5), false);
          assert.equal(await store.apiKeys.revoke("acme", "key-acme", START_MS + 10), true);
          assert.equal((await store.apiKeys.get("key-acme"))?.revokedAtMs, START_MS + 10);
          assert.equal(await store.apiKeys.revoke("acme", "key-acme", START_MS + 20), false, "already revoked");
          assert.equal((await store.apiKeys.get("key-acme"))?.revokedAtMs, START_MS + 10, "the first revocation time is kept");
          assert.deepEqual(await store.apiKeys.listActive(START_MS + 30), []);
        }));

      test("revokeAllOfKind revokes the tenant's live keys of that kind and counts them", () =>
        withTenants(async (store) => {
          await store.apiKeys.insert(apiKey({ id: "runtime-1", tenantId: "acme", kind: "runtime" }));
          await store.apiKeys.insert(apiKey({ id: "runtime-2", tenantId: "acme", kind: "runtime" }));
          await store.apiKeys.insert(apiKey({ id: "runtime-old", tenantId: "acme", kind: "runtime", revokedAtMs: START_MS }));
          await store.apiKeys.insert(apiKey({ id: "tenant-1", tenantId: "acme", kind: "tenant" }));
          await store.apiKeys.insert(apiKey({ id: "runtime-globex", tenantId: "globex", kind: "runtime" }));
          assert.equal(await store.apiKeys.revokeAllOfKind("acme", "runtime", START_MS + 50), 2);
          assert.equal((await store.apiKeys.get("runtime-1"))?.revokedAtMs, START_MS + 50);
          assert.equal((await store.apiKeys.get("runtime-2"))?.revokedAtMs, START_MS + 50);
          assert.equal((await store.apiKeys.get("runtime-old"))?.revokedAtMs, START_MS, "an earlier revocation is kept");
          assert.equal((await store.apiKeys.get("tenant-1"))?.revokedAtMs, null);
          assert.equal((await store.apiKeys.get("runtime-globex"))?.revokedAtMs, null);
          assert.equal(await store.apiKeys.revokeAllOfKind("acme", "runtime", START_MS + 60), 0);
          assert.equal(await store.apiKeys.revokeAllOfKind("initech", "tenant", START_MS + 60), 0);
        }));

      test("touch records last-used times in one batch; empty batches and unknown ids are ignored", () =>
        withTenants(async (store) => {
          await store.apiKeys.insert(apiKey({ id: "key-1", tenantId: "acme" }));
          await store.apiKeys.insert(apiKey({ id: "key-2", tenantId: "globex", lastUsedAtMs: START_MS }));
          await store.apiKeys.insert(apiKey({ id: "key-3", tenantId: "acme" }));
          await store.apiKeys.touch(new Map());
          await store.apiKeys.touch(new Map([["key-1", START_MS + 100], ["key-2", FAR_FUTURE_MS], ["ghost", START_MS + 1]]));
          assert.equal((await store.apiKeys.get("key-1"))?.lastUsedAtMs, START_MS + 100);
          assert.equal((await store.apiKeys.get("key-2"))?.lastUsedAtMs, FAR_FUTURE_MS);
          assert.equal((await store.apiKeys.get("key-3"))?.lastUsedAtMs, null);
          assert.equal(await store.apiKeys.get("ghost"), null, "touch does not create keys");
        }));
    });

    describe("request records", () => {
      test("insertMany of nothing is a no-op", () =>
        withStore(async (store) => {
          await store.requests.insertMany([]);
          assert.deepEqual(await store.requests.list({ limit: 10 }), []);
        }));

      test("one record round-trips every field: floats, nulls, booleans, counts beyond 32 bits", () =>
        withStore(async (store) => {
          const success = requestRecord({ inputTokens: 5_000_000_000, costUsdMicros: 9_007_199_254_740, createdAtMs: FAR_FUTURE_MS });
          await store.requests.insertMany([success]);
          assert.deepEqual(await store.requests.list({ limit: 10 }), [success]);
          const failure = requestRecord({
            stream: false,
            provider: null,
            model: null,
            status: 502,
            errorCode: "CF_UPSTREAM_ERROR",
            inputTokens: 0,
            outputTokens: 0,
            cacheReadTokens: 0,
            cacheWriteTokens: 0,
            reasoningTokens: 0,
            costUsdMicros: 0,
            overheadMs: 0,
            durationMs: 30_000.25,
            attempts: 0,
            requestId: "caller-chosen/ünïcode ✓",
          });
          await store.requests.insertMany([failure]);
          // Strict deep equality: a count or time read back as a string (PostgreSQL's `bigint`) fails here.
          assert.deepEqual(await store.requests.list({ limit: 10 }), [success, failure]);
        }));

      test("120 records in one batch: newest first, filtered by tenant, limited", () =>
        withStore(async (store) => {
          const records = Array.from({ length: 120 }, (_, index) =>
            requestRecord({ tenantId: index % 3 === 0 ? "globex" : "acme", requestId: `req-${index}`, createdAtMs: START_MS + index * 10, durationMs: index + 0.5 }),
          );
          await store.requests.insertMany(records);
          const newestFirst = [...records].reverse();
          assert.deepEqual(await store.requests.list({ limit: 1_000 }), newestFirst);
          assert.deepEqual(await store.requests.list({ limit: 5 }), newestFirst.slice(0, 5));
          assert.deepEqual(await store.requests.list({ tenantId: "globex", limit: 1_000 }), newestFirst.filter((record) => record.tenantId === "globex"));
          assert.deepEqual(await store.requests.list({ tenantId: "acme", limit: 3 }), newestFirst.filter((record) => record.tenantId === "acme").slice(0, 3));
          assert.deepEqual(await store.requests.list({ tenantId: "initech", limit: 10 }), []);
        }));

      test("a batch larger than one statement's parameters (2,600 records) is stored whole", () =>
        withStore(async (store) => {
          const records = Array.from({ length: 2_600 }, (_, index) => requestRecord({ createdAtMs: START_MS + index }));
          await store.requests.insertMany(records);
          const listed = await store.requests.list({ limit: 10_000 });
          assert.equal(listed.length, 2_600);
          assert.deepEqual(listed[0], records[2_599]);
          assert.deepEqual(listed[2_599], records[0]);
        }));

      describe("usage", () => {
        // START_MS is 2023-11-14T22:13:20Z: two hours later is the next UTC day.
        const HOUR_MS = 3_600_000;
        const fromMs = START_MS;
        const toMs = START_MS + 48 * HOUR_MS;
        const usageRecords = [
          requestRecord({ tenantId: "acme", keyId: "key-a", provider: "openai", model: "gpt-4o-mini", status: 200, inputTokens: 3_000_000_000, outputTokens: 10, cacheReadTokens: 1, cacheWriteTokens: 2, costUsdMicros: 2_500_000_000, createdAtMs: fromMs }),
          requestRecord({ tenantId: "acme", keyId: "key-a", provider: "openai", model: "gpt-4o-mini", status: 201, inputTokens: 3_000_000_000, outputTokens: 20, cacheReadTokens: 3, cacheWriteTokens: 4, costUsdMicros: 2_500_000_000, createdAtMs: fromMs + HOUR_MS }),
          requestRecord({ tenantId: "acme", keyId: "key-a", provider: "anthropic", model: "claude-sonnet", status: 429, inputTokens: 5, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsdMicros: 0, createdAtMs: fromMs + 2 * HOUR_MS }),
          requestRecord({ tenantId: "acme", keyId: "key-b", provider: "anthropic", model: "claude-sonnet", status: 502, inputTokens: 7, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, costUsdMicros: 11, createdAtMs: fromMs + 3 * HOUR_MS }),
          requestRecord({ tenantId: "globex", keyId: "key-g", provider: "openai", model: "gpt-4o", status: 200, inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0, costUsdMicros: 900, createdAtMs: fromMs + 30 * HOUR_MS }),
          requestRecord({ tenantId: "globex", keyId: "key-g", provider: "openai", model: "gpt-4o", status: 200, inputTokens: 999, costUsdMicros: 999, createdAtMs: fromMs - 1 }),
          requestRecord({ tenantId: "globex", keyId: "key-g", provider: "openai", model: "gpt-4o", status: 200, inputTokens: 999, costUsdMicros: 999, createdAtMs: toMs }),
        ];
        const sums = { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsdMicros: 0 };

        test("totals over [fromMs, toMs) without grouping; sums beyond 32 bits come back as numbers", () =>
          withStore(async (store) => {
            await store.requests.insertMany(usageRecords);
            assert.deepEqual(await store.requests.usage({ fromMs, toMs, groupBy: [] }), [
              { group: {}, requests: 5, errors: 2, inputTokens: 6_000_000_112, outputTokens: 81, cacheReadTokens: 4, cacheWriteTokens: 6, costUsdMicros: 5_000_000_911 },
            ]);
          }));

        test("grouped by tenant, then by tenant and UTC day, sorted by the group columns; a tenant filter narrows", () =>
          withStore(async (store) => {
            await store.requests.insertMany(usageRecords);
            assert.deepEqual(await store.requests.usage({ fromMs, toMs, groupBy: ["tenant"] }), [
              { ...sums, group: { tenant: "acme" }, requests: 4, errors: 2, inputTokens: 6_000_000_012, outputTokens: 31, cacheReadTokens: 4, cacheWriteTokens: 6, costUsdMicros: 5_000_000_011 },
              { ...sums, group: { tenant: "globex" }, requests: 1, inputTokens: 100, outputTokens: 50, costUsdMicros: 900 },
            ]);
            assert.deepEqual(await store.requests.usage({ fromMs, toMs, groupBy: ["tenant", "day"] }), [
              { ...sums, group: { tenant: "acme", day: "2023-11-14" }, requests: 2, inputTokens: 6_000_000_000, outputTokens: 30, cacheReadTokens: 4, cacheWriteTokens: 6, costUsdMicros: 5_000_000_000 },
              { ...sums, group: { tenant: "acme", day: "2023-11-15" }, requests: 2, errors: 2, inputTokens: 12, outputTokens: 1, costUsdMicros: 11 },
              { ...sums, group: { tenant: "globex", day: "2023-11-16" }, requests: 1, inputTokens: 100, outputTokens: 50, costUsdMicros: 900 },
            ]);
            assert.deepEqual(
              (await store.requests.usage({ fromMs, toMs, tenantId: "acme", groupBy: ["key", "provider", "model"] })).map((row) => [row.group, row.requests]),
              [
                [{ key: "key-a", provider: "anthropic", model: "claude-sonnet" }, 1],
                [{ key: "key-a", provider: "openai", model: "gpt-4o-mini" }, 2],
                [{ key: "key-b", provider: "anthropic", model: "claude-sonnet" }, 1],
              ],
            );
            assert.deepEqual(await store.requests.usage({ fromMs, toMs, tenantId: "initech", groupBy: ["tenant"] }), []);
            assert.deepEqual(await store.requests.usage({ fromMs: toMs + 1, toMs: toMs + 2, groupBy: ["day"] }), []);
          }));

        test("records without a provider form their own group (null)", () =>
          withStore(async (store) => {
            await store.requests.insertMany([requestRecord({ provider: null, model: null, status: 400, createdAtMs: fromMs }), requestRecord({ provider: "openai", createdAtMs: fromMs })]);
            const rows = (await store.requests.usage({ fromMs, toMs, groupBy: ["provider", "model"] })).map((row) => ({ group: row.group, requests: row.requests, errors: row.errors }));
            // Order-insensitive here: where NULL sorts differs by dialect (first on SQLite, last on PostgreSQL).
            const key = (row: { group: object }) => JSON.stringify(row.group);
            assert.deepEqual(
              rows.sort((left, right) => (key(left) < key(right) ? -1 : 1)),
              [
                { group: { provider: "openai", model: "gpt-4o-mini" }, requests: 1, errors: 0 },
                { group: { provider: null, model: null }, requests: 1, errors: 1 },
              ],
            );
          }));
      });

      test("records of a deleted tenant remain (usage history outlives the tenant)", () =>
        withStore(async (store) => {
          await store.tenants.create({ id: "acme", profile: "default" });
          const record = requestRecord();
          await store.requests.insertMany([record]);
          await store.tenants.delete("acme");
          assert.deepEqual(await store.requests.list({ tenantId: "acme", limit: 10 }), [record]);
        }));
    });

    runGovernanceStoreConformance(withStore);
  });
}
