/**
 * OpenClaw's own exec approvals decided by the tenant's profile (exec-policy.ts): tool-level denial, deny rules,
 * allow rules, the default action; and the gateway hand-off — a command the model gateway released under an
 * approval grant (real inbox on in-memory SQLite) is allowed once, exactly, within the window, for that tenant
 * only.
 */
import assert from "node:assert/strict";
import { after, beforeEach, describe, test } from "node:test";
import type { AuditEventInput, PermissionProfile, ToolCallUnderReview } from "../../../src/contracts/governance.js";
import type { Store } from "../../../src/contracts/store.js";
import { createProfileExecPolicy, GatewayExecHandoff, withExecHandoff } from "../../../src/governance/approvals/exec-policy.js";
import { ApprovalInbox } from "../../../src/governance/approvals/inbox.js";
import { PRESET_PROFILES } from "../../../src/governance/profiles/presets.js";
import { openSqliteStore } from "../../../src/store/sqlite/open.js";

const preset = (name: string) => PRESET_PROFILES.get(name) as PermissionProfile;

const approver: PermissionProfile = {
  name: "approver",
  version: 3,
  description: "exec needs approval",
  tools: { allow: ["read"], deny: [], approval: ["exec"] },
  paths: { roots: ["~workspace"] },
  exec: { allow: ["ls *", "git status"], deny: ["rm *"], defaultAction: "approval" },
  injection: { action: "block" },
};

describe("the profile-based exec command policy", () => {
  let nowMs: number;
  let audit: AuditEventInput[];
  let handoff: GatewayExecHandoff;
  const profiles = new Map<string, PermissionProfile>([
    ["acme", approver],
    ["locked", preset("readonly-agent")],
    ["erp", preset("erp-agent")],
    ["open", preset("full")],
  ]);
  const policy = () => createProfileExecPolicy({ profileOf: (tenantId) => profiles.get(tenantId) ?? preset("readonly-agent"), handoff, audit: { record: (event) => void audit.push(event), flush: async () => undefined } });

  beforeEach(() => {
    nowMs = 1_700_000_000_000;
    audit = [];
    handoff = new GatewayExecHandoff(120_000, () => nowMs);
  });

  test("tool denied → deny; deny rule → deny; allow rules → allow; otherwise the default action", () => {
    const decide = policy();
    assert.equal(decide.decide("locked", "ls"), "deny", "readonly-agent does not permit exec at all");
    assert.equal(decide.decide("unknown-tenant", "ls"), "deny", "an unknown tenant gets the fallback profile");
    assert.equal(decide.decide("acme", "rm -rf /"), "deny");
    assert.equal(decide.decide("acme", "ls -la && rm x"), "deny", "one denied part denies the command");
    assert.equal(decide.decide("acme", "sudo rm x"), "deny", "deny rules see through wrappers");
    assert.equal(decide.decide("acme", "ls -la"), "allow");
    assert.equal(decide.decide("acme", "git status"), "allow");
    assert.equal(decide.decide("acme", "git status; echo x >> f.txt"), "approval", "an unmatched part takes the default action");
    assert.equal(decide.decide("acme", "echo x >> f.txt"), "approval");
    assert.equal(decide.decide("erp", "cat a.txt | wc -l"), "allow");
    assert.equal(decide.decide("erp", "python3 x.py"), "approval");
    assert.equal(decide.decide("open", "anything at all"), "allow", "full: default allow");
    assert.deepEqual(
      audit.map((event) => [event.type, event.details.reason]),
      [
        ["permission_denied", "not_allowed_by_profile"],
        ["permission_denied", "not_allowed_by_profile"],
        ["permission_denied", "exec_command_denied"],
        ["permission_denied", "exec_command_denied"],
        ["permission_denied", "exec_command_denied"],
        ["tool_call_allowed", "allowed_by_profile"],
        ["tool_call_allowed", "allowed_by_profile"],
        ["tool_call_allowed", "allowed_by_profile"],
        ["tool_call_allowed", "allowed_by_profile"],
      ],
    );
    assert.equal(audit[0]?.actor, "runtime:locked:exec");
    assert.equal(audit[0]?.details.source, "openclaw-exec");
    assert.ok(!JSON.stringify(audit).includes("rm -rf"), "the command itself is not audited");
  });

  test("a hand-off allows exactly that command, once, for that tenant, within the window", () => {
    const decide = policy();
    handoff.remember("acme", "echo x >> f.txt");
    assert.equal(decide.decide("other", "echo x >> f.txt"), "deny", "another tenant (fallback profile) gets nothing");
    assert.equal(decide.decide("acme", "echo x >> f.txt "), "approval", "exact match only (trailing space)");
    assert.equal(decide.decide("acme", "echo y >> f.txt"), "approval");
    assert.equal(decide.decide("acme", "echo x >> f.txt"), "allow");
    assert.equal(audit.at(-1)?.details.reason, "gateway_approval_handoff");
    assert.equal(decide.decide("acme", "echo x >> f.txt"), "approval", "one use per released call");

    handoff.remember("acme", "echo x >> f.txt");
    handoff.remember("acme", "echo x >> f.txt");
    assert.equal(handoff.pending(), 2);
    assert.equal(decide.decide("acme", "echo x >> f.txt"), "allow");
    nowMs += 120_000;
    assert.equal(decide.decide("acme", "echo x >> f.txt"), "approval", "expired at the end of the window");
    assert.equal(handoff.pending(), 0);
  });

  test("a hand-off never overrides a deny rule, and a zero window disables hand-offs", () => {
    handoff.remember("acme", "rm -rf build");
    assert.equal(policy().decide("acme", "rm -rf build"), "deny");
    handoff = new GatewayExecHandoff(0, () => nowMs);
    handoff.remember("acme", "echo x >> f.txt");
    assert.equal(handoff.pending(), 0);
    assert.equal(policy().decide("acme", "echo x >> f.txt"), "approval");
  });
});

