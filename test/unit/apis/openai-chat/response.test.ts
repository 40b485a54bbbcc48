import assert from "node:assert/strict";
import { test } from "node:test";
import { openAiChatCodec } from "../../../../src/apis/openai-chat/index.js";
import { encodeChatFinishReason } from "../../../../src/apis/openai-chat/finish-reason.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { CREATED_AT, REASONING_RESPONSE, TEXT_RESPONSE, TOOL_CALL_RESPONSE } from "../../../support/canonical-answers.js";

const EXPECTED_USAGE = {
  prompt_tokens: 1200,
  completion_tokens: 42,
  total_tokens: 1242,
  prompt_tokens_details: { cached_tokens: 1000, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 7, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};

test("a text answer is a chat.completion with the caller's model and full usage", () => {
  assert.deepEqual(openAiChatCodec.encodeResponse(TEXT_RESPONSE, "my-alias"), {
    id: "gen_123",
    object: "chat.completion",
    created: CREATED_AT,
    model: "my-alias",
    choices: [{ index: 0, message: { role: "assistant", content: "Hello there!", refusal: null, annotations: [] }, logprobs: null, finish_reason: "stop" }],
    usage: EXPECTED_USAGE,
  });
});

test("tool calls go to message.tool_calls; text beside them stays in content", () => {
  const body = openAiChatCodec.encodeResponse(TOOL_CALL_RESPONSE, "m");
  assert.deepEqual(body.choices, [
    {
      index: 0,
      message: {
        role: "assistant",
        content: "Let me check.",
        refusal: null,
        annotations: [],
        tool_calls: [{ id: "call_weather_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' } }],
      },
      logprobs: null,
      finish_reason: "tool_calls",
    },
  ]);
  const onlyTools = openAiChatCodec.encodeResponse({ ...TOOL_CALL_RESPONSE, content: TOOL_CALL_RESPONSE.content.slice(1) }, "m");
  assert.deepEqual((onlyTools.choices as Array<{ message: { content: unknown } }>)[0]?.message.content, null);
});

test("reasoning is returned as message.reasoning_content", () => {
  const body = openAiChatCodec.encodeResponse(REASONING_RESPONSE, "m");
  const message = (body.choices as Array<{ message: Record<string, unknown> }>)[0]?.message;
  assert.equal(message?.content, "Hi!");
  assert.equal(message?.reasoning_content, "The user greets me.");
});

test("finish reasons map onto OpenAI's vocabulary", () => {
  assert.equal(encodeChatFinishReason("stop"), "stop");
  assert.equal(encodeChatFinishReason("stop_sequence"), "stop");
  assert.equal(encodeChatFinishReason("length"), "length");
  assert.equal(encodeChatFinishReason("tool_calls"), "tool_calls");
  assert.equal(encodeChatFinishReason("content_filter"), "content_filter");
  assert.equal(encodeChatFinishReason("error"), "stop");
  assert.equal(encodeChatFinishReason("other"), "stop");
});

test("errors use OpenAI's shape with the CF_* code and the param", () => {
  assert.deepEqual(openAiChatCodec.encodeError(new ClawfleetError("CF_VALIDATION_FAILED", "bad temperature", { details: { param: "temperature" } })), {
    error: { message: "bad temperature", type: "invalid_request_error", param: "temperature", code: "CF_VALIDATION_FAILED" },
  });
  assert.deepEqual(openAiChatCodec.encodeError(new ClawfleetError("CF_UPSTREAM_ERROR", "upstream said 500", { status: 500 })), {
    error: { message: "upstream said 500", type: "api_error", param: null, code: "CF_UPSTREAM_ERROR" },
  });
});

test("the codec names its API and path", () => {
  assert.equal(openAiChatCodec.api, "openai-chat");
  assert.equal(openAiChatCodec.path, "/v1/chat/completions");
});
