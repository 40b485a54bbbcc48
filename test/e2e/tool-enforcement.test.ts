/**
 * Hard tool enforcement with REAL OpenClaw runtimes: the fake model returns `exec` calls that would create a
 * file in the runtime's workspace. Under `readonly-agent` (the fallback profile of a tenant created without
 * one) the file must never appear — called directly, through the meta-tool `tool_call`, under the alias `bash`,
 * with arguments streamed one character per event — with the runtime speaking each model API to the gateway
 * (Chat Completions, Anthropic Messages, Responses). Control: a `full` tenant's identical calls DO create the
 * file, so the test can fail. Runtimes run one at a time (each ~1 GB).
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

async function chat(platform: TestPlatform, tenant: string, apiKey: string, text: string): Promise<string> {
  const response = await fetch(`${platform.url}/t/${tenant}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: text }] }),
    signal: AbortSignal.timeout(280_000),
  });
  const body = (await response.json()) as { choices?: Array<{ message?: { content?: string } }> };
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.choices?.[0]?.message?.content ?? "";
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
      for (const [index, call] of scenario.denied.entries()) {
        const answer = await chat(platform, "locked", locked.apiKey, `please run it TRIGGER-${index}-`);
        assert.match(answer, /CF_TOOL_DENIED/, `${call.what}: the runtime got the refusal (${answer})`);
        assert.match(answer, /exec/);
      }
      const lockedFiles = filesUnder(path.join(platform.dataDir, "tenants", "locked"));
      for (const call of scenario.denied) assert.ok(!lockedFiles.includes(call.file), `${call.what}: ${call.file} must not exist`);
      const offered = upstream.requests.slice(requestsBefore).flatMap((body) => ((body.tools as Array<{ function?: { name?: string } }> | undefined) ?? []).map((tool) => tool.function?.name));
      assert.ok(offered.includes("read") && !offered.includes("exec") && !offered.includes("process"), `exec is not offered to readonly-agent: ${[...new Set(offered)].join(",")}`);
      assert.equal((await platform.admin("POST", "/tenants/locked/runtime/stop")).status < 300, true);

      const open = (await platform.admin("POST", "/tenants", { id: "open", profile: "full" })).body as { apiKey: string };
      const offset = scenario.denied.length;
      for (const [index, call] of scenario.allowed.entries()) {
        const answer = await chat(platform, "open", open.apiKey, `please run it TRIGGER-${offset + index}-`);
        assert.match(answer, /TOOL-RESULT-SEEN/, `${call.what}: the tool ran and its result went back to the model (${answer})`);
      }
      const openFiles = filesUnder(path.join(platform.dataDir, "tenants", "open"));
      for (const call of scenario.allowed) assert.ok(openFiles.includes(call.file), `control, ${call.what}: ${call.file} exists`);
    });
  });
}
