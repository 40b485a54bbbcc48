import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeOllamaChatResponse, OllamaResponseFormatError } from "../../../../src/providers/ollama/response.js";
import { fixtureJson } from "../../../support/provider-test-helpers.js";

const identity = { id: "ollama-req-1", createdAt: 99 };

test("text.json → canonical response with Ollama's counts and created_at", () => {
  assert.deepEqual(decodeOllamaChatResponse(fixtureJson("ollama", "text.json"), identity), {
    id: "ollama-req-1",
    model: "llama3.2",
    content: [{ type: "text", text: "Hello! How are you today?" }],
    finishReason: "stop",
    usage: { inputTokens: 26, outputTokens: 298, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    createdAt: Math.floor(Date.parse("2025-11-19T08:14:43.416799Z") / 1000),
  });
});

test("tool-call.json → tool calls with stable ids call_<n> and finish tool_calls", () => {
  const response = decodeOllamaChatResponse(fixtureJson("ollama", "tool-call.json"), identity);
  assert.equal(response.finishReason, "tool_calls");
  assert.deepEqual(response.content, [{ type: "tool_call", id: "call_0", name: "get_current_weather", arguments: '{"format":"celsius","location":"Paris, FR"}' }]);
});

test("length.json → length; thinking first; a server-given call id is kept; no created_at uses the fallback", () => {
  assert.equal(decodeOllamaChatResponse(fixtureJson("ollama", "length.json"), identity).finishReason, "length");
  const response = decodeOllamaChatResponse(
    { model: "qwen3", message: { role: "assistant", content: "Done.", thinking: "Hmm.", tool_calls: [{ id: "call_abc", function: { name: "f", arguments: {} } }] }, done: true },
    identity,
  );
  assert.deepEqual(response.content, [
    { type: "reasoning", text: "Hmm." },
    { type: "text", text: "Done." },
    { type: "tool_call", id: "call_abc", name: "f", arguments: "{}" },
  ]);
  assert.equal(response.createdAt, 99);
});

test("a body that is not a chat answer is a format error", () => {
  assert.throws(() => decodeOllamaChatResponse({ error: "boom" }, identity), OllamaResponseFormatError);
});
