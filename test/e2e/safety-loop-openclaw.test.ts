/**
 * The loop guard against a REAL OpenClaw runtime: the fake model answers every call with the same `exec` tool
 * call, which OpenClaw (no loop guard of its own by default; FACTS.md saw > 1,100 calls in 3 minutes) would
 * repeat for ever. The tenant has profile `full`, so only the loop guard acts. The run must end with the
 * guard's explanatory answer after a bounded number of upstream calls.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

const MAX_IDENTICAL = 3;

describe("loop guard with a real OpenClaw runtime", { timeout: 420_000 }, () => {
  let upstream: FakeUpstream | undefined;
  let platform: TestPlatform | undefined;
  after(async () => {
    await platform?.stop();
    await upstream?.close();
  });

  test("a model that repeats one tool call is stopped after a bounded number of calls, with an explanation", async () => {
    upstream = await startFakeUpstream();
    upstream.setDefault({ kind: "tool_call", name: "exec", arguments: { command: "echo still-looping" } });
    const configYaml = ["governance:", `  loopGuard: { maxIdenticalToolCalls: ${MAX_IDENTICAL}, maxModelCallsPerRun: 20 }`, ""].join("\n");
    platform = await startTestPlatform({ OPENAI_API_KEY: "sk-provider", OPENAI_BASE_URL: upstream.url, CLAWFLEET_DEFAULT_MODEL: "gpt-4o-mini", CLAWFLEET_RUNTIME_START_TIMEOUT_MS: "240000" }, { configYaml });
    const created = await platform.admin("POST", "/tenants", { id: "loopy", profile: "full" });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { apiKey } = created.body as { apiKey: string };
    const started = Date.now();
    const response = await fetch(`${platform.url}/t/loopy/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "keep checking the status until it changes" }] }),
      signal: AbortSignal.timeout(300_000),
    });
    const body = (await response.json()) as { choices: Array<{ message: { content: string }; finish_reason: string }> };
    assert.equal(response.status, 200, JSON.stringify(body));
    const answer = body.choices[0]?.message.content ?? "";
    assert.match(answer, /called the tool `exec` with the same arguments 3 times/, `the run ended with the guard's explanation (got ${JSON.stringify(answer.slice(0, 300))})`);
    assert.match(answer, /CF_LOOP_DETECTED/);
    const modelCalls = upstream.requests.filter((request) => request.path.endsWith("/chat/completions"));
    assert.ok(modelCalls.length <= MAX_IDENTICAL + 1, `the fake model saw ${modelCalls.length} calls (≤ ${MAX_IDENTICAL + 1})`);
    assert.ok(modelCalls.length >= MAX_IDENTICAL, `the runtime really looped (${modelCalls.length} calls)`);
    const last = modelCalls.at(-1)?.body as { messages: Array<{ role: string; tool_calls?: unknown[] }> };
    assert.equal(last.messages.filter((message) => message.role === "assistant" && message.tool_calls).length, MAX_IDENTICAL - 1, "the provider saw the run up to the last allowed call");
    const records = (await platform.admin("GET", "/tenants/loopy/requests?limit=50")).body as { requests: Array<{ status: number; provider: string | null }> };
    assert.ok(records.requests.some((record) => record.status === 200 && record.provider === null), "the stopped call was answered by the platform, not the provider");
    process.stderr.write(`# loop stopped after ${modelCalls.length} upstream calls, ${Date.now() - started} ms (runtime boot included)\n`);
  });
});
