import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeOllamaDoneReason } from "../../../../src/providers/ollama/finish-reason.js";

test("done_reason maps to canonical finish reasons; tool calls win", () => {
  assert.equal(decodeOllamaDoneReason("stop", false), "stop");
  assert.equal(decodeOllamaDoneReason("length", false), "length");
  assert.equal(decodeOllamaDoneReason("load", false), "other");
  assert.equal(decodeOllamaDoneReason(undefined, false), "stop");
  assert.equal(decodeOllamaDoneReason("stop", true), "tool_calls");
});
