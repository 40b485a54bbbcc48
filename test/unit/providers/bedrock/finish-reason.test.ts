/** Converse stopReason → canonical finish reason. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromBedrockStopReason } from "../../../../src/providers/bedrock/finish-reason.js";

test("every documented stop reason maps", () => {
  const expected = {
    end_turn: "stop",
    tool_use: "tool_calls",
    max_tokens: "length",
    stop_sequence: "stop_sequence",
    guardrail_intervened: "content_filter",
    content_filtered: "content_filter",
    malformed_model_output: "error",
    malformed_tool_use: "error",
    model_context_window_exceeded: "length",
  };
  for (const [stopReason, finishReason] of Object.entries(expected)) assert.equal(fromBedrockStopReason(stopReason), finishReason, stopReason);
});

test("unknown or absent stop reasons are other", () => {
  assert.equal(fromBedrockStopReason("something_new"), "other");
  assert.equal(fromBedrockStopReason(undefined), "other");
});
