/**
 * Real OpenClaw runtimes configured to speak `anthropic-messages` and `openai-responses` to the model gateway,
 * which translates to an OpenAI-compatible upstream (the fake). Proves the runtime's calls arrive on the
 * gateway's Anthropic and Responses endpoints and the answer makes it back to the caller.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

for (const modelApi of ["anthropic-messages", "openai-responses"] as const) {
  describe(`a runtime speaking ${modelApi} to the gateway`, { timeout: 300_000 }, () => {
    let upstream: FakeUpstream | undefined;
    let platform: TestPlatform | undefined;
    after(async () => {
      await platform?.stop();
      await upstream?.close();
    });

    test("chats through the ingress; the gateway translates its calls to the OpenAI-compatible provider", async () => {
      upstream = await startFakeUpstream();
      const answer = `answered via ${modelApi}`;
      upstream.setDefault({ kind: "text", text: answer });
      platform = await startTestPlatform({ OPENAI_API_KEY: "sk-provider", OPENAI_BASE_URL: upstream.url, CLAWFLEET_RUNTIME_MODEL_API: modelApi, CLAWFLEET_RUNTIME_START_TIMEOUT_MS: "240000" });
      const created = await platform.admin("POST", "/tenants", { id: "apis" });
      const { apiKey } = created.body as { apiKey: string };
      const response = await fetch(`${platform.url}/t/apis/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hello there" }] }),
      });
      const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.choices[0]?.message.content, answer);
      const listed = await platform.admin("GET", "/tenants/apis/requests?limit=20");
      const records = (listed.body as { requests: Array<{ api: string; provider: string; status: number; inputTokens: number }> }).requests;
      assert.ok(records.length > 0, "the runtime's model calls were recorded");
      for (const record of records) {
        assert.equal(record.api, modelApi === "anthropic-messages" ? "anthropic-messages" : "openai-responses", "the runtime called the gateway in its configured API");
        assert.equal(record.provider, "openai");
        assert.equal(record.status, 200);
        assert.ok(record.inputTokens > 0, "usage was translated back");
      }
      const upstreamCalls = upstream.requests.filter((request) => request.path.endsWith("/chat/completions"));
      assert.ok(upstreamCalls.length >= 1);
      for (const call of upstreamCalls) assert.equal(call.headers.authorization, "Bearer sk-provider");
    });
  });
}
