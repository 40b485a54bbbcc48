/**
 * Contract test: the official `@anthropic-ai/sdk` calls `/v1/messages` on a server that decodes with the Messages
 * codec and answers scripted canonical responses with its encoders. The SDK (and its `MessageStream` accumulator)
 * must parse every answer; the server must have decoded what the SDK sent.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { anthropicMessagesCodec } from "../../../../src/apis/anthropic-messages/index.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { MID_STREAM_ERROR_EVENTS, REASONING_EVENTS, TEXT_EVENTS, TEXT_RESPONSE, TOOL_CALL_EVENTS, TOOL_CALL_RESPONSE } from "../../../support/canonical-answers.js";
import { startCodecServer, type CodecServer } from "../../../support/codec-server.js";

let server: CodecServer;
let client: Anthropic;

before(async () => {
  server = await startCodecServer(anthropicMessagesCodec);
  client = new Anthropic({ apiKey: "sk-ant-test", baseURL: server.origin, maxRetries: 0, timeout: 10_000 });
});
after(() => server.close());

const weatherTool = { name: "get_weather", description: "Weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };
// 1200 canonical input tokens = 50 uncached + 1000 cache reads + 150 cache writes.
const EXPECTED_USAGE = { input_tokens: 50, output_tokens: 42, cache_read_input_tokens: 1000, cache_creation_input_tokens: 150 };

function usageOf(usage: Anthropic.Usage) {
  return { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, cache_read_input_tokens: usage.cache_read_input_tokens, cache_creation_input_tokens: usage.cache_creation_input_tokens };
}

test("create (JSON): text, stop_reason and usage", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "response", response: TEXT_RESPONSE });
  const message = await client.messages.create({
    model: "claude-alias",
    max_tokens: 256,
    system: [{ type: "text", text: "Be nice.", cache_control: { type: "ephemeral" } }],
    messages: [{ role: "user", content: "Hi" }],
    metadata: { user_id: "u-1" },
  });
  assert.equal(message.type, "message");
  assert.equal(message.model, "claude-alias");
  assert.deepEqual(message.content, [{ type: "text", text: "Hello there!" }]);
  assert.equal(message.stop_reason, "end_turn");
  assert.deepEqual(usageOf(message.usage), EXPECTED_USAGE);
  const decoded = server.received.at(-1)?.decoded?.request;
  assert.deepEqual(decoded?.messages, [
    { role: "system", content: [{ type: "text", text: "Be nice.", cacheBreakpoint: true }] },
    { role: "user", content: [{ type: "text", text: "Hi" }] },
  ]);
  assert.equal(decoded?.maxTokens, 256);
  assert.equal(decoded?.user, "u-1");
});

test("create (JSON): a tool_use block with its input object", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "response", response: TOOL_CALL_RESPONSE });
  const message = await client.messages.create({ model: "m", max_tokens: 100, messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool], tool_choice: { type: "auto" } });
  const toolUse = message.content.find((block) => block.type === "tool_use");
  assert.equal(toolUse?.type === "tool_use" ? toolUse.name : null, "get_weather");
  assert.deepEqual(toolUse?.type === "tool_use" ? toolUse.input : null, { city: "Paris", unit: "c" });
  assert.equal(message.stop_reason, "tool_use");
  assert.deepEqual(server.received.at(-1)?.decoded?.request.tools, [{ name: "get_weather", description: "Weather", parameters: weatherTool.input_schema }]);
});

test("create (stream: true): raw events in order with text deltas", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: TEXT_EVENTS });
  const stream = await client.messages.create({ model: "m", max_tokens: 100, messages: [{ role: "user", content: "Hi" }], stream: true });
  const types: string[] = [];
  let text = "";
  let stopReason: string | null = null;
  let outputTokens = 0;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
    if (event.type === "message_delta") {
      stopReason = event.delta.stop_reason;
      outputTokens = event.usage.output_tokens;
    }
  }
  assert.deepEqual(types, ["message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
  assert.equal(text, "Hello there!");
  assert.equal(stopReason, "end_turn");
  assert.equal(outputTokens, 42);
  assert.equal(server.received.at(-1)?.decoded?.request.stream, true);
});

test("messages.stream().finalMessage(): text and a tool_use with streamed input", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: TOOL_CALL_EVENTS });
  const stream = client.messages.stream({ model: "m", max_tokens: 100, messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
  const jsonSnapshots: unknown[] = [];
  stream.on("inputJson", (_partial, snapshot) => jsonSnapshots.push(snapshot));
  const message = await stream.finalMessage();
  assert.equal(message.content.length, 2);
  assert.deepEqual(message.content[0], { type: "text", text: "Let me check." });
  const toolUse = message.content[1];
  assert.equal(toolUse?.type === "tool_use" ? `${toolUse.id}/${toolUse.name}` : null, "call_weather_1/get_weather");
  assert.deepEqual(toolUse?.type === "tool_use" ? toolUse.input : null, { city: "Paris", unit: "c" });
  assert.deepEqual(jsonSnapshots.at(-1), { city: "Paris", unit: "c" });
  assert.equal(message.stop_reason, "tool_use");
  assert.deepEqual(usageOf(message.usage), EXPECTED_USAGE);
});

test("messages.stream().finalMessage(): thinking with signature, then text", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: REASONING_EVENTS });
  const message = await client.messages.stream({ model: "m", max_tokens: 4096, thinking: { type: "enabled", budget_tokens: 2048 }, messages: [{ role: "user", content: "Hi" }] }).finalMessage();
  assert.deepEqual(message.content, [
    { type: "thinking", thinking: "The user greets me.", signature: "sig-abc" },
    { type: "text", text: "Hi!" },
  ]);
  assert.deepEqual(server.received.at(-1)?.decoded?.request.reasoning, { budgetTokens: 2048 });
});

test("a tool_result turn (with is_error) round-trips into the canonical user message", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "response", response: TEXT_RESPONSE });
  await client.messages.create({
    model: "m",
    max_tokens: 100,
    messages: [
      { role: "user", content: "Weather?" },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "station offline", is_error: true }] },
    ],
  });
  assert.deepEqual(server.received.at(-1)?.decoded?.request.messages.slice(1), [
    { role: "assistant", content: [{ type: "tool_call", id: "toolu_1", name: "get_weather", arguments: '{"city":"Paris"}' }] },
    { role: "user", content: [{ type: "tool_result", toolCallId: "toolu_1", toolName: "get_weather", content: [{ type: "text", text: "station offline" }], isError: true }] },
  ]);
});

test("missing max_tokens is a BadRequestError (invalid_request_error) carrying the CF code", { timeout: 10_000 }, async () => {
  const body = { model: "m", messages: [{ role: "user", content: "Hi" }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
  await assert.rejects(client.messages.create(body), (error: unknown) => {
    assert.ok(error instanceof Anthropic.BadRequestError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.type, "invalid_request_error");
    assert.equal(error.errorCode, "CF_VALIDATION_FAILED");
    assert.match(error.message, /max_tokens/);
    return true;
  });
});

test("gateway errors surface as the SDK's typed errors with the right status and type", { timeout: 10_000 }, async () => {
  const params = { model: "m", max_tokens: 10, messages: [{ role: "user" as const, content: "Hi" }] };
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_RATE_LIMITED", "slow down") });
  await assert.rejects(client.messages.create(params), (error: unknown) => error instanceof Anthropic.RateLimitError && error.status === 429 && error.type === "rate_limit_error");
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_AUTH_KEY_REVOKED", "revoked") });
  await assert.rejects(client.messages.create(params), (error: unknown) => error instanceof Anthropic.AuthenticationError && error.type === "authentication_error");
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_RUNTIME_UNAVAILABLE", "busy") });
  await assert.rejects(client.messages.create(params), (error: unknown) => error instanceof Anthropic.InternalServerError && error.status === 503 && error.type === "overloaded_error");
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_MODEL_NOT_FOUND", "no such model") });
  await assert.rejects(client.messages.stream(params).finalMessage(), (error: unknown) => error instanceof Anthropic.NotFoundError && error.errorCode === "CF_MODEL_NOT_FOUND");
});

test("a mid-stream `event: error` is raised by the SDK with its type", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: MID_STREAM_ERROR_EVENTS });
  await assert.rejects(client.messages.stream({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "Hi" }] }).finalMessage(), (error: unknown) => {
    assert.ok(error instanceof Anthropic.APIError, String(error));
    assert.equal(error.type, "overloaded_error");
    assert.match(error.message, /upstream overloaded/);
    return true;
  });
});
