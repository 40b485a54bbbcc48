import assert from "node:assert/strict";
import { test } from "node:test";
import { openAiResponsesCodec } from "../../../../src/apis/openai-responses/index.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { CREATED_AT, LENGTH_RESPONSE, REASONING_RESPONSE, TEXT_RESPONSE, TOOL_CALL_RESPONSE } from "../../../support/canonical-answers.js";

const EXPECTED_USAGE = {
  input_tokens: 1200,
  input_tokens_details: { cached_tokens: 1000 },
  output_tokens: 42,
  output_tokens_details: { reasoning_tokens: 7 },
  total_tokens: 1242,
};

test("a text answer is a completed response with one message item and full usage", () => {
  assert.deepEqual(openAiResponsesCodec.encodeResponse(TEXT_RESPONSE, "my-alias"), {
    id: "resp_gen_123",
    object: "response",
    created_at: CREATED_AT,
    status: "completed",
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    metadata: {},
    model: "my-alias",
    output: [
      {
        id: "msg_gen_123_0",
        type: "message",
        status: "completed",
        content: [{ type: "output_text", annotations: [], logprobs: [], text: "Hello there!" }],
        role: "assistant",
      },
    ],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: null,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: null,
    truncation: "disabled",
    usage: EXPECTED_USAGE,
  });
});

test("tool calls are function_call items with call_id, name and arguments", () => {
  const body = openAiResponsesCodec.encodeResponse(TOOL_CALL_RESPONSE, "m");
  assert.deepEqual(body.output, [
    { id: "msg_gen_123_0", type: "message", status: "completed", content: [{ type: "output_text", annotations: [], logprobs: [], text: "Let me check." }], role: "assistant" },
    { id: "fc_gen_123_1", type: "function_call", status: "completed", arguments: '{"city":"Paris","unit":"c"}', call_id: "call_weather_1", name: "get_weather" },
  ]);
  assert.equal(body.status, "completed");
});

test("reasoning is a reasoning item: text as summary, signature as encrypted_content", () => {
  const body = openAiResponsesCodec.encodeResponse(REASONING_RESPONSE, "m");
  assert.deepEqual((body.output as unknown[])[0], {
    id: "rs_gen_123_0",
    type: "reasoning",
    summary: [{ type: "summary_text", text: "The user greets me." }],
    encrypted_content: "sig-abc",
  });
});

test("length → incomplete with incomplete_details; content_filter likewise; error → failed", () => {
  const length = openAiResponsesCodec.encodeResponse(LENGTH_RESPONSE, "m");
  assert.equal(length.status, "incomplete");
  assert.deepEqual(length.incomplete_details, { reason: "max_output_tokens" });
  const filtered = openAiResponsesCodec.encodeResponse({ ...TEXT_RESPONSE, finishReason: "content_filter" }, "m");
  assert.equal(filtered.status, "incomplete");
  assert.deepEqual(filtered.incomplete_details, { reason: "content_filter" });
  const failed = openAiResponsesCodec.encodeResponse({ ...TEXT_RESPONSE, finishReason: "error" }, "m");
  assert.equal(failed.status, "failed");
  assert.equal((failed.error as { code: string }).code, "server_error");
  for (const reason of ["stop", "stop_sequence", "tool_calls", "other"] as const) {
    assert.equal(openAiResponsesCodec.encodeResponse({ ...TEXT_RESPONSE, finishReason: reason }, "m").status, "completed");
  }
});

test("a canonical id that already is a Responses id is kept", () => {
  assert.equal(openAiResponsesCodec.encodeResponse({ ...TEXT_RESPONSE, id: "resp_abc" }, "m").id, "resp_abc");
});

test("errors use OpenAI's shape with the CF_* code", () => {
  assert.deepEqual(openAiResponsesCodec.encodeError(new ClawfleetError("CF_VALIDATION_FAILED", "stateless", { details: { param: "previous_response_id" } })), {
    error: { message: "stateless", type: "invalid_request_error", param: "previous_response_id", code: "CF_VALIDATION_FAILED" },
  });
  assert.equal(openAiResponsesCodec.api, "openai-responses");
  assert.equal(openAiResponsesCodec.path, "/v1/responses");
});
