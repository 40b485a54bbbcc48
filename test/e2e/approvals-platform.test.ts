/**
 * The approval inbox in a whole Clawfleet over real sockets: the admin API and the CLI, a webhook notification
 * configured with a secret by reference, a pending request that survives a restart of the platform on the same
 * data dir, an undecided request rejected at its (shortened) deadline, and a timed grant that expires.
 * Permission requests are raised through the `ApprovalGate` the model gateway calls.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { startClawfleet, type RunningClawfleet } from "../../src/app.js";
import { loadConfig } from "../../src/config/load.js";
import type { ToolCallUnderReview } from "../../src/contracts/governance.js";
import { verifyWebhookSignature } from "../../src/governance/approvals/notifiers/webhook.js";
import { createLogger } from "../../src/observability/logger.js";
import { REPOSITORY_ROOT } from "../support/serve-process.js";

const ADMIN_TOKEN = "approvals-admin-token-0123456789abcdef";
const HOOK_SECRET = "whsec-test-0123456789";

interface View {
  id: string;
  status: string;
  decision: string | null;
  decisionReason: string | null;
  tool: string;
  notifications?: Array<{ channel: string; deliveredAt: string | null; attempts: number }>;
}

describe("approvals through the admin API and CLI (real sockets, restarts)", { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "cf-apr-"));
  const hooks: Array<{ body: string; signature: string }> = [];
  const hookServer = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      hooks.push({ body, signature: String(request.headers["x-clawfleet-signature"]) });
      response.writeHead(200).end();
    });
  });
  let running: RunningClawfleet;

  async function start(timeoutMs: number): Promise<RunningClawfleet> {
    const port = (hookServer.address() as AddressInfo).port;
    writeFileSync(
      path.join(dataDir, "clawfleet.yaml"),
      `governance:\n  approvals:\n    timeoutMs: ${timeoutMs}\n    sweepIntervalMs: 200\n    notify:\n      - id: ops-hook\n        kind: webhook\n        url: http://127.0.0.1:${port}/approvals\n        secret: {source: env, name: HOOK_SECRET}\n`,
    );
    const env = { CLAWFLEET_PORT: "0", CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_ADMIN_TOKEN: ADMIN_TOKEN, CLAWFLEET_LOG_LEVEL: "silent", HOOK_SECRET };
    const { config } = loadConfig({ env, cwd: dataDir });
    return startClawfleet(config, createLogger(config.logLevel, process.stderr), env);
  }

  const admin = async (method: string, apiPath: string, body?: unknown) => {
    const response = await fetch(`${running.url}/admin/v1${apiPath}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? null : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const cli = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [path.join(REPOSITORY_ROOT, "bin", "clawfleet.js"), ...args], { env: { PATH: process.env.PATH ?? "", CLAWFLEET_URL: running.url, CLAWFLEET_ADMIN_TOKEN: ADMIN_TOKEN } }, (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout)));
    });
  const call = (command: string, sessionId = "s1"): ToolCallUnderReview => ({ tenantId: "acme", sessionId, requestId: "req-1", toolCallId: "call_1", calledName: "exec", tool: "exec", arguments: { command } });
  const raise = async (command: string, sessionId = "s1") => {
    const outcome = await running.deps.approvals.inbox.review(call(command, sessionId), { risk: "high", reason: "exec needs approval" });
    assert.equal(outcome.kind, "pending");
    return outcome.kind === "pending" ? outcome.permissionRequestId : "";
  };
  const until = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  before(async () => {
    await new Promise<void>((resolve) => hookServer.listen(0, "127.0.0.1", resolve));
    running = await start(600_000);
  });
  after(async () => {
    await running?.close();
    await new Promise((resolve) => hookServer.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a new request notifies the webhook (signed with the referenced secret) and is listed by the API and CLI", async () => {
    const id = await raise("make deploy");
    await until(async () => hooks.length > 0, "the webhook");
    const hook = hooks[0];
    assert.equal(verifyWebhookSignature(hook?.signature, hook?.body ?? "", HOOK_SECRET), true);
    assert.equal((JSON.parse(hook?.body ?? "{}") as { permissionRequestId: string }).permissionRequestId, id);
    const listed = await admin("GET", "/approvals?status=pending");
    assert.deepEqual((listed.body.approvals as View[]).map((item) => item.id), [id]);
    const shown = (await admin("GET", `/approvals/${id}`)).body as unknown as View;
    assert.equal(shown.notifications?.[0]?.channel, "ops-hook");
    assert.ok(shown.notifications?.[0]?.deliveredAt);
    assert.match(await cli(["approvals", "list"]), new RegExp(`${id}\\tpending\\tacme\\texec\\thigh`));
    assert.match(await cli(["approvals", "show", id]), /arguments \{"command":"make deploy"\}/);
    assert.equal((await admin("GET", "/approvals/apr_nope")).status, 400);
    assert.equal((await admin("GET", "/approvals/apr_0000000000000000000000")).status, 404);
    const bad = await admin("POST", `/approvals/${id}/decision`, { decision: "approve_all" });
    assert.equal(bad.status, 400, "only structured decisions");
    const freeText = await admin("POST", `/approvals/${id}/decision`, { decision: "approve_once", note: "approve everything from now on" });
    assert.equal(freeText.status, 400, "unknown fields are refused");
    assert.equal((await admin("POST", `/approvals/${id}/decision`, { decision: "reject" })).status, 400, "reject needs a reason");
  });

  test("a pending request survives a restart on the same data dir, then is approved through the CLI", async () => {
    const id = ((await admin("GET", "/approvals?status=pending")).body.approvals as View[])[0]?.id as string;
    await running.close();
    running = await start(600_000);
    const after = (await admin("GET", `/approvals/${id}`)).body as unknown as View;
    assert.equal(after.status, "pending");
    assert.equal((await running.deps.approvals.inbox.review(call("make deploy"), { risk: "high", reason: "x" })).kind, "pending", "the repeated call finds the stored request");
    assert.match(await cli(["approvals", "approve", id]), /approved \(approve_once\)/);
    assert.equal((await running.deps.approvals.inbox.review(call("make deploy"), { risk: "high", reason: "x" })).kind, "granted");
    await assert.rejects(cli(["approvals", "reject", id, "--reason", "late"]), /CF_APPROVAL_ALREADY_DECIDED/);
  });

  test("a timed grant (approve --for) covers matching calls, is listed, and expires; revoke works", async () => {
    const id = await raise("ls /srv", "s2");
    const decided = await admin("POST", `/approvals/${id}/decision`, { decision: "approve_for", durationMs: 5_000, argumentsPattern: "ls *" });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal((await running.deps.approvals.inbox.review(call("ls /tmp", "s9"), { risk: "high", reason: "x" })).kind, "granted");
    const active = (await admin("GET", "/grants?active=true")).body.grants as Array<{ id: string; argumentsPattern: string | null; expiresAt: string }>;
    const timed = active.find((grant) => grant.argumentsPattern === "ls *");
    assert.ok(timed);
    assert.match(await cli(["grants", "list", "--active"]), /ls \*/);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(timed.expiresAt) - Date.now()) + 50));
    assert.equal((await running.deps.approvals.inbox.review(call("ls /home", "s9"), { risk: "high", reason: "x" })).kind, "pending", "expired");
    assert.equal(((await admin("GET", "/grants?active=true")).body.grants as Array<{ id: string }>).some((grant) => grant.id === timed.id), false);
    const other = await raise("ls /var", "s3");
    await admin("POST", `/approvals/${other}/decision`, { decision: "approve_for", durationMs: 60_000, argumentsPattern: "ls /var*" });
    const grant = ((await admin("GET", "/grants?active=true")).body.grants as Array<{ id: string; argumentsPattern: string | null }>).find((item) => item.argumentsPattern === "ls /var*");
    assert.match(await cli(["grants", "revoke", grant?.id as string]), /revoked/);
    assert.equal((await running.deps.approvals.inbox.review(call("ls /var/log", "s4"), { risk: "high", reason: "x" })).kind, "pending", "a revoked grant covers nothing");
    assert.equal((await admin("DELETE", "/grants/grt_0000000000000000000000")).status, 404);
  });

  test("approve permanently: a failing profile change (unknown tenant) leaves the request pending; then it forks the tenant's profile", async () => {
    // Profiles are stored now (this test answered 501 while they were not): the profile editor is the real one.
    const id = await raise("make test", "s5");
    const response = await admin("POST", `/approvals/${id}/decision`, { decision: "approve_permanently" });
    assert.equal(response.status, 404, JSON.stringify(response.body));
    assert.equal((response.body as { error: { code: string } }).error.code, "CF_TENANT_NOT_FOUND");
    assert.equal(((await admin("GET", `/approvals/${id}`)).body as unknown as View).status, "pending");
    assert.equal((await admin("POST", "/tenants", { id: "acme", profile: "finance-agent" })).status, 201);
    const approved = await admin("POST", `/approvals/${id}/decision`, { decision: "approve_permanently" });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(((await admin("GET", `/approvals/${id}`)).body as unknown as View).status, "approved");
    const tenant = (await admin("GET", "/tenants/acme")).body as { profile: string };
    assert.equal(tenant.profile, "acme-custom", "the preset was copied for this tenant alone");
    const profile = (await admin("GET", "/profiles/acme-custom")).body as { tools: { allow: string[]; approval: string[] } };
    assert.ok(profile.tools.allow.includes("exec") && !profile.tools.approval.includes("exec"), JSON.stringify(profile.tools));
  });

  test("an undecided request is rejected at its deadline (timeout shortened to 1 s), also across a restart", async () => {
    await running.close();
    running = await start(1_000);
    const id = await raise("rm -rf /tmp/cache", "s6");
    await until(async () => ((await admin("GET", `/approvals/${id}`)).body as unknown as View).status === "expired", "the deadline");
    const view = (await admin("GET", `/approvals/${id}`)).body as unknown as View;
    assert.equal(view.decision, "expired");
    assert.match(view.decisionReason ?? "", /no decision within 1 s/);
    const late = await admin("POST", `/approvals/${id}/decision`, { decision: "approve_once" });
    assert.equal(late.status, 409);
    assert.equal((late.body.error as { code: string }).code, "CF_APPROVAL_ALREADY_DECIDED");
    // A request that falls due while the platform is down is rejected by the sweep at start.
    const second = await raise("rm -rf /tmp/other", "s7");
    await running.close();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    running = await start(1_000);
    assert.equal(((await admin("GET", `/approvals/${second}`)).body as unknown as View).status, "expired", "expired by the sweep at start");
  });
});
