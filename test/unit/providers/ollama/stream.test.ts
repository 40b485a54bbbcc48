import assert from "node:assert/strict";
import { test } from "node:test";
import type { StreamEvent } from "../../../../src/contracts/chat.js";
import { OllamaStreamDecoder } from "../../../../src/providers/ollama/stream.js";
import { decodeInPieces, fixtureText, mergeDeltas } from "../../../support/provider-test-helpers.js";

const identity = { id: "ollama-req-1", createdAt: 99 };

function decode(text: string, pieceBytes = 1 << 20): StreamEvent[] {
  return decodeInPieces(new OllamaStreamDecoder(identity), text, pieceBytes);
}

const textExpected: StreamEvent[] = [
  { type: "start", id: "ollama-req-1", model: "llama3.2", createdAt: Math.floor(Date.parse("2025-11-19T08:14:42.385406455Z") / 1000) },
  { type: "text_delta", index: 0, text: "Hello! How are you today?" },
  { type: "block_end", index: 0 },
  { type: "finish", finishReason: "stop", usage: { inputTokens: 26, outputTokens: 282, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } },
];

test("text.ndjson → start, text deltas, block_end, finish with the final counts", () => {
  const events = decode(fixtureText("ollama", "text.ndjson"));
  assert.equal(events.filter((event) => event.type === "text_delta").length, 4);
  assert.deepEqual(mergeDeltas(events), textExpected);
});

test("the same events whatever the chunk boundaries (multi-byte characters included)", () => {
  const text = fixtureText("ollama", "text.ndjson").replace("How are", "Ça va, 👋");
  const whole = decode(text);
  for (const size of [1, 2, 3, 17]) assert.deepEqual(decode(text, size), whole, `pieces of ${size}`);
});

test("tool-call.ndjson → reasoning, then each whole tool call as its own block with ids call_0, call_1", () => {
  assert.deepEqual(mergeDeltas(decode(fixtureText("ollama", "tool-call.ndjson"), 7)), [
    { type: "start", id: "ollama-req-1", model: "qwen3", createdAt: Math.floor(Date.parse("2025-11-19T08:21:05.112233Z") / 1000) },
    { type: "reasoning_delta", index: 0, text: "The user wants the weather" },
    { type: "reasoning_delta", index: 0, text: " in Paris and in Tokyo." },
    { type: "block_end", index: 0 },
    { type: "tool_call_start", index: 1, id: "call_0", name: "get_current_weather" },
    { type: "tool_call_delta", index: 1, argumentsDelta: '{"format":"celsius","location":"Paris, FR"}' },
    { type: "block_end", index: 1 },
    { type: "tool_call_start", index: 2, id: "call_1", name: "get_current_weather" },
    { type: "tool_call_delta", index: 2, argumentsDelta: '{"format":"celsius","location":"Tokyo, JP"}' },
    { type: "block_end", index: 2 },
    { type: "finish", finishReason: "tool_calls", usage: { inputTokens: 187, outputTokens: 64, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } },
  ]);
});

test("error-mid-stream.ndjson → the text so far, then an error event", () => {
  const events = decode(fixtureText("ollama", "error-mid-stream.ndjson"));
  assert.deepEqual(events.slice(1), [
    { type: "text_delta", index: 0, text: "The" },
    { type: "error", status: 500, message: "an error was encountered while running the model: unexpected EOF", errorType: "api_error" },
  ]);
});

test("a malformed line → invalid_response error; a stream without done → incomplete_stream; CRLF and a last line without newline are fine", () => {
  const lines = fixtureText("ollama", "text.ndjson").split("\n").filter((line) => line !== "");
  const malformed = decode(`${lines[0]}\n{"model": "llama3.2", "message": \n${lines[1]}\n`);
  assert.equal(malformed.length, 3);
  assert.equal(malformed[2]?.type === "error" ? malformed[2].errorType : "", "invalid_response");
  const cut = decode(`${lines[0]}\n${lines[1]}\n`);
  assert.deepEqual(cut.at(-1), { type: "error", status: 502, errorType: "incomplete_stream", message: "the upstream stream ended before the answer was complete" });
  assert.deepEqual(mergeDeltas(decode(lines.join("\r\n"))), textExpected);
});
