/**
 * Hard tool enforcement with REAL OpenClaw runtimes: the fake model returns `exec` calls that would create a
 * file in the runtime's workspace. Under `readonly-agent` (the fallback profile of a tenant created without
 * one) the file must never appear — called directly, through the meta-tool `tool_call`, under the alias `bash`,
 * with arguments streamed one character per event — with the runtime speaking each model API to the gateway
 * (Chat Completions, Anthropic Messages, Responses). Control: a `full` tenant's identical calls DO create the
 * file, so the test can fail. Runtimes run one at a time (each ~1 GB).
 *
 * Since the runtime's own OpenClaw config also renders the profile (exec denied), a missing file alone would not
 * prove that the GATEWAY blocked the call; so each denied call must also have a `permission_denied` audit event
 * for the model's tool call id (and no `tool_call_allowed`), the turn must hold no follow-up model call (the
 * runtime executed nothing), and the runtime's next request in that conversation must carry Clawfleet's refusal
 * text as the assistant's answer with no tool call or tool result.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";
import { startToolScriptUpstream, type ToolScriptUpstream } from "../support/tool-script-upstream.js";

const runtimeInstalled = existsSync(path.resolve("runtime", "openclaw", "node_modules", "openclaw", "openclaw.mjs"));

/** Every file name under `directory` (recursive). */
function filesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
}

