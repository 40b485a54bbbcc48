/**
 * Contract test: the official `openai` SDK (6.x) talks to a server that decodes with the Chat Completions codec and
 * answers scripted canonical responses with its encoders. The SDK must parse every answer; the server must have
 * decoded what the SDK sent.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { openAiChatCodec } from "../../../../src/apis/openai-chat/index.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { MID_STREAM_ERROR_EVENTS, PARALLEL_TOOL_EVENTS, TEXT_EVENTS, TEXT_RESPONSE, TOOL_CALL_EVENTS, TOOL_CALL_RESPONSE } from "../../../support/canonical-answers.js";
import { startCodecServer, type CodecServer } from "../../../support/codec-server.js";

let server: CodecServer;
let client: OpenAI;

before(async () => {
  server = await startCodecServer(openAiChatCodec);
  client = new OpenAI({ apiKey: "sk-test", baseURL: `${server.origin}/v1`, maxRetries: 0, timeout: 10_000 });
});
after(() => server.close());

const weatherTool = {
  type: "function" as const,
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

test("create (JSON): text, finish reason and usage", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "response", response: TEXT_RESPONSE });
  const completion = await client.chat.completions.create({ model: "alias-1", messages: [{ role: "system", content: "Be nice." }, { role: "user", content: "Hi" }], temperature: 0.3 });
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.model, "alias-1");
  assert.equal(completion.choices[0]?.message.content, "Hello there!");
  assert.equal(completion.choices[0]?.finish_reason, "stop");
  assert.equal(completion.usage?.prompt_tokens, 1200);
  assert.equal(completion.usage?.completion_tokens, 42);
  assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 1000);
  assert.equal(completion.usage?.completion_tokens_details?.reasoning_tokens, 7);
  const decoded = server.received.at(-1)?.decoded?.request;
  assert.deepEqual(decoded?.messages, [
    { role: "system", content: [{ type: "text", text: "Be nice." }] },
    { role: "user", content: [{ type: "text", text: "Hi" }] },
  ]);
  assert.equal(decoded?.temperature, 0.3);
  assert.equal(decoded?.stream, false);
});

test("create (JSON): tool call name and arguments", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "response", response: TOOL_CALL_RESPONSE });
  const completion = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool], tool_choice: "auto" });
  const call = completion.choices[0]?.message.tool_calls?.[0];
  assert.equal(call?.type, "function");
  assert.equal(call?.type === "function" ? call.function.name : null, "get_weather");
  assert.deepEqual(JSON.parse(call?.type === "function" ? call.function.arguments : "null"), { city: "Paris", unit: "c" });
  assert.equal(completion.choices[0]?.finish_reason, "tool_calls");
  assert.deepEqual(server.received.at(-1)?.decoded?.request.tools?.[0]?.name, "get_weather");
});

test("create (stream): chunks carry the text, a usage chunk arrives when include_usage is set", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: TEXT_EVENTS });
  const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }], stream: true, stream_options: { include_usage: true } });
  let text = "";
  let finishReason: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, "Hello there!");
  assert.equal(finishReason, "stop");
  assert.equal(usage?.total_tokens, 1242);
  assert.equal(usage?.prompt_tokens_details?.cached_tokens, 1000);
  assert.equal(server.received.at(-1)?.decoded?.request.stream, true);
});

test("create (stream) without include_usage sends no usage chunk", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: TEXT_EVENTS });
  const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }], stream: true });
  let sawUsage = false;
  for await (const chunk of stream) if (chunk.usage) sawUsage = true;
  assert.equal(sawUsage, false);
});

test("stream helper: finalChatCompletion() assembles text and a tool call", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: TOOL_CALL_EVENTS });
  const runner = client.chat.completions.stream({ model: "m", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool], stream_options: { include_usage: true } });
  const argumentDeltas: string[] = [];
  runner.on("tool_calls.function.arguments.delta", (event) => argumentDeltas.push(event.arguments_delta));
  const completion = await runner.finalChatCompletion();
  const message = completion.choices[0]?.message;
  assert.equal(message?.content, "Let me check.");
  const call = message?.tool_calls?.[0];
  assert.equal(call?.id, "call_weather_1");
  assert.equal(call?.type === "function" ? call.function.name : null, "get_weather");
  assert.equal(call?.type === "function" ? call.function.arguments : null, '{"city":"Paris","unit":"c"}');
  // the first delta is the empty `arguments` of the chunk that names the call, as with OpenAI itself
  assert.deepEqual(argumentDeltas, ["", '{"city":', '"Paris","unit":"c"}']);
  assert.equal(completion.choices[0]?.finish_reason, "tool_calls");
  assert.equal(completion.usage?.completion_tokens, 42);
});

test("stream helper: two parallel tool calls", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: PARALLEL_TOOL_EVENTS });
  const completion = await client.chat.completions.stream({ model: "m", messages: [{ role: "user", content: "read both" }] }).finalChatCompletion();
  const calls = completion.choices[0]?.message.tool_calls ?? [];
  assert.deepEqual(
    calls.map((call) => (call.type === "function" ? [call.id, call.function.name, call.function.arguments] : null)),
    [
      ["call_a", "read", '{"path":"a.txt"}'],
      ["call_b", "read", '{"path":"b.txt"}'],
    ],
  );
});

test("a tool result turn round-trips into canonical tool messages", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "response", response: TEXT_RESPONSE });
  await client.chat.completions.create({
    model: "m",
    messages: [
      { role: "user", content: "Weather?" },
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: "call_1", content: "18C" },
    ],
  });
  assert.deepEqual(server.received.at(-1)?.decoded?.request.messages.at(-1), {
    role: "tool",
    content: [{ type: "tool_result", toolCallId: "call_1", toolName: "get_weather", content: [{ type: "text", text: "18C" }] }],
  });
});

test("a validation failure surfaces as BadRequestError with code and param", { timeout: 10_000 }, async () => {
  await assert.rejects(
    client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }], temperature: 7 }),
    (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal(error.status, 400);
      assert.equal(error.code, "CF_VALIDATION_FAILED");
      assert.equal(error.param, "temperature");
      assert.equal(error.type, "invalid_request_error");
      return true;
    },
  );
});

test("gateway errors surface as the SDK's typed errors with the right status", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_RATE_LIMITED", "slow down", { retryAfterSeconds: 3 }) });
  await assert.rejects(client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }] }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.RateLimitError, String(error));
    assert.equal(error.status, 429);
    assert.equal(error.code, "CF_RATE_LIMITED");
    assert.equal(error.headers.get("retry-after"), "3");
    return true;
  });
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid API key") });
  await assert.rejects(client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }] }), OpenAI.AuthenticationError);
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_MODEL_NOT_FOUND", "no such model") });
  await assert.rejects(client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }] }), OpenAI.NotFoundError);
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_UPSTREAM_ERROR", "upstream broke") });
  await assert.rejects(client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }] }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.InternalServerError, String(error));
    assert.equal(error.status, 502);
    return true;
  });
});

test("a mid-stream error is raised by the SDK while iterating", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: MID_STREAM_ERROR_EVENTS });
  const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }], stream: true });
  let text = "";
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })(),
    (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.match(error.message, /upstream overloaded/);
      return true;
    },
  );
  assert.equal(text, "Partial");
});
