import assert from "node:assert/strict";
import { test } from "node:test";
import { anthropicErrorType } from "../../../../src/apis/anthropic-messages/errors.js";
import { encodeAnthropicStopReason } from "../../../../src/apis/anthropic-messages/finish-reason.js";
import { anthropicMessagesCodec } from "../../../../src/apis/anthropic-messages/index.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { REASONING_RESPONSE, TEXT_RESPONSE, TOOL_CALL_RESPONSE } from "../../../support/canonical-answers.js";

test("a text answer is a message; input_tokens excludes cache reads and writes", () => {
  assert.deepEqual(anthropicMessagesCodec.encodeResponse(TEXT_RESPONSE, "claude-alias"), {
    id: "gen_123",
    type: "message",
    role: "assistant",
    model: "claude-alias",
    content: [{ type: "text", text: "Hello there!" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    // canonical: 1200 input of which 1000 cache reads and 150 cache writes → 50 uncached
    usage: { input_tokens: 50, output_tokens: 42, cache_creation_input_tokens: 150, cache_read_input_tokens: 1000 },
  });
});

test("tool calls are tool_use blocks with parsed input; stop_reason tool_use", () => {
  const body = anthropicMessagesCodec.encodeResponse(TOOL_CALL_RESPONSE, "m");
  assert.deepEqual(body.content, [
    { type: "text", text: "Let me check." },
    { type: "tool_use", id: "call_weather_1", name: "get_weather", input: { city: "Paris", unit: "c" } },
  ]);
  assert.equal(body.stop_reason, "tool_use");
});

test("arguments that are empty or not a JSON object become input {}", () => {
  for (const text of ["", "[1]", "{broken"]) {
    const body = anthropicMessagesCodec.encodeResponse({ ...TOOL_CALL_RESPONSE, content: [{ type: "tool_call", id: "c", name: "f", arguments: text }] }, "m");
    assert.deepEqual((body.content as Array<{ input: unknown }>)[0]?.input, {});
  }
});

test("reasoning is a thinking block with its signature", () => {
  const body = anthropicMessagesCodec.encodeResponse(REASONING_RESPONSE, "m");
  assert.deepEqual(body.content, [
    { type: "thinking", thinking: "The user greets me.", signature: "sig-abc" },
    { type: "text", text: "Hi!" },
  ]);
  const unsigned = anthropicMessagesCodec.encodeResponse({ ...REASONING_RESPONSE, content: [{ type: "reasoning", text: "t" }] }, "m");
  assert.deepEqual(unsigned.content, [{ type: "thinking", thinking: "t", signature: "" }]);
});

test("stop reasons and the stop sequence", () => {
  assert.equal(encodeAnthropicStopReason("stop"), "end_turn");
  assert.equal(encodeAnthropicStopReason("length"), "max_tokens");
  assert.equal(encodeAnthropicStopReason("tool_calls"), "tool_use");
  assert.equal(encodeAnthropicStopReason("stop_sequence"), "stop_sequence");
  assert.equal(encodeAnthropicStopReason("content_filter"), "refusal");
  assert.equal(encodeAnthropicStopReason("error"), "end_turn");
  assert.equal(encodeAnthropicStopReason("other"), "end_turn");
  assert.equal(encodeAnthropicStopReason("stop", "END"), "stop_sequence");
  const body = anthropicMessagesCodec.encodeResponse({ ...TEXT_RESPONSE, finishReason: "stop_sequence", stopSequence: "END" }, "m");
  assert.deepEqual([body.stop_reason, body.stop_sequence], ["stop_sequence", "END"]);
});

test("cache counts larger than the input never give negative input_tokens", () => {
  const body = anthropicMessagesCodec.encodeResponse({ ...TEXT_RESPONSE, usage: { inputTokens: 10, outputTokens: 1, cacheReadTokens: 20, cacheWriteTokens: 0, reasoningTokens: 0 } }, "m");
  assert.equal((body.usage as { input_tokens: number }).input_tokens, 0);
});

test("errors use Anthropic's shape with the type from the status", () => {
  assert.deepEqual(anthropicMessagesCodec.encodeError(new ClawfleetError("CF_VALIDATION_FAILED", "max_tokens missing", { details: { param: "max_tokens" } })), {
    type: "error",
    error: { type: "invalid_request_error", message: "max_tokens missing", details: { error_code: "CF_VALIDATION_FAILED" } },
  });
  const cases: Array<[ConstructorParameters<typeof ClawfleetError>[0], string]> = [
    ["CF_AUTH_INVALID_TOKEN", "authentication_error"],
    ["CF_FORBIDDEN_TENANT", "permission_error"],
    ["CF_MODEL_NOT_FOUND", "not_found_error"],
    ["CF_PAYLOAD_TOO_LARGE", "request_too_large"],
    ["CF_RATE_LIMITED", "rate_limit_error"],
    ["CF_INTERNAL", "api_error"],
    ["CF_UPSTREAM_ERROR", "api_error"],
    ["CF_RUNTIME_UNAVAILABLE", "overloaded_error"],
    ["CF_UPSTREAM_TIMEOUT", "timeout_error"],
    ["CF_TENANT_EXISTS", "invalid_request_error"],
  ];
  for (const [code, type] of cases) assert.equal((anthropicMessagesCodec.encodeError(new ClawfleetError(code, "x")).error as { type: string }).type, type, code);
  assert.equal(anthropicErrorType(529), "overloaded_error");
  assert.equal(anthropicMessagesCodec.api, "anthropic-messages");
  assert.equal(anthropicMessagesCodec.path, "/v1/messages");
});
