import assert from "node:assert/strict";
import { test } from "node:test";
import type { StreamEvent } from "../../../../src/contracts/chat.js";
import { OpenAIStreamDecoder } from "../../../../src/providers/openai/stream.js";
import { decodeInPieces, fixtureLines, mergeDeltas } from "../../../support/provider-test-helpers.js";

const fallbacks = { id: "chatcmpl-fallback", model: "fallback-model", createdAt: 1 };

/** The fixture as OpenAI sends it on the wire. */
function sse(file: string): string {
  return fixtureLines("openai", file)
    .map((line) => `data: ${line}\n\n`)
    .join("");
}

function decode(text: string, pieceBytes = 1 << 20): StreamEvent[] {
  return decodeInPieces(new OpenAIStreamDecoder(fallbacks), text, pieceBytes);
}

const textExpected: StreamEvent[] = [
  { type: "start", id: "chatcmpl-CdR7mQa5cTf1YwB8uNp3vZk6Gh2Jd", model: "gpt-4o-mini-2024-07-18", createdAt: 1763540315 },
  { type: "text_delta", index: 0, text: "Hello! How can I help you today?" },
  { type: "block_end", index: 0 },
  { type: "finish", finishReason: "stop", usage: { inputTokens: 1240, outputTokens: 9, cacheReadTokens: 1024, cacheWriteTokens: 0, reasoningTokens: 0 } },
];

test("text.chunks.txt → start, text deltas, block_end, finish with usage", () => {
  const events = decode(sse("text.chunks.txt"));
  assert.ok(events.filter((event) => event.type === "text_delta").length > 3, "one delta per upstream chunk");
  assert.deepEqual(mergeDeltas(events), textExpected);
});

test("the same events whatever the chunk boundaries (1, 2, 3, 7 and 64 bytes)", () => {
  const whole = decode(sse("text.chunks.txt"));
  for (const size of [1, 2, 3, 7, 64]) assert.deepEqual(decode(sse("text.chunks.txt"), size), whole, `pieces of ${size}`);
});

test("tool-call.chunks.txt → tool_call_start with id and name, argument deltas, finish tool_calls", () => {
  const events = mergeDeltas(decode(sse("tool-call.chunks.txt"), 5));
  assert.deepEqual(events, [
    { type: "start", id: "chatcmpl-CdR8cJu6fMg9BzE4xOs1yVp7Nr2Wd", model: "gpt-4o-mini-2024-07-18", createdAt: 1763540381 },
    { type: "tool_call_start", index: 0, id: "call_Ry5tW8nBq3Zk6XcV0mPe2JsL", name: "read" },
    { type: "tool_call_delta", index: 0, argumentsDelta: '{"path":"/etc/hostname"}' },
    { type: "block_end", index: 0 },
    { type: "finish", finishReason: "tool_calls", usage: { inputTokens: 1310, outputTokens: 17, cacheReadTokens: 1152, cacheWriteTokens: 0, reasoningTokens: 0 } },
  ]);
});

test("comments, CRLF framing and other event names are ignored", () => {
  const text = sse("text.chunks.txt").replace(/\n/g, "\r\n");
  assert.deepEqual(mergeDeltas(decode(`: OPENROUTER PROCESSING\r\n\r\nevent: ping\r\ndata: {}\r\n\r\n${text}`, 9)), textExpected);
});

test("reasoning, text and two parallel tool calls open blocks in order", () => {
  const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: "c1", created: 5, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const text = [
    chunk({ role: "assistant", content: "" }),
    chunk({ reasoning_content: "Think" }),
    chunk({ reasoning_content: "ing" }),
    chunk({ content: "Reading both." }),
    chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "read", arguments: "" } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"p":1}' } }] }),
    chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "read", arguments: '{"p":2}' } }] }),
    chunk({}, "tool_calls"),
    "data: [DONE]\n\n",
  ].join("");
  assert.deepEqual(decode(text), [
    { type: "start", id: "c1", model: "m", createdAt: 5 },
    { type: "reasoning_delta", index: 0, text: "Think" },
    { type: "reasoning_delta", index: 0, text: "ing" },
    { type: "block_end", index: 0 },
    { type: "text_delta", index: 1, text: "Reading both." },
    { type: "block_end", index: 1 },
    { type: "tool_call_start", index: 2, id: "call_a", name: "read" },
    { type: "tool_call_delta", index: 2, argumentsDelta: '{"p":1}' },
    { type: "block_end", index: 2 },
    { type: "tool_call_start", index: 3, id: "call_b", name: "read" },
    { type: "tool_call_delta", index: 3, argumentsDelta: '{"p":2}' },
    { type: "block_end", index: 3 },
    { type: "finish", finishReason: "tool_calls", usage: null },
  ]);
});

test("a malformed data line becomes one error event, and nothing after it", () => {
  const lines = fixtureLines("openai", "text.chunks.txt");
  const text = `data: ${lines[0]}\n\ndata: {"id": broken\n\ndata: ${lines[1]}\n\n`;
  const events = decode(text);
  assert.equal(events[0]?.type, "start");
  assert.equal(events.length, 2);
  assert.deepEqual({ ...events[1], message: "" }, { type: "error", status: 502, errorType: "invalid_response", message: "" });
});

test("an in-stream error object becomes an error event with its type", () => {
  const lines = fixtureLines("openai", "text.chunks.txt");
  const events = decode(`data: ${lines[0]}\n\ndata: {"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}\n\n`);
  assert.deepEqual(events.at(-1), { type: "error", status: 429, message: "Rate limit reached", errorType: "requests" });
});

test("a stream cut before [DONE]: finish if a finish reason came, else an incomplete_stream error", () => {
  const lines = fixtureLines("openai", "text.chunks.txt");
  const withoutDone = lines.filter((line) => line !== "[DONE]").map((line) => `data: ${line}\n\n`).join("");
  assert.deepEqual(mergeDeltas(decode(withoutDone)), textExpected);
  const cut = lines.slice(0, 3).map((line) => `data: ${line}\n\n`).join("");
  const events = decode(cut);
  assert.deepEqual(events.at(-1), { type: "error", status: 502, errorType: "incomplete_stream", message: "the upstream stream ended before the answer was complete" });
});

test("an immediate [DONE] still yields start and finish (fallback identity)", () => {
  assert.deepEqual(decode("data: [DONE]\n\n"), [
    { type: "start", id: "chatcmpl-fallback", model: "fallback-model", createdAt: 1 },
    { type: "finish", finishReason: "other", usage: null },
  ]);
});
