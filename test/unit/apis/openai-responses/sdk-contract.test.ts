/**
 * Contract test: the official `openai` SDK (6.x) calls `/v1/responses` on a server that decodes with the Responses
 * codec and answers scripted canonical responses with its encoders. The SDK (and its stream accumulator, which
 * checks indexes and item types) must parse every answer; the server must have decoded what the SDK sent.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { openAiResponsesCodec } from "../../../../src/apis/openai-responses/index.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { LENGTH_EVENTS, MID_STREAM_ERROR_EVENTS, REASONING_EVENTS, TEXT_EVENTS, TEXT_RESPONSE, TOOL_CALL_EVENTS, TOOL_CALL_RESPONSE } from "../../../support/canonical-answers.js";
import { startCodecServer, type CodecServer } from "../../../support/codec-server.js";

let server: CodecServer;
let client: OpenAI;

before(async () => {
  server = await startCodecServer(openAiResponsesCodec);
  client = new OpenAI({ apiKey: "sk-test", baseURL: `${server.origin}/v1`, maxRetries: 0, timeout: 10_000 });
});
after(() => server.close());

const weatherTool = { type: "function" as const, name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } }, strict: false };

test("create (JSON): output_text, status and usage", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "response", response: TEXT_RESPONSE });
  const response = await client.responses.create({ model: "alias-r", instructions: "Be nice.", input: "Hi", max_output_tokens: 64 });
  assert.equal(response.object, "response");
  assert.equal(response.status, "completed");
  assert.equal(response.model, "alias-r");
  assert.equal(response.output_text, "Hello there!");
  assert.equal(response.usage?.input_tokens, 1200);
  assert.equal(response.usage?.output_tokens, 42);
  assert.equal(response.usage?.input_tokens_details.cached_tokens, 1000);
  assert.equal(response.usage?.output_tokens_details.reasoning_tokens, 7);
  const decoded = server.received.at(-1)?.decoded?.request;
  assert.deepEqual(decoded?.messages, [
    { role: "system", content: [{ type: "text", text: "Be nice." }] },
    { role: "user", content: [{ type: "text", text: "Hi" }] },
  ]);
  assert.equal(decoded?.maxTokens, 64);
});

test("create (JSON): a function_call item", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "response", response: TOOL_CALL_RESPONSE });
  const response = await client.responses.create({ model: "m", input: "Weather?", tools: [weatherTool] });
  const call = response.output.find((item) => item.type === "function_call");
  assert.equal(call?.type === "function_call" ? call.name : null, "get_weather");
  assert.equal(call?.type === "function_call" ? call.call_id : null, "call_weather_1");
  assert.deepEqual(JSON.parse(call?.type === "function_call" ? call.arguments : "null"), { city: "Paris", unit: "c" });
  assert.equal(response.output_text, "Let me check.");
  assert.deepEqual(server.received.at(-1)?.decoded?.request.tools, [{ name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } }]);
});

test("create (stream): typed events in order, text deltas and the completed response", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: TEXT_EVENTS });
  const stream = await client.responses.create({ model: "m", input: "Hi", stream: true });
  const types: string[] = [];
  let text = "";
  let completed: OpenAI.Responses.Response | null = null;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === "response.output_text.delta") text += event.delta;
    if (event.type === "response.completed") completed = event.response;
  }
  assert.equal(text, "Hello there!");
  assert.equal(types[0], "response.created");
  assert.equal(types.at(-1), "response.completed");
  assert.equal(completed?.usage?.total_tokens, 1242);
  assert.equal(server.received.at(-1)?.decoded?.request.stream, true);
});

test("stream helper: finalResponse() assembles text and a function call", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: TOOL_CALL_EVENTS });
  const runner = client.responses.stream({ model: "m", input: "Weather?", tools: [weatherTool] });
  const argumentSnapshots: string[] = [];
  runner.on("response.function_call_arguments.delta", (event) => argumentSnapshots.push(event.snapshot));
  const response = await runner.finalResponse();
  assert.equal(response.status, "completed");
  assert.equal(response.output_text, "Let me check.");
  const call = response.output[1];
  assert.equal(call?.type, "function_call");
  assert.equal(call?.type === "function_call" ? call.name : null, "get_weather");
  assert.equal(call?.type === "function_call" ? call.arguments : null, '{"city":"Paris","unit":"c"}');
  assert.deepEqual(argumentSnapshots, ['{"city":', '{"city":"Paris","unit":"c"}']);
  assert.equal(response.usage?.output_tokens, 42);
});

test("stream helper: reasoning summary and encrypted_content survive, then replay as a signature", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: REASONING_EVENTS });
  const response = await client.responses.stream({ model: "m", input: "Hi", include: ["reasoning.encrypted_content"] }).finalResponse();
  const reasoning = response.output[0];
  assert.equal(reasoning?.type, "reasoning");
  assert.deepEqual(reasoning?.type === "reasoning" ? [reasoning.summary[0]?.text, reasoning.encrypted_content] : null, ["The user greets me.", "sig-abc"]);
  assert.equal(response.output_text, "Hi!");
  // Send the output back as input, as a stateless client does on the next turn.
  server.enqueue({ kind: "response", response: TEXT_RESPONSE });
  const replay = response.output.map((item) => item as OpenAI.Responses.ResponseInputItem);
  await client.responses.create({ model: "m", input: [...replay, { role: "user", content: "And?" }] });
  assert.deepEqual(server.received.at(-1)?.decoded?.request.messages[0], {
    role: "assistant",
    content: [
      { type: "reasoning", text: "The user greets me.", signature: "sig-abc" },
      { type: "text", text: "Hi!" },
    ],
  });
});

test("stream helper: an answer cut by the limit ends incomplete", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: LENGTH_EVENTS });
  const response = await client.responses.stream({ model: "m", input: "Story" }).finalResponse();
  assert.equal(response.status, "incomplete");
  assert.equal(response.incomplete_details?.reason, "max_output_tokens");
  assert.equal(response.output_text, "Once upon a");
});

test("a mid-stream failure ends with a failed response", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "stream", events: MID_STREAM_ERROR_EVENTS });
  const response = await client.responses.stream({ model: "m", input: "Hi" }).finalResponse();
  assert.equal(response.status, "failed");
  assert.equal(response.error?.message, "upstream overloaded");
});

test("previous_response_id is refused as a BadRequestError explaining the gateway is stateless", { timeout: 10_000 }, async () => {
  await assert.rejects(client.responses.create({ model: "m", input: "Hi", previous_response_id: "resp_old" }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.code, "CF_VALIDATION_FAILED");
    assert.equal(error.param, "previous_response_id");
    assert.match(error.message, /stateless/);
    return true;
  });
});

test("gateway errors surface as the SDK's typed errors with the right status", { timeout: 10_000 }, async () => {
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_RATE_LIMITED", "slow down") });
  await assert.rejects(client.responses.create({ model: "m", input: "Hi" }), (error: unknown) => error instanceof OpenAI.RateLimitError && error.status === 429 && error.code === "CF_RATE_LIMITED");
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_FORBIDDEN_SCOPE", "no") });
  await assert.rejects(client.responses.create({ model: "m", input: "Hi", stream: true }), OpenAI.PermissionDeniedError);
  server.enqueue({ kind: "error", error: new ClawfleetError("CF_UPSTREAM_TIMEOUT", "too slow") });
  await assert.rejects(client.responses.create({ model: "m", input: "Hi" }), (error: unknown) => error instanceof OpenAI.InternalServerError && error.status === 504);
});
