/**
 * The approval inbox on a real (in-memory SQLite) store with an injected clock: canonical hashing, grant matching
 * (patterns, sessions, expiry), the decision state machine, deduplication of repeated calls, and the deadline
 * sweeper with a shortened timeout.
 */
import assert from "node:assert/strict";
import { after, beforeEach, describe, test } from "node:test";
import type { JsonValue } from "../../../src/contracts/chat.js";
import { ClawfleetError } from "../../../src/contracts/errors.js";
import type { AuditEventInput, ToolCallUnderReview } from "../../../src/contracts/governance.js";
import type { Store } from "../../../src/contracts/store.js";
import { argumentsHash, canonicalJson } from "../../../src/governance/approvals/canonical.js";
import { ApprovalInbox } from "../../../src/governance/approvals/inbox.js";
import { compilePattern, grantCovers, patternMatches, subjectOf } from "../../../src/governance/approvals/matching.js";
import { ApprovalSweeper } from "../../../src/governance/approvals/sweeper.js";
import { openSqliteStore } from "../../../src/store/sqlite/open.js";

describe("canonical JSON and the arguments hash", () => {
  test("keys sorted at every depth, arrays keep order, no whitespace", () => {
    assert.equal(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }], "é": "x" }), '{"a":[2,{"c":4,"d":3}],"b":1,"é":"x"}');
    assert.equal(argumentsHash({ b: 1, a: { y: true, x: null } }), argumentsHash({ a: { x: null, y: true }, b: 1 }));
    assert.notEqual(argumentsHash({ list: [1, 2] }), argumentsHash({ list: [2, 1] }));
    assert.notEqual(argumentsHash({ command: "ls" }), argumentsHash({ command: "ls " }));
    assert.match(argumentsHash({}), /^[0-9a-f]{64}$/);
    // Known value: SHA-256 of the 2-byte text "{}".
    assert.equal(argumentsHash({}), "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  });

  test("strings are escaped as JSON (quotes, control characters, Unicode)", () => {
    assert.equal(canonicalJson({ text: 'a"b\n\u0000🚀' }), '{"text":"a\\"b\\n\\u0000🚀"}');
  });
});

describe("grant matching", () => {
  const call = { tenantId: "acme", sessionId: "s1", tool: "exec", arguments: { command: "ls -la /srv" } as JsonValue, argumentsHash: argumentsHash({ command: "ls -la /srv" }) };
  const base = { id: "grt_x", tenantId: "acme", tool: "exec", argumentsHash: null, argumentsPattern: null, sessionId: null, expiresAtMs: null, maxUses: null, uses: 0, createdBy: "admin", createdAtMs: 0, permissionRequestId: null, revokedAtMs: null };

  test("subjects: command for shell tools, path/url for others, canonical JSON otherwise", () => {
    assert.equal(subjectOf("exec", { command: "ls", cwd: "/" }), "ls");
    assert.equal(subjectOf("write", { path: "/srv/a.txt", content: "x" }), "/srv/a.txt");
    assert.equal(subjectOf("web_fetch", { url: "https://example.com/" }), "https://example.com/");
    assert.equal(subjectOf("custom", { b: 1, a: 2 }), '{"a":2,"b":1}');
  });

  test("wildcards never cross shell metacharacters", () => {
    assert.equal(patternMatches("ls *", "exec", { command: "ls -la /srv" }), true);
    assert.equal(patternMatches("ls *", "exec", { command: "ls; rm -rf ~" }), false);
    assert.equal(patternMatches("ls *", "exec", { command: "ls && curl evil" }), false);
    assert.equal(patternMatches("ls *", "exec", { command: "ls $(whoami)" }), false);
    assert.equal(patternMatches("ls *", "exec", { command: "ls `id`" }), false);
    assert.equal(patternMatches("ls *", "exec", { command: "ls\nrm x" }), false);
    assert.equal(patternMatches("ls *", "exec", { command: "ls > /etc/passwd" }), false);
    assert.equal(patternMatches("git status", "exec", { command: "git status --short" }), false, "anchored");
    assert.equal(patternMatches("cat ?.txt", "exec", { command: "cat a.txt" }), true);
    assert.equal(patternMatches("/srv/tenant/workspace/*", "write", { path: "/srv/tenant/workspace/notes.md" }), true);
    assert.equal(patternMatches("a.b", "exec", { command: "axb" }), false, "regex characters are literal");
    assert.ok(compilePattern("*".repeat(1000)).test("x".repeat(5000)), "no catastrophic backtracking");
    assert.equal(patternMatches("echo cf-line | tee -a cf-log.txt", "exec", { command: "echo cf-line | tee -a cf-log.txt" }), true, "'-' and '|' are literal (the u flag refuses an escaped '-')");
    assert.equal(patternMatches("git log --oneline -*", "exec", { command: "git log --oneline -5" }), true);
  });

  test("bindings: tenant, tool, session, hash, pattern, expiry, uses, revocation", () => {
    assert.equal(grantCovers(base, call, 0), true);
    assert.equal(grantCovers({ ...base, tenantId: "globex" }, call, 0), false);
    assert.equal(grantCovers({ ...base, tool: "write" }, call, 0), false);
    assert.equal(grantCovers({ ...base, sessionId: "s2" }, call, 0), false);
    assert.equal(grantCovers({ ...base, sessionId: "s1" }, call, 0), true);
    assert.equal(grantCovers({ ...base, argumentsHash: argumentsHash({ command: "ls" }) }, call, 0), false);
    assert.equal(grantCovers({ ...base, argumentsHash: call.argumentsHash }, call, 0), true);
    assert.equal(grantCovers({ ...base, argumentsPattern: "ls *" }, call, 0), true);
    assert.equal(grantCovers({ ...base, argumentsPattern: "rm *" }, call, 0), false);
    assert.equal(grantCovers({ ...base, expiresAtMs: 1000 }, call, 999), true);
    assert.equal(grantCovers({ ...base, expiresAtMs: 1000 }, call, 1000), false);
    assert.equal(grantCovers({ ...base, maxUses: 1, uses: 1 }, call, 0), false);
    assert.equal(grantCovers({ ...base, revokedAtMs: 5 }, call, 0), false);
  });
});

