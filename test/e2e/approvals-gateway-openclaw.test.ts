/**
 * The integrated approval flow with a REAL OpenClaw runtime: a tenant whose stored profile (created through the
 * admin API) puts `exec` under `tools.approval`; the fake model (the only fake) answers the trigger with an `exec`
 * call that APPENDS a line to a file in the workspace. One conversation (the caller sets `user`), every turn
 * through the ingress:
 *
 * (a) the exec does not run; the answer names the permission request; the pending list shows tool, arguments, risk;
 * (b) approve once (admin API) → the model repeats the exact call → it runs once (one line), and OpenClaw's own
 *     exec approval (`tools.exec.mode: ask`, rendered from the profile) is answered by the gateway hand-off, not by
 *     a second question to a human;
 * (c) the model repeats it again → held again (a new request), still one line;
 * (d) approve for a short time → repeats run until the grant expires, and not after;
 * (e) reject with a reason → not run, the answer carries the reason.
 * The audit trail holds approval_requested / approval_decision / tool_call_allowed / permission_denied for each.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";
import { startToolScriptUpstream, type ToolScriptUpstream } from "../support/tool-script-upstream.js";

const runtimeInstalled = existsSync(path.resolve("runtime", "openclaw", "node_modules", "openclaw", "openclaw.mjs"));

const TENANT = "appr";
const CONVERSATION = "conv-approvals-1";
const FILE = "cf-approval-log.txt";
// Not `echo … >> file`: OpenClaw 2026.9.6 in `tools.exec.mode: ask` refuses any command with a redirection before
// asking (SYSTEM_RUN_DENIED: approval cannot safely bind this command); a pipe into `tee -a` is bindable.
const COMMAND = `echo cf-approved-line | tee -a ${FILE}`;
const ARGUMENTS = JSON.stringify({ title: "append", command: COMMAND });
const TRIGGER = "APPEND-A-LINE";

interface ApprovalView {
  id: string;
  tenantId: string;
  sessionId: string;
  source: string;
  tool: string;
  arguments: { command?: string; title?: string };
  risk: string;
  status: string;
  decision: string | null;
}

interface AuditView {
  type: string;
  actor: string;
  requestId: string | null;
  details: Record<string, unknown>;
}

/** Lines of the file the exec appends to, wherever under the tenant's folder it was written (0 when absent). */
function linesWritten(dataDir: string): number {
  const root = path.join(dataDir, "tenants", TENANT);
  if (!existsSync(root)) return 0;
  const found = readdirSync(root, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() && entry.name === FILE);
  assert.ok(found.length <= 1, `one file at most (${found.length})`);
  if (found.length === 0) return 0;
  const entry = found[0] as (typeof found)[number];
  const text = readFileSync(path.join(entry.parentPath, entry.name), "utf8");
  assert.ok(text.split("\n").filter(Boolean).every((line) => line === "cf-approved-line"), `only appended lines: ${JSON.stringify(text)}`);
  return text.split("\n").filter(Boolean).length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("approvals through the gateway with a real OpenClaw runtime", { timeout: 900_000, skip: runtimeInstalled ? false : "runtime/ not installed" }, () => {
  let upstream: ToolScriptUpstream;
  let platform: TestPlatform;
  let client: OpenAI;

  before(async () => {
    upstream = await startToolScriptUpstream();
    upstream.script({ trigger: TRIGGER, name: "exec", arguments: ARGUMENTS });
    platform = await startTestPlatform(
      { OPENAI_API_KEY: "sk-provider", OPENAI_BASE_URL: upstream.url, CLAWFLEET_RUNTIME_START_TIMEOUT_MS: "240000", CLAWFLEET_RUNTIME_IDLE_TIMEOUT_MS: "0" },
      { configYaml: "governance:\n  approvals:\n    sweepIntervalMs: 500\n" },
    );
    const profile = await platform.admin("POST", "/profiles", {
      name: "exec-approver",
      description: "reads the workspace; every command needs a human",
      tools: { allow: ["tool_call", "tool_search", "tool_describe", "sessions_yield", "session_status", "read", "ls"], deny: [], approval: ["exec"] },
      paths: { roots: ["~workspace"] },
      exec: { allow: [], deny: ["rm *"], defaultAction: "approval" },
      injection: { action: "block" },
    });
    assert.equal(profile.status, 201, JSON.stringify(profile.body));
    const created = await platform.admin("POST", "/tenants", { id: TENANT, profile: "exec-approver" });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    client = new OpenAI({ apiKey: (created.body as { apiKey: string }).apiKey, baseURL: `${platform.url}/t/${TENANT}/v1`, maxRetries: 0, timeout: 280_000 });
  });

  after(async () => {
    await platform?.stop();
    await upstream?.close();
  });

  /** One user turn of the one conversation; returns the answer text. */
  async function ask(text: string): Promise<string> {
    const completion = await client.chat.completions.create({ model: "openclaw", user: CONVERSATION, messages: [{ role: "user", content: `${text} ${TRIGGER}` }] });
    return completion.choices[0]?.message.content ?? "";
  }

  async function requests(status?: string): Promise<ApprovalView[]> {
    const listed = await platform.admin("GET", `/approvals?tenantId=${TENANT}${status ? `&status=${status}` : ""}&limit=100`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    return (listed.body as { approvals: ApprovalView[] }).approvals;
  }

  async function decide(id: string, body: Record<string, unknown>): Promise<void> {
    const decided = await platform.admin("POST", `/approvals/${id}/decision`, body);
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
  }

  async function audit(): Promise<AuditView[]> {
    await sleep(300); // the audit log stores in batches every 100 ms
    const listed = await platform.admin("GET", `/audit?tenantId=${TENANT}&order=asc&limit=1000`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    return (listed.body as { events: AuditView[] }).events;
  }

  /** The permission request id a held answer names. */
  function heldId(answer: string): string {
    assert.match(answer, /CF_APPROVAL_REQUIRED/, `the call is held for approval: ${answer}`);
    const id = /permission request (apr_[0-9a-f_]+)/.exec(answer)?.[1];
    assert.ok(id, `the answer names the permission request: ${answer}`);
    return id;
  }

  test("held → approve once → runs once → held again → approve for a while → expires → reject with a reason", async (context) => {
    // (a) First run: held, nothing runs, the request is listed with tool, arguments and risk.
    const first = heldId(await ask("please append a line"));
    assert.equal(linesWritten(platform.dataDir), 0, "nothing ran before a decision");
    const pending = await requests("pending");
    assert.equal(pending.length, 1, JSON.stringify(pending));
    const held = pending[0] as ApprovalView;
    assert.equal(held.id, first);
    assert.equal(held.source, "gateway");
    assert.equal(held.tool, "exec");
    assert.deepEqual(held.arguments, { title: "append", command: COMMAND });
    assert.equal(held.risk, "high");
    const sessionId = held.sessionId;

    // (b) Approve once; the model repeats the exact call in the same conversation → it runs, exactly once.
    const approveStarted = Date.now();
    await decide(first, { decision: "approve_once" });
    const ran = await ask("approved now, please append the line again");
    const approveOnceMs = Date.now() - approveStarted;
    assert.match(ran, /TOOL-RESULT-SEEN/, `the tool ran and its result went back to the model: ${ran}`);
    assert.equal(linesWritten(platform.dataDir), 1, `exactly one line (the tool said: ${ran})`);
    const afterOnce = await requests();
    assert.ok(afterOnce.every((request) => request.source === "gateway"), `OpenClaw's own exec approval was answered by the gateway hand-off, no second human question: ${JSON.stringify(afterOnce.map((request) => [request.source, request.status]))}`);
    const handoff = (await audit()).filter((event) => event.type === "tool_call_allowed" && event.details.reason === "gateway_approval_handoff");
    assert.equal(handoff.length, 1, "the runtime's exec approval was allowed by the hand-off");

    // (c) The model repeats it once more → held again as a new request; still one line.
    const second = heldId(await ask("and once more"));
    assert.notEqual(second, first);
    assert.equal(linesWritten(platform.dataDir), 1, "the approve-once grant was used up");

    // (d) Approve for a short time (exactly this command): repeats run until it expires, not after.
    const durationMs = 60_000;
    const grantedAt = Date.now();
    await decide(second, { decision: "approve_for", durationMs, argumentsPattern: COMMAND });
    assert.match(await ask("append again"), /TOOL-RESULT-SEEN/);
    assert.match(await ask("and again"), /TOOL-RESULT-SEEN/);
    const repeatsMs = Date.now() - grantedAt;
    assert.ok(repeatsMs < durationMs, `both repeats ran within the grant (${repeatsMs} ms)`);
    assert.equal(linesWritten(platform.dataDir), 3);
    await sleep(Math.max(0, grantedAt + durationMs + 1_000 - Date.now()));
    const third = heldId(await ask("after the grant expired"));
    assert.equal(linesWritten(platform.dataDir), 3, "the expired grant let nothing run");

    // (e) Reject with a reason → the call does not run and the answer carries the reason.
    await decide(third, { decision: "reject", reason: "no more lines today" });
    const refused = await ask("try once more");
    assert.match(refused, /approval was rejected \(no more lines today; permission request apr_/, refused);
    assert.match(refused, /CF_TOOL_DENIED/);
    assert.equal(linesWritten(platform.dataDir), 3);

    // One conversation: every request of this flow is bound to the same session id.
    const all = await requests();
    assert.deepEqual(all.map((request) => request.id).sort(), [first, second, third].sort());
    assert.ok(all.every((request) => request.sessionId === sessionId), JSON.stringify(all.map((request) => request.sessionId)));

    // The audit trail, per permission request.
    const events = await audit();
    const about = (id: string, type: string) => events.filter((event) => event.type === type && event.details.permissionRequestId === id);
    for (const id of [first, second, third]) {
      assert.equal(about(id, "approval_requested").length, 1, `approval_requested once for ${id}`);
      assert.deepEqual(about(id, "permission_denied").filter((event) => event.details.reason === "approval_pending").map((event) => [event.actor, event.details.tool]), [[`runtime:${TENANT}`, "exec"]], `the held answer for ${id}`);
    }
    assert.deepEqual(about(first, "approval_decision").map((event) => [event.actor, event.details.decision]), [["admin", "approve_once"]]);
    assert.deepEqual(about(second, "approval_decision").map((event) => [event.details.decision, event.details.durationMs]), [["approve_for", durationMs]]);
    assert.deepEqual(about(third, "approval_decision").map((event) => [event.details.decision, event.details.reason]), [["reject", "no more lines today"]]);
    const allowedByGrant = events.filter((event) => event.type === "tool_call_allowed" && event.details.reason === "approval_granted");
    assert.equal(allowedByGrant.length, 3, "three runs allowed by grants (once + twice within the timed grant)");
    assert.ok(allowedByGrant.every((event) => event.details.tool === "exec" && event.actor === `runtime:${TENANT}`));
    const rejected = about(third, "permission_denied").filter((event) => event.details.reason !== "approval_pending");
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]?.details.reason, "approval_rejected");
    assert.equal(events.filter((event) => event.type === "tool_call_allowed" && event.details.reason === "gateway_approval_handoff").length, 3, "each run's OpenClaw exec approval came from the hand-off");

    context.diagnostic(`approve-once round trip (decision → answer with the tool result): ${approveOnceMs} ms; session id seen by the gateway: ${sessionId}`);
  });
});