describe("the gateway hand-off over the real inbox (SQLite in memory)", () => {
  let store: Store;
  let nowMs: number;
  const stores: Store[] = [];
  after(async () => {
    for (const opened of stores) await opened.close();
  });
  beforeEach(async () => {
    store = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
    stores.push(store);
    nowMs = 1_700_000_000_000;
  });

  test("only a granted exec call leaves a hand-off, with its exact command", async () => {
    const inbox = new ApprovalInbox({ repository: store.approvals, audit: { record: () => undefined, flush: async () => undefined }, profileEditor: { allowToolPermanently: async () => undefined }, now: () => nowMs, timeoutMs: 60_000, channels: [] });
    const handoff = new GatewayExecHandoff(120_000, () => nowMs);
    const gate = withExecHandoff(inbox, handoff);
    const call = (overrides: Partial<ToolCallUnderReview> = {}): ToolCallUnderReview => ({ tenantId: "acme", sessionId: "s1", requestId: "r1", toolCallId: "c1", calledName: "exec", tool: "exec", arguments: { title: "append", command: "echo x >> f.txt" }, ...overrides });
    const context = { risk: "high" as const, reason: "needs approval" };

    const pending = await gate.review(call(), context);
    assert.equal(pending.kind, "pending");
    assert.equal(handoff.pending(), 0, "a pending call leaves no hand-off");
    if (pending.kind !== "pending") return;
    await inbox.decide(pending.permissionRequestId, { decision: "approve_once" }, "admin");
    assert.equal((await gate.review(call(), context)).kind, "granted");
    assert.equal(handoff.pending(), 1);
    assert.equal(handoff.take("acme", "echo x >> f.txt"), true);
    assert.equal((await gate.review(call(), context)).kind, "pending", "the approve-once grant is used up");
    assert.equal(handoff.pending(), 0);

    // A granted call of another tool leaves nothing.
    const write = call({ tool: "write", calledName: "write", arguments: { path: "a.txt", content: "x" } });
    const held = await gate.review(write, context);
    if (held.kind !== "pending") return assert.fail("write should be pending");
    await inbox.decide(held.permissionRequestId, { decision: "approve_once" }, "admin");
    assert.equal((await gate.review(write, context)).kind, "granted");
    assert.equal(handoff.pending(), 0);
  });
});
