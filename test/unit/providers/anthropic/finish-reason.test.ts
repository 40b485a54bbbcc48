import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeAnthropicStopReason } from "../../../../src/providers/anthropic/finish-reason.js";

test("Anthropic stop reasons map to canonical finish reasons", () => {
  assert.equal(decodeAnthropicStopReason("end_turn"), "stop");
  assert.equal(decodeAnthropicStopReason("max_tokens"), "length");
  assert.equal(decodeAnthropicStopReason("model_context_window_exceeded"), "length");
  assert.equal(decodeAnthropicStopReason("stop_sequence"), "stop_sequence");
  assert.equal(decodeAnthropicStopReason("tool_use"), "tool_calls");
  assert.equal(decodeAnthropicStopReason("refusal"), "content_filter");
  assert.equal(decodeAnthropicStopReason("pause_turn"), "other");
  assert.equal(decodeAnthropicStopReason(null), "other");
});
