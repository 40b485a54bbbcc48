/**
 * End to end with a REAL OpenClaw runtime whose `tools.exec.mode` is `ask` (rendered from the tenant's stored
 * profile: exec permitted, unmatched commands need approval): Clawfleet is the runtime's approval client, so an
 * exec the model asks for waits in Clawfleet's inbox. Approved through the CLI → the command ran (its file
 * exists); rejected through the admin API → it did not (no file), and OpenClaw told the model it was denied.
 * The model is a fake upstream that returns the exec tool call.
 *
 * The model gateway holds the same call first (the profile's exec rules apply there too). This platform turns the
 * gateway hand-off off (`governance.approvals.execHandoffMs: 0`), so after the gateway's approval the runtime's
 * own exec approval goes to a human as well — the path under test here (with the default hand-off it is
 * answered without a second question: test/e2e/approvals-gateway-openclaw.test.ts).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { REPOSITORY_ROOT } from "../support/serve-process.js";
import { lastRealUserText, startFakeUpstream, toolResultsAfterLastUser, type FakeUpstream } from "../support/fake-upstream.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

interface ApprovalView {
  id: string;
  status: string;
  source: string;
  tool: string;
  tenantId: string;
  arguments: { command?: string };
  decision: string | null;
  runtimeApprovalId: string | null;
  runtimeResolvedAt: string | null;
}

function findFile(directory: string, name: string): string | null {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory() && !entry.isSymbolicLink()) {
      const found = findFile(full, name);
      if (found) return found;
    } else if (entry.name === name) return full;
  }
  return null;
}

function cli(platform: TestPlatform, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(REPOSITORY_ROOT, "bin", "clawfleet.js"), ...args], { env: { PATH: process.env.PATH ?? "", CLAWFLEET_URL: platform.url, CLAWFLEET_ADMIN_TOKEN: platform.adminToken.token }, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`clawfleet ${args.join(" ")}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

describe("OpenClaw exec approvals decided through Clawfleet (real runtime)", { timeout: 600_000 }, () => {
  let upstream: FakeUpstream;
  let platform: TestPlatform;
  let apiKey: string;

  before(async () => {
    upstream = await startFakeUpstream();
    // The model asks for `touch <marker>` once; after the tool result it reports what the tool said.
    upstream.setDefault((body) => {
      const results = toolResultsAfterLastUser(body);
      const marker = /touch (\S+)/.exec(lastRealUserText(body))?.[1];
      if (results.length === 0 && marker) return { kind: "tool_call", name: "exec", arguments: { command: `touch ${marker}` } };
      return { kind: "text", text: `TOOL SAID: ${results.join(" | ") || "nothing"}` };
    });
    platform = await startTestPlatform(
      { OPENAI_API_KEY: "sk-test-provider", OPENAI_BASE_URL: upstream.url, CLAWFLEET_DEFAULT_MODEL: "gpt-4o-mini", CLAWFLEET_RUNTIME_START_TIMEOUT_MS: "240000" },
      { configYaml: "governance:\n  approvals:\n    timeoutMs: 600000\n    sweepIntervalMs: 500\n    execHandoffMs: 0\n" },
    );
    const profile = await platform.admin("POST", "/profiles", {
      name: "exec-asks",
      tools: { allow: ["tool_call", "tool_search", "tool_describe", "sessions_yield", "session_status", "read", "ls", "exec"], deny: [], approval: [] },
      paths: { roots: ["~workspace"] },
      exec: { allow: [], deny: [], defaultAction: "approval" },
      injection: { action: "block" },
    });
    assert.equal(profile.status, 201, JSON.stringify(profile.body));
    const created = await platform.admin("POST", "/tenants", { id: "acme", profile: "exec-asks", settings: { tools: { exec: { mode: "ask" } } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    apiKey = (created.body as { apiKey: string }).apiKey;
    const started = await platform.admin("POST", "/tenants/acme/runtime/start?wait=true");
    assert.equal(started.status, 200, JSON.stringify(started.body));
  });

  after(async () => {
    await platform?.stop();
    await upstream?.close();
  });

  const chat = (session: string, text: string) =>
    fetch(`${platform.url}/t/acme/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw", user: session, messages: [{ role: "user", content: text }] }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as { choices?: Array<{ message: { content: string } }> } }));

  async function waitForPending(marker: string, source: "gateway" | "openclaw-exec" = "openclaw-exec"): Promise<ApprovalView> {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const listed = await platform.admin("GET", "/approvals?status=pending&tenantId=acme");
      const found = (listed.body as { approvals: ApprovalView[] }).approvals.find((item) => item.source === source && item.arguments.command?.includes(marker));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`no pending approval for ${marker}`);
  }

  /** The model gateway holds the call first: checks the held answer and approves it once, so the model's repeat reaches the runtime. */
  async function passTheGateway(session: string, text: string, marker: string): Promise<void> {
    const held = await chat(session, text);
    assert.equal(held.status, 200, JSON.stringify(held.body));
    assert.match(held.body.choices?.[0]?.message.content ?? "", /CF_APPROVAL_REQUIRED/, "the gateway holds the call first");
    const gatewayRequest = await waitForPending(marker, "gateway");
    assert.equal(findFile(path.join(platform.dataDir, "tenants", "acme"), marker), null, "nothing ran while the gateway held it");
    const decided = await platform.admin("POST", `/approvals/${gatewayRequest.id}/decision`, { decision: "approve_once" });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
  }

  test("approve (CLI) → OpenClaw runs the command: the file exists", async () => {
    await passTheGateway("approve-session", "please touch approved-marker.txt", "approved-marker.txt");
    const answer = chat("approve-session", "please touch approved-marker.txt");
    const pending = await waitForPending("approved-marker.txt");
    assert.equal(pending.source, "openclaw-exec");
    assert.equal(pending.tool, "exec");
    assert.ok(pending.runtimeApprovalId, "OpenClaw's approval id is stored");
    const listed = await cli(platform, ["approvals", "list"]);
    assert.match(listed, new RegExp(pending.id));
    assert.equal(findFile(path.join(platform.dataDir, "tenants", "acme"), "approved-marker.txt"), null, "nothing ran before the decision");
    const approved = await cli(platform, ["approvals", "approve", pending.id]);
    assert.match(approved, /approved \(approve_once\)/);
    const result = await answer;
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.ok(findFile(path.join(platform.dataDir, "tenants", "acme"), "approved-marker.txt"), "the approved command ran");
    const shown = (await platform.admin("GET", `/approvals/${pending.id}`)).body as ApprovalView;
    assert.equal(shown.status, "approved");
    assert.ok(shown.runtimeResolvedAt, "the decision was delivered to the runtime");
    // A second decision on the same request is a conflict.
    const again = await platform.admin("POST", `/approvals/${pending.id}/decision`, { decision: "reject", reason: "too late" });
    assert.equal(again.status, 409);
    assert.equal((again.body as { error: { code: string } }).error.code, "CF_APPROVAL_ALREADY_DECIDED");
  });

  test("reject (admin API) → OpenClaw denies the command: no file, the model is told", async () => {
    await passTheGateway("reject-session", "please touch denied-marker.txt", "denied-marker.txt");
    const answer = chat("reject-session", "please touch denied-marker.txt");
    const pending = await waitForPending("denied-marker.txt");
    const decided = await platform.admin("POST", `/approvals/${pending.id}/decision`, { decision: "reject", reason: "not on a Friday" });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    const result = await answer;
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.match(result.body.choices?.[0]?.message.content ?? "", /denied/i, "the tool result says the exec was denied");
    assert.equal(findFile(path.join(platform.dataDir, "tenants", "acme"), "denied-marker.txt"), null, "the rejected command did not run");
  });
});
