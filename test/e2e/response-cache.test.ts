/**
 * The exact-match response cache over real sockets: hits and misses, tenant isolation (the same request from
 * another tenant is never served from the first tenant's entry), generation parameters in the key, tool-call
 * answers cached only when asked, streams never cached.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

describe("response cache", { timeout: 60_000 }, () => {
  let upstream: FakeUpstream;
  let platform: TestPlatform;
  const keys: Record<string, string> = {};
  let answers = 0;

  before(async () => {
    upstream = await startFakeUpstream();
    upstream.setDefault(() => ({ kind: "text", text: `answer ${++answers}` }));
    platform = await startTestPlatform({ OPENAI_API_KEY: "sk-upstream", OPENAI_BASE_URL: upstream.url, CLAWFLEET_DEFAULT_MODEL: "gpt-4o-mini" }, { configYaml: "cache:\n  ttlMs: 60000\n  tenants: [alpha]\n" });
    // alpha's tool-call answers must reach it: its profile allows every tool (`full`).
    for (const id of ["alpha", "beta"]) keys[id] = ((await platform.admin("POST", "/tenants", { id, ...(id === "alpha" ? { profile: "full" } : {}) })).body as { apiKey: string }).apiKey;
  });
  after(async () => {
    await platform?.stop();
    await upstream?.close();
  });

  async function ask(tenant: string, body: Record<string, unknown>, header?: string): Promise<{ text: string; cache: string | null }> {
    const response = await fetch(`${platform.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${keys[tenant]}`, "content-type": "application/json", ...(header ? { "x-clawfleet-cache": header } : {}) },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200);
    const json = (await response.json()) as { choices: Array<{ message: { content: string | null; tool_calls?: unknown[] } }> };
    return { text: json.choices[0]?.message.content ?? JSON.stringify(json.choices[0]?.message.tool_calls), cache: response.headers.get("x-clawfleet-cache") };
  }

  test("a tenant with the cache on gets a hit for the same request; another tenant never gets its answer", async () => {
    const body = { model: "default", messages: [{ role: "user", content: "what is 2+2?" }], temperature: 0 };
    const first = await ask("alpha", body);
    assert.equal(first.cache, "miss");
    const again = await ask("alpha", { temperature: 0, messages: body.messages, model: "default" });
    assert.deepEqual(again, { text: first.text, cache: "hit" }, "same request (keys in another order) → the cached answer");
    const otherTenant = await ask("beta", body, "on");
    assert.equal(otherTenant.cache, "miss", "beta's identical request is a miss");
    assert.notEqual(otherTenant.text, first.text, "and gets its own answer from the provider");
    const otherParameters = await ask("alpha", { ...body, temperature: 0.7 });
    assert.equal(otherParameters.cache, "miss", "a different generation parameter is a different entry");
  });

  test("opt-in per request; off by default for other tenants; streams and tool calls are not cached unless asked", async () => {
    const body = { model: "default", messages: [{ role: "user", content: "cache me per request" }] };
    assert.equal((await ask("beta", body)).cache, null, "beta has no cache by default");
    assert.equal((await ask("beta", body, "on")).cache, "miss");
    assert.equal((await ask("beta", body, "on")).cache, "hit");
    assert.equal((await ask("alpha", body, "off")).cache, null, "a request can opt out");

    upstream.enqueue({ kind: "tool_call", name: "exec", arguments: { command: "ls" } }, { kind: "tool_call", name: "exec", arguments: { command: "ls" } });
    const toolBody = { model: "default", messages: [{ role: "user", content: "list files" }], tools: [{ type: "function", function: { name: "exec", parameters: { type: "object" } } }] };
    assert.equal((await ask("alpha", toolBody)).cache, "miss");
    assert.equal((await ask("alpha", toolBody)).cache, "miss", "a tool-call answer was not stored");
    const upstreamBefore = upstream.requests.length;
    upstream.enqueue({ kind: "tool_call", name: "exec", arguments: { command: "ls -l" } });
    const stored = await ask("alpha", { ...toolBody, messages: [{ role: "user", content: "list again" }] }, "tools");
    assert.equal(stored.cache, "miss");
    assert.match(stored.text, /ls -l/, "the answer is a tool call");
    const replayed = await ask("alpha", { ...toolBody, messages: [{ role: "user", content: "list again" }] }, "tools");
    assert.deepEqual(replayed, { text: stored.text, cache: "hit" }, "a tool-call answer is stored when asked with `tools`");
    assert.equal(upstream.requests.length - upstreamBefore, 1);

    const stream = await fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${keys.alpha}`, "x-clawfleet-cache": "on" }, body: JSON.stringify({ ...body, stream: true }) });
    assert.equal(stream.headers.get("x-clawfleet-cache"), null, "streams are not cached");
    await stream.text();
  });
});
