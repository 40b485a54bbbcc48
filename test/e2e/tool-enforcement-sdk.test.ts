/**
 * Direct API callers (the official `openai` and `@anthropic-ai/sdk` clients, over real sockets) whose model
 * returns tool calls their tenant's profile does not permit: every client API, JSON and stream, gets an
 * assistant message saying the tool is not permitted instead of the call; permitted calls pass; tools the
 * profile denies are not offered upstream; an answer passed through byte for byte (no tools offered) that
 * holds a tool call anyway is refused too.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

describe("tool enforcement for direct API callers", { timeout: 120_000 }, () => {
  let upstream: FakeUpstream;
  let platform: TestPlatform;
  let lockedKey: string;
  let fullKey: string;

  before(async () => {
    upstream = await startFakeUpstream();
    upstream.setDefault({ kind: "text", text: "plain" });
    platform = await startTestPlatform({ OPENAI_API_KEY: "sk-upstream", OPENAI_BASE_URL: upstream.url, CLAWFLEET_DEFAULT_MODEL: "gpt-4o-mini" });
    await platform.admin("POST", "/tenants", { id: "locked" });
    await platform.admin("POST", "/tenants", { id: "trusted", profile: "full" });
    lockedKey = ((await platform.admin("POST", "/tenants/locked/keys", { scopes: ["model"] })).body as { key: string }).key;
    fullKey = ((await platform.admin("POST", "/tenants/trusted/keys", { scopes: ["model"] })).body as { key: string }).key;
  });
  after(async () => {
    await platform?.stop();
    await upstream?.close();
  });

  const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${platform.url}/v1`, maxRetries: 0 });
  const anthropic = (key: string) => new Anthropic({ apiKey: key, baseURL: platform.url, maxRetries: 0 });
  const execTool = { type: "function" as const, function: { name: "exec", parameters: { type: "object", properties: { command: { type: "string" } } } } };
  const readTool = { type: "function" as const, function: { name: "read", parameters: { type: "object", properties: { path: { type: "string" } } } } };
  const metaTool = { type: "function" as const, function: { name: "tool_call", parameters: { type: "object", properties: { id: { type: "string" }, args: { type: "object" } } } } };

  test("Chat Completions, JSON: exec refused, not offered upstream; read in the workspace passes", async () => {
    upstream.enqueue({ kind: "tool_call", name: "exec", arguments: { command: "touch /tmp/x" } });
    const before = upstream.requests.length;
    const completion = await openai(lockedKey).chat.completions.create({ model: "default", messages: [{ role: "user", content: "run" }], tools: [execTool, readTool] });
    const message = completion.choices[0]?.message;
    assert.equal(message?.tool_calls, undefined);
    assert.match(message?.content ?? "", /Clawfleet blocked the tool call `exec`.*not permitted.*CF_TOOL_DENIED/);
    assert.equal(completion.choices[0]?.finish_reason, "stop");
    const sent = upstream.requests[before]?.body as { tools?: Array<{ function: { name: string } }> };
    assert.deepEqual(sent.tools?.map((tool) => tool.function.name), ["read"], "exec was not offered to the model");

    upstream.enqueue({ kind: "tool_call", name: "read", arguments: { path: "notes.md" } });
    const allowed = await openai(lockedKey).chat.completions.create({ model: "default", messages: [{ role: "user", content: "read" }], tools: [readTool] });
    assert.equal(allowed.choices[0]?.message.tool_calls?.[0]?.type === "function" ? allowed.choices[0].message.tool_calls[0].function.name : "", "read");

    upstream.enqueue({ kind: "tool_call", name: "read", arguments: { path: "../../../etc/shadow" } });
    const escaped = await openai(lockedKey).chat.completions.create({ model: "default", messages: [{ role: "user", content: "read" }], tools: [readTool] });
    assert.match(escaped.choices[0]?.message.content ?? "", /outside the allowed roots/);
  });

  test("Chat Completions, stream: a tool_call meta-call to exec is refused mid-stream", async () => {
    upstream.enqueue({ kind: "tool_call", name: "tool_call", arguments: { id: "exec", args: { command: "touch /tmp/x" } } });
    const stream = await openai(lockedKey).chat.completions.create({ model: "default", messages: [{ role: "user", content: "run" }], tools: [metaTool], stream: true });
    let text = "";
    let toolDeltas = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      toolDeltas += chunk.choices[0]?.delta.tool_calls?.length ?? 0;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(toolDeltas, 0);
    assert.match(text, /`exec`.*CF_TOOL_DENIED/);
    assert.equal(finish, "stop");
  });

  test("a full tenant's exec call passes, JSON and stream", async () => {
    upstream.enqueue({ kind: "tool_call", name: "exec", arguments: { command: "ls" } }, { kind: "tool_call", name: "exec", arguments: { command: "ls" } });
    const completion = await openai(fullKey).chat.completions.create({ model: "default", messages: [{ role: "user", content: "run" }], tools: [execTool] });
    assert.equal(completion.choices[0]?.finish_reason, "tool_calls");
    const stream = await openai(fullKey).chat.completions.create({ model: "default", messages: [{ role: "user", content: "run" }], tools: [execTool], stream: true });
    let argumentsText = "";
    for await (const chunk of stream) argumentsText += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
    assert.deepEqual(JSON.parse(argumentsText), { command: "ls" });
  });

  test("Responses, JSON and stream", async () => {
    upstream.enqueue({ kind: "tool_call", name: "exec", arguments: { command: "id" } }, { kind: "tool_call", name: "tool_call", arguments: { id: "bash", args: { command: "id" } } });
    const tools = [{ type: "function" as const, name: "exec", parameters: { type: "object" }, strict: false }, { type: "function" as const, name: "tool_call", parameters: { type: "object" }, strict: false }];
    const response = await openai(lockedKey).responses.create({ model: "default", input: "run", tools });
    assert.equal(response.output.filter((item) => item.type === "function_call").length, 0);
    assert.match(response.output_text, /`exec`.*CF_TOOL_DENIED/);
    const final = await openai(lockedKey).responses.stream({ model: "default", input: "run", tools }).finalResponse();
    assert.equal(final.output.filter((item) => item.type === "function_call").length, 0);
    assert.match(final.output_text, /`exec`.*CF_TOOL_DENIED/);
  });

  test("Anthropic Messages, JSON and stream", async () => {
    upstream.enqueue({ kind: "tool_call", name: "EXEC", arguments: { command: "id" } }, { kind: "tool_call", name: "tool_call", arguments: { toolId: "openclaw:core:exec", command: "id" } });
    const tools = [{ name: "EXEC", input_schema: { type: "object" as const } }, { name: "tool_call", input_schema: { type: "object" as const } }];
    const message = await anthropic(lockedKey).messages.create({ model: "default", max_tokens: 100, messages: [{ role: "user", content: "run" }], tools });
    assert.equal(message.content.filter((block) => block.type === "tool_use").length, 0);
    assert.match(message.content.map((block) => (block.type === "text" ? block.text : "")).join(""), /`exec`.*CF_TOOL_DENIED/);
    assert.equal(message.stop_reason, "end_turn");
    const final = await anthropic(lockedKey).messages.stream({ model: "default", max_tokens: 100, messages: [{ role: "user", content: "run" }], tools }).finalMessage();
    assert.equal(final.content.filter((block) => block.type === "tool_use").length, 0);
    assert.match(final.content.map((block) => (block.type === "text" ? block.text : "")).join(""), /`exec`.*CF_TOOL_DENIED/);
  });

  test("passthrough (no tools offered): a tool call in the upstream answer is refused, JSON and stream", async () => {
    upstream.enqueue({ kind: "tool_call", name: "exec", arguments: { command: "id" } }, { kind: "tool_call", name: "exec", arguments: { command: "id" } });
    const completion = await openai(fullKey).chat.completions.create({ model: "default", messages: [{ role: "user", content: "run" }] });
    assert.equal(completion.choices[0]?.message.tool_calls, undefined);
    assert.match(completion.choices[0]?.message.content ?? "", /offered no tools.*CF_TOOL_DENIED/);
    assert.ok((completion.usage?.prompt_tokens ?? 0) > 0, "usage of the refused answer is kept");
    const stream = await openai(fullKey).chat.completions.create({ model: "default", messages: [{ role: "user", content: "run" }], stream: true });
    await assert.rejects(async () => {
      for await (const chunk of stream) assert.equal(chunk.choices[0]?.delta.tool_calls, undefined, "no tool call chunk reaches the client");
    }, /offered no tools/);
    const plain = await openai(fullKey).chat.completions.create({ model: "default", messages: [{ role: "user", content: "hi" }] });
    assert.equal(plain.choices[0]?.message.content, "plain");
  });
});
