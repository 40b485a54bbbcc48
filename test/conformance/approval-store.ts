/**
 * Conformance cases of the approval repository (`Store.approvals`), registered inside the Store conformance suite
 * so they run on every dialect (SQLite in memory, SQLite file, PostgreSQL). Races between replicas are simulated by
 * concurrent calls on one store (PostgreSQL runs them on separate pooled connections).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { GrantRecord, PermissionRequestInput } from "../../src/contracts/approvals.js";
import type { Store } from "../../src/contracts/store.js";
import { sortableId } from "../../src/store/approval-repositories.js";

const T0 = 1_700_000_000_000;

function requestInput(overrides: Partial<PermissionRequestInput> = {}): PermissionRequestInput {
  return {
    id: sortableId("apr", T0),
    tenantId: "acme",
    sessionId: "session-1",
    requestId: "req-1",
    source: "gateway",
    toolCallId: "call_1",
    tool: "exec",
    arguments: { command: "rm -rf build", cwd: "/srv/tenant/workspace", unicode: "Zoë 🚀", nested: [1, { b: null }] },
    argumentsHash: "a".repeat(64),
    risk: "high",
    reason: "exec needs approval",
    createdAtMs: T0,
    deadlineAtMs: T0 + 1_800_000,
    runtimeApprovalId: null,
    runtimeInstanceId: null,
    ...overrides,
  };
}

function grant(overrides: Partial<GrantRecord> = {}): GrantRecord {
  return { id: sortableId("grt", T0), tenantId: "acme", tool: "exec", argumentsHash: null, argumentsPattern: null, sessionId: null, expiresAtMs: null, maxUses: null, uses: 0, createdBy: "admin", createdAtMs: T0, permissionRequestId: null, revokedAtMs: null, ...overrides };
}

const decision = (grants: GrantRecord[] = []) => ({ status: "approved" as const, decision: "approve_once" as const, decidedBy: "admin", decisionReason: null, decidedAtMs: T0 + 5, grants });

/** Registers the cases; `withStore` opens a fresh store per case. */
export function runApprovalStoreConformance(withStore: (body: (store: Store) => Promise<void>) => Promise<void>): void {
  describe("approvals", () => {
    test("findOrCreatePending round-trips every field and queues one notification per channel", () =>
      withStore(async (store) => {
        const input = requestInput();
        const { request, created } = await store.approvals.findOrCreatePending(input, "key-1", ["ops-webhook", "ops-mail"], T0);
        assert.equal(created, true);
        assert.deepEqual(request, { ...input, status: "pending", decidedAtMs: null, decidedBy: null, decision: null, decisionReason: null, runtimeResolvedAtMs: null });
        assert.deepEqual(await store.approvals.getRequest(input.id), request);
        const notifications = await store.approvals.listNotifications(input.id);
        assert.deepEqual(notifications.map((item) => [item.channel, item.attempts, item.nextAttemptAtMs, item.deliveredAtMs]).sort(), [["ops-mail", 0, T0, null], ["ops-webhook", 0, T0, null]]);
        assert.equal(await store.approvals.getRequest("apr_nope"), null);
      }));

    test("20 concurrent findOrCreatePending of one call create exactly one request", () =>
      withStore(async (store) => {
        const results = await Promise.all(Array.from({ length: 20 }, (_, index) => store.approvals.findOrCreatePending(requestInput({ id: sortableId("apr", T0 + index) }), "same-call", ["hook"], T0)));
        assert.equal(results.filter((result) => result.created).length, 1);
        assert.equal(new Set(results.map((result) => result.request.id)).size, 1);
        assert.equal((await store.approvals.listRequests({ limit: 100 })).length, 1);
        assert.equal((await store.approvals.listNotifications(results[0]?.request.id ?? "")).length, 1);
      }));

    test("decide applies once: concurrent decisions → one winner; the key is free again; grants written with it", () =>
      withStore(async (store) => {
        const { request } = await store.approvals.findOrCreatePending(requestInput(), "k", ["hook"], T0);
        const outcomes = await Promise.all(Array.from({ length: 10 }, (_, index) => store.approvals.decide(request.id, decision([grant({ id: sortableId("grt", T0 + index), maxUses: 1, permissionRequestId: request.id })]))));
        const winners = outcomes.filter((outcome) => outcome !== null);
        assert.equal(winners.length, 1);
        assert.equal(winners[0]?.status, "approved");
        assert.equal(winners[0]?.decidedBy, "admin");
        assert.equal(winners[0]?.decidedAtMs, T0 + 5);
        assert.equal((await store.approvals.listGrants({ limit: 100 })).length, 1, "only the winner's grant exists");
        assert.deepEqual((await store.approvals.listNotifications(request.id)).map((item) => item.nextAttemptAtMs), [null], "no notification after the decision");
        const next = await store.approvals.findOrCreatePending(requestInput({ id: sortableId("apr", T0 + 99) }), "k", [], T0);
        assert.equal(next.created, true, "a decided request does not block a new one for the same call");
        assert.deepEqual((await store.approvals.latestForCall("acme", "session-1", "exec", "a".repeat(64)))?.id, next.request.id);
      }));

    test("listRequests: newest first, filters by status and tenant, pages by cursor", () =>
      withStore(async (store) => {
        for (let index = 0; index < 5; index += 1) {
          await store.approvals.findOrCreatePending(requestInput({ id: sortableId("apr", T0 + index * 1000), tenantId: index % 2 === 0 ? "acme" : "globex" }), `k${index}`, [], T0);
        }
        const all = await store.approvals.listRequests({ limit: 10 });
        assert.equal(all.length, 5);
        assert.deepEqual(all.map((item) => item.id), [...all.map((item) => item.id)].sort().reverse());
        const first = await store.approvals.listRequests({ limit: 2 });
        const second = await store.approvals.listRequests({ limit: 2, cursor: first.at(-1)?.id as string });
        assert.deepEqual([...first, ...second].map((item) => item.id), all.slice(0, 4).map((item) => item.id));
        assert.equal((await store.approvals.listRequests({ limit: 10, tenantId: "globex" })).length, 2);
        await store.approvals.decide(all[0]?.id as string, { ...decision(), status: "rejected", decision: "reject", decisionReason: "no" });
        assert.equal((await store.approvals.listRequests({ limit: 10, status: "pending" })).length, 4);
        assert.deepEqual((await store.approvals.listRequests({ limit: 10, status: "rejected" })).map((item) => item.decisionReason), ["no"]);
      }));

    test("listDue gives pending requests at or past their deadline, oldest deadline first", () =>
      withStore(async (store) => {
        await store.approvals.findOrCreatePending(requestInput({ id: sortableId("apr", T0), deadlineAtMs: T0 + 200 }), "a", [], T0);
        await store.approvals.findOrCreatePending(requestInput({ id: sortableId("apr", T0 + 1), deadlineAtMs: T0 + 100 }), "b", [], T0);
        await store.approvals.findOrCreatePending(requestInput({ id: sortableId("apr", T0 + 2), deadlineAtMs: T0 + 300 }), "c", [], T0);
        assert.deepEqual((await store.approvals.listDue(T0 + 200, 10)).map((item) => item.deadlineAtMs), [T0 + 100, T0 + 200]);
        assert.deepEqual(await store.approvals.listDue(T0 + 99, 10), []);
      }));

    test("grants: usable ones only; consumeGrant respects max uses under concurrency, expiry and revocation", () =>
      withStore(async (store) => {
        const { request } = await store.approvals.findOrCreatePending(requestInput(), "k", [], T0);
        const once = grant({ id: sortableId("grt", T0), maxUses: 1, argumentsHash: "b".repeat(64), sessionId: "s" });
        const timed = grant({ id: sortableId("grt", T0 + 1), expiresAtMs: T0 + 1000, argumentsPattern: "ls *" });
        const other = grant({ id: sortableId("grt", T0 + 2), tool: "write" });
        await store.approvals.decide(request.id, decision([once, timed, other]));
        assert.deepEqual((await store.approvals.usableGrants("acme", "exec", T0)).map((item) => item.id), [timed.id, once.id]);
        assert.deepEqual(await store.approvals.getGrant(once.id), once);
        const consumed = await Promise.all(Array.from({ length: 10 }, () => store.approvals.consumeGrant(once.id, T0)));
        assert.equal(consumed.filter(Boolean).length, 1, "an approve-once grant is used exactly once");
        assert.equal((await store.approvals.getGrant(once.id))?.uses, 1);
        assert.deepEqual((await store.approvals.usableGrants("acme", "exec", T0)).map((item) => item.id), [timed.id]);
        assert.equal(await store.approvals.consumeGrant(timed.id, T0 + 999), true);
        assert.equal(await store.approvals.consumeGrant(timed.id, T0 + 1000), false, "expired at expiresAtMs");
        assert.deepEqual(await store.approvals.usableGrants("acme", "exec", T0 + 1000), []);
        assert.equal(await store.approvals.revokeGrant(other.id, T0 + 3), true);
        assert.equal(await store.approvals.revokeGrant(other.id, T0 + 4), false);
        assert.equal(await store.approvals.consumeGrant(other.id, T0), false);
        assert.equal((await store.approvals.getGrant(other.id))?.revokedAtMs, T0 + 3);
        assert.deepEqual((await store.approvals.listGrants({ limit: 10, activeAtMs: T0 })).map((item) => item.id), [timed.id]);
        assert.equal((await store.approvals.listGrants({ limit: 10, tenantId: "globex" })).length, 0);
      }));

    test("notification outbox: claims are exclusive, attempts counted, failures rescheduled, delivery final", () =>
      withStore(async (store) => {
        const { request } = await store.approvals.findOrCreatePending(requestInput(), "k", ["hook", "mail"], T0);
        const claims = await Promise.all(Array.from({ length: 5 }, () => store.approvals.claimDueNotifications(T0 + 10, 60_000, 10)));
        const claimed = claims.flat();
        assert.equal(claimed.length, 2, "each notification is claimed once");
        assert.ok(claimed.every((item) => item.attempts === 1 && item.nextAttemptAtMs === T0 + 60_010));
        assert.deepEqual(await store.approvals.claimDueNotifications(T0 + 20, 60_000, 10), [], "leased");
        const [first, second] = claimed;
        await store.approvals.markNotificationFailed(first?.id as string, "HTTP 500", T0 + 2_000);
        await store.approvals.markNotificationDelivered(second?.id as string, T0 + 30);
        const retried = await store.approvals.claimDueNotifications(T0 + 2_000, 60_000, 10);
        assert.deepEqual(retried.map((item) => [item.id, item.attempts, item.lastError]), [[first?.id, 2, "HTTP 500"]]);
        await store.approvals.markNotificationFailed(first?.id as string, "x".repeat(5000), null);
        const rows = await store.approvals.listNotifications(request.id);
        const failed = rows.find((item) => item.id === first?.id);
        assert.equal(failed?.nextAttemptAtMs, null, "given up");
        assert.equal(failed?.lastError?.length, 1000, "error text is bounded");
        assert.equal(rows.find((item) => item.id === second?.id)?.deliveredAtMs, T0 + 30);
      }));

    test("exec requests: by runtime approval id, unresolved decisions, stale instances, resolution mark", () =>
      withStore(async (store) => {
        const exec = (id: number, instance: string) => requestInput({ id: sortableId("apr", T0 + id), source: "openclaw-exec", runtimeApprovalId: `oc-${id}`, runtimeInstanceId: instance, requestId: "" });
        await store.approvals.findOrCreatePending(exec(1, "i1"), "x1", [], T0);
        await store.approvals.findOrCreatePending(exec(2, "i2"), "x2", [], T0);
        const third = await store.approvals.findOrCreatePending(exec(3, "i2"), "x3", [], T0);
        assert.equal((await store.approvals.findByRuntimeApprovalId("acme", "oc-2"))?.runtimeInstanceId, "i2");
        assert.equal(await store.approvals.findByRuntimeApprovalId("globex", "oc-2"), null);
        assert.deepEqual((await store.approvals.listPendingExecOfOtherInstances("acme", "i2")).map((item) => item.runtimeApprovalId), ["oc-1"]);
        await store.approvals.decide(third.request.id, decision());
        assert.deepEqual((await store.approvals.listUnresolvedExec("acme")).map((item) => item.id), [third.request.id]);
        await store.approvals.markRuntimeResolved(third.request.id, T0 + 9);
        assert.deepEqual(await store.approvals.listUnresolvedExec("acme"), []);
        assert.equal((await store.approvals.getRequest(third.request.id))?.runtimeResolvedAtMs, T0 + 9);
      }));
  });
}