async function chat(platform: TestPlatform, tenant: string, apiKey: string, text: string, user?: string): Promise<string> {
  const response = await fetch(`${platform.url}/t/${tenant}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: text }], ...(user ? { user } : {}) }),
    signal: AbortSignal.timeout(280_000),
  });
  const body = (await response.json()) as { choices?: Array<{ message?: { content?: string } }> };
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.choices?.[0]?.message?.content ?? "";
}

type UpstreamMessage = { role?: string; content?: unknown; tool_calls?: unknown[] };

/** The text of an upstream message's content (string or parts). */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part: unknown) => (typeof part === "object" && part !== null && "text" in part && typeof part.text === "string" ? part.text : "")).join(" ");
  return "";
}

interface AuditView {
  type: string;
  details: Record<string, unknown>;
}

/** The tenant's audit events of one type (oldest first), after the audit log's batch interval. */
async function auditEvents(platform: TestPlatform, tenant: string, type: string): Promise<AuditView[]> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const listed = await platform.admin("GET", `/audit?tenantId=${tenant}&type=${type}&order=asc&limit=1000`);
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  return (listed.body as { events: AuditView[] }).events;
}

const exec = (file: string) => JSON.stringify({ title: "touch", command: `touch ${file}` });
const viaToolCall = (id: string, file: string) => JSON.stringify({ id, args: { title: "touch", command: `touch ${file}` } });

const cases = {
  "openai-completions": {
    denied: [
      { what: "exec called directly", name: "exec", arguments: exec("cf-denied-direct.txt"), file: "cf-denied-direct.txt" },
      { what: "exec through tool_call", name: "tool_call", arguments: viaToolCall("exec", "cf-denied-meta.txt"), file: "cf-denied-meta.txt" },
      { what: "exec through tool_call by catalog id, one character per event", name: "tool_call", arguments: viaToolCall("openclaw:core:exec", "cf-denied-tiny.txt"), file: "cf-denied-tiny.txt", chunkCharacters: 1 },
      { what: "the alias bash", name: "bash", arguments: exec("cf-denied-bash.txt"), file: "cf-denied-bash.txt", chunkCharacters: 3 },
    ],
    allowed: [
      { what: "exec called directly", name: "exec", arguments: exec("cf-allowed-direct.txt"), file: "cf-allowed-direct.txt", chunkCharacters: 1 },
      { what: "exec through tool_call", name: "tool_call", arguments: viaToolCall("exec", "cf-allowed-meta.txt"), file: "cf-allowed-meta.txt" },
    ],
  },
  "anthropic-messages": {
    denied: [
      { what: "exec, one character per event", name: "exec", arguments: exec("cf-denied-direct.txt"), file: "cf-denied-direct.txt", chunkCharacters: 1 },
      { what: "exec through tool_call", name: "tool_call", arguments: viaToolCall("exec", "cf-denied-meta.txt"), file: "cf-denied-meta.txt", chunkCharacters: 2 },
    ],
    allowed: [{ what: "exec called directly", name: "exec", arguments: exec("cf-allowed-direct.txt"), file: "cf-allowed-direct.txt", chunkCharacters: 1 }],
  },
  "openai-responses": {
    denied: [
      { what: "exec, one character per event", name: "exec", arguments: exec("cf-denied-direct.txt"), file: "cf-denied-direct.txt", chunkCharacters: 1 },
      { what: "exec through tool_call", name: "tool_call", arguments: viaToolCall("exec", "cf-denied-meta.txt"), file: "cf-denied-meta.txt", chunkCharacters: 2 },
    ],
    allowed: [{ what: "exec called directly", name: "exec", arguments: exec("cf-allowed-direct.txt"), file: "cf-allowed-direct.txt", chunkCharacters: 1 }],
  },
} as const;

for (const [modelApi, scenario] of Object.entries(cases)) {
  describe(`tool enforcement, runtime speaking ${modelApi}`, { timeout: 600_000, skip: runtimeInstalled ? false : "runtime/ not installed" }, () => {
    let upstream: ToolScriptUpstream | undefined;
    let platform: TestPlatform | undefined;
    after(async () => {
      await platform?.stop();
      await upstream?.close();
    });

    test("a disallowed exec never runs; the same call runs for a `full` tenant", async () => {
      upstream = await startToolScriptUpstream();
      for (const [index, call] of [...scenario.denied, ...scenario.allowed].entries()) upstream.script({ trigger: `TRIGGER-${index}-`, name: call.name, arguments: call.arguments, ...("chunkCharacters" in call ? { chunkCharacters: call.chunkCharacters } : {}) });
      platform = await startTestPlatform({ OPENAI_API_KEY: "sk-provider", OPENAI_BASE_URL: upstream.url, CLAWFLEET_RUNTIME_MODEL_API: modelApi, CLAWFLEET_RUNTIME_START_TIMEOUT_MS: "240000" });

      const locked = (await platform.admin("POST", "/tenants", { id: "locked" })).body as { apiKey: string; profile: string };
      const requestsBefore = upstream.requests.length;
      const deniedCallIds: string[] = [];
      for (const [index, call] of scenario.denied.entries()) {
        const issuedBefore = upstream.issued.length;
        const turnStart = upstream.requests.length;
        const conversation = `denied-${index}`;
        const answer = await chat(platform, "locked", locked.apiKey, `please run it TRIGGER-${index}-`, conversation);
        assert.match(answer, /CF_TOOL_DENIED/, `${call.what}: the runtime got the refusal (${answer})`);
        assert.match(answer, /exec/);
        // The GATEWAY blocked it (OpenClaw's own config also denies exec here, so "no file" alone proves nothing):
        // the model's call never reached the runtime, so the runtime sent no tool result back in that turn …
        const issued: ToolScriptUpstream["issued"] = upstream.issued.slice(issuedBefore);
        assert.equal(issued.length, 1, `${call.what}: the model made one call`);
        deniedCallIds.push((issued[0] as { toolCallId: string }).toolCallId);
        const turn = upstream.requests.slice(turnStart) as Array<{ messages?: UpstreamMessage[] }>;
        assert.equal(turn.length, 1, `${call.what}: no follow-up model call in the turn (the runtime executed nothing)`);
        // … and the runtime's next model request in that conversation carries Clawfleet's refusal as the
        // assistant's answer, with no tool call and no tool result for it.
        await chat(platform, "locked", locked.apiKey, "what happened?", conversation);
        const followUp = (upstream.requests.at(-1) as { messages?: UpstreamMessage[] }).messages ?? [];
        assert.ok(followUp.some((message) => message.role === "assistant" && /Clawfleet blocked the tool call `exec`.*CF_TOOL_DENIED/s.test(textOf(message.content))), `${call.what}: the follow-up request carries the refusal text`);
        assert.ok(!followUp.some((message) => message.role === "tool" || (message.tool_calls?.length ?? 0) > 0), `${call.what}: no tool call or tool result in the runtime's history`);
      }
      const denials = await auditEvents(platform, "locked", "permission_denied");
      for (const [index, call] of scenario.denied.entries()) {
        const event = denials.find((candidate) => candidate.details.toolCallId === deniedCallIds[index]);
        assert.ok(event, `${call.what}: a permission_denied audit event for the model's call ${deniedCallIds[index]}`);
        assert.equal(event.details.tool, "exec");
        assert.equal(event.details.calledName, call.name);
      }
      const allowedIds = (await auditEvents(platform, "locked", "tool_call_allowed")).map((event) => event.details.toolCallId);
      for (const id of deniedCallIds) assert.ok(!allowedIds.includes(id), `${id} was never allowed`);
      const lockedFiles = filesUnder(path.join(platform.dataDir, "tenants", "locked"));
      for (const call of scenario.denied) assert.ok(!lockedFiles.includes(call.file), `${call.what}: ${call.file} must not exist`);
      const offered = upstream.requests.slice(requestsBefore).flatMap((body) => ((body.tools as Array<{ function?: { name?: string } }> | undefined) ?? []).map((tool) => tool.function?.name));
      assert.ok(offered.includes("read") && !offered.includes("exec") && !offered.includes("process"), `exec is not offered to readonly-agent: ${[...new Set(offered)].join(",")}`);
      assert.equal((await platform.admin("POST", "/tenants/locked/runtime/stop")).status < 300, true);

      const open = (await platform.admin("POST", "/tenants", { id: "open", profile: "full" })).body as { apiKey: string };
      const offset = scenario.denied.length;
      const allowedCallIds: string[] = [];
      for (const [index, call] of scenario.allowed.entries()) {
        const issuedBefore = upstream.issued.length;
        const answer = await chat(platform, "open", open.apiKey, `please run it TRIGGER-${offset + index}-`);
        assert.match(answer, /TOOL-RESULT-SEEN/, `${call.what}: the tool ran and its result went back to the model (${answer})`);
        allowedCallIds.push(...upstream.issued.slice(issuedBefore).map((issued) => issued.toolCallId));
      }
      // Control for the audit assertions above: the same kind of call, allowed, is audited as allowed.
      const allowedOpen = (await auditEvents(platform, "open", "tool_call_allowed")).map((event) => event.details.toolCallId);
      for (const id of allowedCallIds) assert.ok(allowedOpen.includes(id), `control: tool_call_allowed for ${id}`);
      const openFiles = filesUnder(path.join(platform.dataDir, "tenants", "open"));
      for (const call of scenario.allowed) assert.ok(openFiles.includes(call.file), `control, ${call.what}: ${call.file} exists`);
    });
  });
}
