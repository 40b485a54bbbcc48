/**
 * Permission profiles reach a REAL OpenClaw runtime: a tenant on the default `readonly-agent` profile gets a
 * runtime whose rendered config denies `exec` (OpenClaw then neither offers it to the model nor runs it when the
 * model calls it: "Tool exec not found"), the runtime runs with OPENCLAW_CONFIG_READONLY=1, every proxied request
 * is an `agent_invocation` audit event, and assigning the `full` profile restarts the runtime with `exec` offered.
 * The model is the fake upstream (the only fake). Takes 1-2 minutes (two runtime starts).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { startFakeUpstream, type FakeUpstream, type RecordedRequest } from "../support/fake-upstream.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const skip = !existsSync(path.join(repositoryRoot, "runtime", "openclaw", "node_modules", "openclaw", "openclaw.mjs")) ? "runtime/ (OpenClaw) not installed" : false;

function offeredTools(request: RecordedRequest): string[] {
  const body = request.body as { tools?: Array<{ function?: { name?: string } }> };
  return (body.tools ?? []).map((tool) => tool.function?.name ?? "").filter(Boolean);
}

function chatRequests(upstream: FakeUpstream): RecordedRequest[] {
  return upstream.requests.filter((request) => request.path.endsWith("/chat/completions"));
}

describe("permission profiles in a real OpenClaw runtime", { skip, timeout: 600_000 }, () => {
  let upstream: FakeUpstream;
  let platform: TestPlatform;
  let key: string;
  let keyId: string;

  before(async () => {
    upstream = await startFakeUpstream();
    upstream.setDefault({ kind: "text", text: "done" });
    platform = await startTestPlatform({ OPENAI_API_KEY: "sk-test-provider", OPENAI_BASE_URL: upstream.url, CLAWFLEET_RUNTIME_START_TIMEOUT_MS: "240000", CLAWFLEET_RUNTIME_IDLE_TIMEOUT_MS: "0" });
    const created = (await platform.admin("POST", "/tenants", { id: "gov" })).body as { apiKey: string; keyId: string; profile: string };
    assert.equal(created.profile, "readonly-agent");
    key = created.apiKey;
    keyId = created.keyId;
  });

  after(async () => {
    await platform?.stop();
    await upstream?.close();
  });

  const chat = (content: string) => new OpenAI({ apiKey: key, baseURL: `${platform.url}/t/gov/v1`, maxRetries: 0, timeout: 240_000 }).chat.completions.create({ model: "openclaw", messages: [{ role: "user", content }] });

  test("readonly-agent: exec is not offered, a call to it is blocked by the gateway, direct tool invocation is closed, the config is platform-owned", async () => {
    // The gateway's guard answers first (the runtime never receives the exec call), so OpenClaw's own refusal can no
    // longer be seen through a model call; its layer is checked through the rendered config below.
    upstream.enqueue({ kind: "tool_call", name: "exec", arguments: { command: "id > /tmp/pwned" } }, { kind: "text", text: "could not run it" });
    const before = chatRequests(upstream).length;
    const completion = await chat("run id please");
    assert.match(completion.choices[0]?.message.content ?? "", /Clawfleet blocked the tool call `exec`.*CF_TOOL_DENIED/s);
    const calls = chatRequests(upstream).slice(before);
    assert.equal(calls.length, 1, "the runtime ran no tool, so it made no follow-up model call");
    const tools = offeredTools(calls[0] as RecordedRequest);
    assert.ok(tools.includes("read"), `read is offered (${tools.join(", ")})`);
    for (const denied of ["exec", "write", "edit", "apply_patch", "process"]) assert.ok(!tools.includes(denied), `${denied} is not offered (${tools.join(", ")})`);
    const denials = (await platform.admin("GET", "/audit?tenantId=gov&type=permission_denied")).body as { events: Array<{ details: Record<string, unknown> }> };
    assert.ok(denials.events.some((event) => event.details.tool === "exec"), "the gateway's refusal is audited");

    // OpenClaw's direct tool endpoint would run a tool without a model turn (and so without the gateway): closed.
    for (const variant of ["/tools/invoke", "/TOOLS/invoke/", "//tools//invoke", "/tools/%69nvoke", "/x/../tools/invoke"]) {
      const response = await fetch(`${platform.url}/t/gov${variant}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ tool: "exec", args: { command: "id" } }) });
      const body = (await response.json()) as { error?: { code?: string } };
      assert.equal(response.status, 403, `${variant}: ${JSON.stringify(body)}`);
      assert.equal(body.error?.code, "CF_ROUTE_FORBIDDEN", variant);
    }

    const config = JSON.parse(readFileSync(path.join(platform.dataDir, "tenants", "gov", "state", "openclaw.json"), "utf8")) as { tools: { deny: string[]; exec: { mode: string }; fs: { workspaceOnly: boolean } } };
    assert.equal(config.tools.exec.mode, "deny");
    assert.equal(config.tools.fs.workspaceOnly, true);
    assert.ok(config.tools.deny.includes("exec") && config.tools.deny.includes("gateway"));

    const trail = (await platform.admin("GET", "/audit?tenantId=gov&type=agent_invocation")).body as { events: Array<{ actor: string; requestId: string; details: Record<string, unknown> }> };
    assert.equal(trail.events.length, 1);
    assert.equal(trail.events[0]?.actor, `key:${keyId}`);
    assert.deepEqual(trail.events[0]?.details, { transport: "http", method: "POST", path: "/v1/chat/completions" });
  });

  test("assigning the full profile restarts the running runtime; exec is offered afterwards", async () => {
    const firstPid = ((await platform.admin("GET", "/tenants/gov/runtime")).body as { pid: number | null }).pid;
    assert.equal((await platform.admin("PUT", "/tenants/gov/profile", { profile: "full" })).status, 200);
    const deadline = Date.now() + 240_000;
    let status: { state: string; pid: number | null } = { state: "", pid: null };
    while (Date.now() < deadline) {
      status = (await platform.admin("GET", "/tenants/gov/runtime")).body as { state: string; pid: number | null };
      if (status.state === "ready" && status.pid !== firstPid) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(status.state, "ready");
    assert.notEqual(status.pid, firstPid, "a new runtime process");
    const before = chatRequests(upstream).length;
    await chat("hello again");
    const tools = offeredTools(chatRequests(upstream)[before] as RecordedRequest);
    assert.ok(tools.includes("exec"), `exec is offered under full (${tools.join(", ")})`);
    const config = JSON.parse(readFileSync(path.join(platform.dataDir, "tenants", "gov", "state", "openclaw.json"), "utf8")) as { tools: { exec: { mode: string }; fs: { workspaceOnly: boolean } } };
    assert.deepEqual([config.tools.exec.mode, config.tools.fs.workspaceOnly], ["full", false]);
  });
});
