/**
 * The fake Anthropic upstream and its fixtures speak Anthropic's real wire format: the official SDK
 * (`@anthropic-ai/sdk`), whose stream accumulator rejects events out of order, consumes every fixture.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { startFakeAnthropic } from "../../../support/fake-anthropic.js";
import type { ScriptedFake } from "../../../support/scripted-provider-fake.js";

describe("fake Anthropic upstream, read by the official SDK", { timeout: 20_000 }, () => {
  let fake: ScriptedFake;
  let client: Anthropic;
  before(async () => {
    fake = await startFakeAnthropic();
    client = new Anthropic({ apiKey: "sk-ant-test", baseURL: fake.url, maxRetries: 0 });
  });
  after(() => fake.close());

  const params = { model: "claude-haiku-4-5", max_tokens: 64, messages: [{ role: "user" as const, content: "Hi" }] };

  test("text.json is a Message", async () => {
    fake.enqueue({ kind: "fixture", name: "text" });
    const message = await client.messages.create(params);
    assert.deepEqual(message.content, [{ type: "text", text: "Hello! How can I help you today?" }]);
    assert.equal(message.usage.cache_read_input_tokens, 1824);
  });

  for (const name of ["text", "tool-call", "thinking"]) {
    test(`${name}.chunks.txt streams into a complete Message (split into 7-byte pieces)`, async () => {
      fake.enqueue({ kind: "fixture", name, pieceBytes: 7 });
      const stream = client.messages.stream(params);
      const message = await stream.finalMessage();
      assert.ok(message.stop_reason !== null);
      assert.ok(message.content.length > 0);
      if (name === "tool-call") {
        const toolUse = message.content.find((block) => block.type === "tool_use");
        assert.deepEqual(toolUse?.type === "tool_use" ? toolUse.input : undefined, { location: "San Francisco, CA", unit: "fahrenheit" });
      }
      if (name === "thinking") {
        const thinking = message.content[0];
        assert.equal(thinking?.type === "thinking" ? thinking.signature : undefined, "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds");
      }
    });
  }

  test("error fixtures map to the SDK's error classes with their status and headers", async () => {
    fake.enqueue({ kind: "fixture", name: "error-429" }, { kind: "fixture", name: "error-529" });
    await assert.rejects(client.messages.create(params), (error: unknown) => {
      assert.ok(error instanceof Anthropic.RateLimitError);
      assert.equal(error.headers?.get("retry-after"), "17");
      return true;
    });
    await assert.rejects(client.messages.create(params), (error: unknown) => error instanceof Anthropic.APIError && error.status === 529);
  });

  test("an overloaded error mid-stream surfaces as the SDK's error", async () => {
    fake.enqueue({ kind: "fixture", name: "overloaded-mid-stream" });
    await assert.rejects(client.messages.stream(params).finalMessage(), (error: unknown) => error instanceof Anthropic.APIError && /Overloaded/.test(error.message));
  });
});