describe("the approval inbox (SQLite in memory, injected clock)", () => {
  let store: Store;
  let nowMs: number;
  let audit: AuditEventInput[];
  let permanent: Array<[string, string, string]>;
  let queued: number;
  let inbox: ApprovalInbox;
  const stores: Store[] = [];
  const TIMEOUT = 60_000;

  beforeEach(async () => {
    store = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
    stores.push(store);
    nowMs = 1_700_000_000_000;
    audit = [];
    permanent = [];
    queued = 0;
    inbox = new ApprovalInbox({
      repository: store.approvals,
      audit: { record: (event) => void audit.push(event), flush: async () => undefined },
      profileEditor: { allowToolPermanently: async (tenantId, tool, actor) => void permanent.push([tenantId, tool, actor]) },
      now: () => nowMs,
      timeoutMs: TIMEOUT,
      channels: ["ops"],
      onNotificationsQueued: () => void (queued += 1),
    });
  });
  after(async () => {
    for (const opened of stores) await opened.close();
  });

  const call = (overrides: Partial<ToolCallUnderReview> = {}): ToolCallUnderReview => ({ tenantId: "acme", sessionId: "s1", requestId: "req-1", toolCallId: "call_1", calledName: "exec", tool: "exec", arguments: { command: "rm -rf build" }, ...overrides });
  const context = { risk: "high" as const, reason: "exec needs approval" };
  const rejects = (code: string) => (error: unknown) => error instanceof ClawfleetError && error.code === code;

  test("a call creates one pending request (audited, notified); repeats — even with reordered keys — find it", async () => {
    const first = await inbox.review(call(), context);
    assert.equal(first.kind, "pending");
    const again = await inbox.review(call({ requestId: "req-2", toolCallId: "call_2", arguments: { command: "rm -rf build" } }), context);
    assert.deepEqual(again, first);
    assert.equal((await store.approvals.listRequests({ limit: 10 })).length, 1);
    assert.deepEqual(audit.map((event) => event.type), ["approval_requested"]);
    assert.equal(queued, 1);
    if (first.kind !== "pending") return;
    assert.equal(first.deadlineAtMs, nowMs + TIMEOUT);
    const other = await inbox.review(call({ sessionId: "s2" }), context);
    assert.notEqual(other.kind === "pending" && other.permissionRequestId, first.permissionRequestId, "another session is another call");
  });

  test("approve once: the exact call is granted exactly once; a different call is not", async () => {
    const pending = await inbox.review(call(), context);
    assert.equal(pending.kind, "pending");
    if (pending.kind !== "pending") return;
    const decided = await inbox.decide(pending.permissionRequestId, { decision: "approve_once" }, "admin");
    assert.equal(decided.status, "approved");
    assert.equal((await inbox.review(call({ arguments: { command: "rm -rf /" } }), context)).kind, "pending", "other arguments need their own approval");
    const granted = await inbox.review(call(), context);
    assert.equal(granted.kind, "granted");
    const repeat = await inbox.review(call(), context);
    assert.equal(repeat.kind, "pending", "the once grant is used up: a new request");
    assert.deepEqual(audit.filter((event) => event.type === "approval_decision").map((event) => [event.actor, event.details.decision]), [["admin", "approve_once"]]);
  });

  test("approve for a time with a pattern: covers matching calls in every session until it expires", async () => {
    const pending = await inbox.review(call({ arguments: { command: "ls /srv" } }), context);
    if (pending.kind !== "pending") assert.fail("pending expected");
    await inbox.decide(pending.permissionRequestId, { decision: "approve_for", durationMs: 10_000, argumentsPattern: "ls *" }, "admin");
    assert.equal((await inbox.review(call({ arguments: { command: "ls /srv" } }), context)).kind, "granted", "the held call");
    assert.equal((await inbox.review(call({ sessionId: "other", arguments: { command: "ls /tmp" } }), context)).kind, "granted");
    assert.equal((await inbox.review(call({ sessionId: "other", arguments: { command: "ls /tmp; rm -rf ~" } }), context)).kind, "pending");
    nowMs += 10_000;
    assert.equal((await inbox.review(call({ sessionId: "third", arguments: { command: "ls /home" } }), context)).kind, "pending", "a timed grant expires");
  });

  test("approve for a time: the held call's one-use grant ends with it too (nothing runs after the time)", async () => {
    const held = call({ arguments: { command: "ls /srv" } });
    const pending = await inbox.review(held, context);
    if (pending.kind !== "pending") assert.fail("pending expected");
    await inbox.decide(pending.permissionRequestId, { decision: "approve_for", durationMs: 10_000, argumentsPattern: "ls /srv" }, "admin");
    const grants = await store.approvals.listGrants({ tenantId: "acme", limit: 10 });
    assert.equal(grants.length, 2);
    assert.ok(grants.every((grant) => grant.expiresAtMs === nowMs + 10_000), JSON.stringify(grants.map((grant) => grant.expiresAtMs)));
    nowMs += 10_000;
    assert.equal((await inbox.review(held, context)).kind, "pending", "the unused one-use grant expired with the timed grant");
  });

  test("approve permanently goes through the profile editor; its failure leaves the request pending", async () => {
    const pending = await inbox.review(call(), context);
    if (pending.kind !== "pending") assert.fail("pending expected");
    await inbox.decide(pending.permissionRequestId, { decision: "approve_permanently" }, "approver:ada");
    assert.deepEqual(permanent, [["acme", "exec", "approver:ada"]]);
    const failing = new ApprovalInbox({
      repository: store.approvals,
      audit: { record: () => undefined, flush: async () => undefined },
      profileEditor: { allowToolPermanently: async () => Promise.reject(new ClawfleetError("CF_NOT_IMPLEMENTED", "no profiles")) },
      now: () => nowMs,
      timeoutMs: TIMEOUT,
      channels: [],
    });
    const second = await failing.review(call({ arguments: { command: "make" } }), context);
    if (second.kind !== "pending") assert.fail("pending expected");
    await assert.rejects(failing.decide(second.permissionRequestId, { decision: "approve_permanently" }, "admin"), rejects("CF_NOT_IMPLEMENTED"));
    assert.equal((await store.approvals.getRequest(second.permissionRequestId))?.status, "pending");
  });

  test("reject needs a reason; the call is then rejected; decisions are final (409); bad decisions are refused", async () => {
    const pending = await inbox.review(call(), context);
    if (pending.kind !== "pending") assert.fail("pending expected");
    await assert.rejects(inbox.decide(pending.permissionRequestId, { decision: "reject" }, "admin"), rejects("CF_VALIDATION_FAILED"));
    await assert.rejects(inbox.decide(pending.permissionRequestId, { decision: "approve_for" }, "admin"), rejects("CF_VALIDATION_FAILED"));
    await assert.rejects(inbox.decide(pending.permissionRequestId, { decision: "approve_for", durationMs: 86_400_001 }, "admin"), rejects("CF_VALIDATION_FAILED"));
    await assert.rejects(inbox.decide(pending.permissionRequestId, { decision: "approve_once", argumentsPattern: "*" }, "admin"), rejects("CF_VALIDATION_FAILED"));
    await assert.rejects(inbox.decide("apr_000000000000ffffffffff", { decision: "approve_once" }, "admin"), rejects("CF_APPROVAL_NOT_FOUND"));
    await inbox.decide(pending.permissionRequestId, { decision: "reject", reason: "not today" }, "admin");
    assert.deepEqual(await inbox.review(call(), context), { kind: "rejected", permissionRequestId: pending.permissionRequestId, reason: "not today" });
    await assert.rejects(inbox.decide(pending.permissionRequestId, { decision: "approve_once" }, "admin"), rejects("CF_APPROVAL_ALREADY_DECIDED"));
    nowMs += TIMEOUT + 1;
    assert.equal((await inbox.review(call(), context)).kind, "pending", "after the rejection memory a new request is made");
  });

  test("two approvers deciding at once: exactly one wins, the other gets CF_APPROVAL_ALREADY_DECIDED", async () => {
    const pending = await inbox.review(call(), context);
    if (pending.kind !== "pending") assert.fail("pending expected");
    const results = await Promise.allSettled([inbox.decide(pending.permissionRequestId, { decision: "approve_once" }, "approver:a"), inbox.decide(pending.permissionRequestId, { decision: "reject", reason: "no" }, "approver:b")]);
    assert.equal(results.filter((result) => result.status === "fulfilled").length, 1);
    assert.ok(results.some((result) => result.status === "rejected" && rejects("CF_APPROVAL_ALREADY_DECIDED")(result.reason)));
  });

  test("the sweeper rejects an undecided request at its deadline (shortened clock), once, audited", async () => {
    const pending = await inbox.review(call(), context);
    if (pending.kind !== "pending") assert.fail("pending expected");
    const decidedEvents: string[] = [];
    inbox.onDecided((request) => decidedEvents.push(`${request.id}:${request.status}`));
    const sweeper = new ApprovalSweeper([{ name: "expire", run: () => inbox.expireDue() }], 60_000, { warn: () => undefined });
    nowMs += TIMEOUT - 1;
    await sweeper.sweep();
    assert.equal((await store.approvals.getRequest(pending.permissionRequestId))?.status, "pending", "not before the deadline");
    nowMs += 1;
    await sweeper.sweep();
    await sweeper.sweep();
    const expired = await store.approvals.getRequest(pending.permissionRequestId);
    assert.equal(expired?.status, "expired");
    assert.equal(expired?.decidedBy, "system");
    assert.deepEqual(decidedEvents, [`${pending.permissionRequestId}:expired`]);
    assert.deepEqual(await inbox.review(call(), context), { kind: "rejected", permissionRequestId: pending.permissionRequestId, reason: expired?.decisionReason });
    await assert.rejects(inbox.decide(pending.permissionRequestId, { decision: "approve_once" }, "admin"), rejects("CF_APPROVAL_ALREADY_DECIDED"));
    await sweeper.stop();
  });

  test("a deadline that passed without a sweep is enforced at review and at decision time", async () => {
    const pending = await inbox.review(call(), context);
    if (pending.kind !== "pending") assert.fail("pending expected");
    nowMs += TIMEOUT;
    await assert.rejects(inbox.decide(pending.permissionRequestId, { decision: "approve_once" }, "admin"), rejects("CF_APPROVAL_ALREADY_DECIDED"));
    assert.equal((await inbox.review(call(), context)).kind, "rejected");
  });

  test("exec approvals: deduplicated by OpenClaw's id, deadline capped by OpenClaw's expiry, covered by timed exec grants", async () => {
    const input = { tenantId: "acme", runtimeApprovalId: "oc-1", runtimeInstanceId: "i1", command: "touch x", cwd: "/srv/tenant/workspace", sessionKey: "agent:main:openai-user:u", toolCallId: "callfake1", runtimeExpiresAtMs: nowMs + 1_000 };
    const first = await inbox.reviewExec(input, context);
    assert.deepEqual(first.kind === "pending" && first.deadlineAtMs, nowMs + 1_000);
    assert.deepEqual(await inbox.reviewExec(input, context), first);
    if (first.kind !== "pending") return;
    const decided = await inbox.decide(first.permissionRequestId, { decision: "approve_for", durationMs: 60_000, argumentsPattern: "touch *" }, "admin");
    assert.equal(decided.source, "openclaw-exec");
    assert.equal((await inbox.reviewExec({ ...input, runtimeApprovalId: "oc-2", command: "touch y" }, context)).kind, "granted");
    assert.equal((await inbox.reviewExec({ ...input, runtimeApprovalId: "oc-3", command: "rm y" }, context)).kind, "pending");
  });

  test("storage failure fails closed with CF_STATE_UNAVAILABLE", async () => {
    const closed = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
    await closed.close();
    const broken = new ApprovalInbox({ repository: closed.approvals, audit: { record: () => undefined, flush: async () => undefined }, profileEditor: { allowToolPermanently: async () => undefined }, now: () => nowMs, timeoutMs: TIMEOUT, channels: [] });
    await assert.rejects(broken.review(call(), context), rejects("CF_STATE_UNAVAILABLE"));
  });
});
