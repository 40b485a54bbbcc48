/**
 * End to end with a REAL OpenClaw runtime whose `tools.exec.mode` is `ask` (a tenant setting): Clawfleet is the
 * runtime's approval client, so an exec the model asks for waits in Clawfleet's inbox. Approved through the CLI →
 * the command ran (its file exists); rejected through the admin API → it did not (no file), and OpenClaw told the
 * model it was denied. The model is a fake upstream that returns the exec tool call.
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
      { configYaml: "governance:\n  approvals:\n    timeoutMs: 600000\n    sweepIntervalMs: 500\n" },
    );
    const created = await platform.admin("POST", "/tenants", { id: "acme", settings: { tools: { exec: { mode: "ask" } } } });
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

  async function waitForPending(marker: string): Promise<ApprovalView> {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const listed = await platform.admin("GET", "/approvals?status=pending&tenantId=acme");
      const found = (listed.body as { approvals: ApprovalView[] }).approvals.find((item) => item.arguments.command?.includes(marker));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`no pending approval for ${marker}`);
  }

  test("approve (CLI) → OpenClaw runs the command: the file exists", async () => {
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
