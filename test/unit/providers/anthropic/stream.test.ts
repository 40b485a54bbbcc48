import assert from "node:assert/strict";
import { test } from "node:test";
import type { StreamEvent } from "../../../../src/contracts/chat.js";
import { AnthropicStreamDecoder } from "../../../../src/providers/anthropic/stream.js";
import { anthropicSseFrame } from "../../../support/fake-anthropic.js";
import { decodeInPieces, fixtureLines, mergeDeltas } from "../../../support/provider-test-helpers.js";

const CREATED_AT = 1_763_540_000;

/** The fixture as Anthropic sends it on the wire (`event:` + `data:` per event). */
function sse(file: string): string {
  return fixtureLines("anthropic", file).map(anthropicSseFrame).join("");
}

function decode(text: string, pieceBytes = 1 << 20): StreamEvent[] {
  return decodeInPieces(new AnthropicStreamDecoder(CREATED_AT), text, pieceBytes);
}

const textExpected: StreamEvent[] = [
  { type: "start", id: "msg_01Hq3Rk5Tz9VwXyB2cDeFgHi", model: "claude-sonnet-4-5-20250929", createdAt: CREATED_AT },
  { type: "text_delta", index: 0, text: "Hello! How can I help you today?" },
  { type: "block_end", index: 0 },
  { type: "finish", finishReason: "stop", usage: { inputTokens: 2157, outputTokens: 12, cacheReadTokens: 1824, cacheWriteTokens: 312, reasoningTokens: 0 } },
];

test("text.chunks.txt → start, text, block_end, finish with usage merged from message_start and message_delta", () => {
  assert.deepEqual(mergeDeltas(decode(sse("text.chunks.txt"))), textExpected);
});

test("the same events whatever the chunk boundaries", () => {
  const whole = decode(sse("text.chunks.txt"));
  for (const size of [1, 2, 3, 11, 100]) assert.deepEqual(decode(sse("text.chunks.txt"), size), whole, `pieces of ${size}`);
});

test("tool-call.chunks.txt → text block, then a tool call whose argument deltas join into the input", () => {
  const events = mergeDeltas(decode(sse("tool-call.chunks.txt"), 13));
  assert.deepEqual(events, [
    { type: "start", id: "msg_014p7gG3wDgGV9EUtLvnow3U", model: "claude-sonnet-4-5-20250929", createdAt: CREATED_AT },
    { type: "text_delta", index: 0, text: "Okay, let me check the weather for San Francisco, CA:" },
    { type: "block_end", index: 0 },
    { type: "tool_call_start", index: 1, id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather" },
    { type: "tool_call_delta", index: 1, argumentsDelta: '{"location": "San Francisco, CA", "unit": "fahrenheit"}' },
    { type: "block_end", index: 1 },
    { type: "finish", finishReason: "tool_calls", usage: { inputTokens: 472, outputTokens: 89, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } },
  ]);
});

test("thinking.chunks.txt → reasoning deltas then the signature, then text", () => {
  const events = decode(sse("thinking.chunks.txt"));
  assert.deepEqual(events.slice(1, 6), [
    { type: "reasoning_delta", index: 0, text: "" },
    { type: "reasoning_delta", index: 0, text: "Let me solve this step by step:\n\n1. First break down 27 * 453" },
    { type: "reasoning_delta", index: 0, text: "\n2. 453 = 400 + 50 + 3" },
    { type: "reasoning_delta", index: 0, text: "", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" },
    { type: "block_end", index: 0 },
  ]);
  assert.deepEqual(events.at(-1), { type: "finish", finishReason: "stop", usage: { inputTokens: 41, outputTokens: 157, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } });
});

test("overloaded-mid-stream.chunks.txt → the text so far, then an error event with status 529", () => {
  const events = decode(sse("overloaded-mid-stream.chunks.txt"));
  assert.deepEqual(events.at(-1), { type: "error", status: 529, message: "Overloaded", errorType: "overloaded_error" });
  assert.ok(events.some((event) => event.type === "text_delta" && event.text === "Once upon"));
  assert.equal(events.filter((event) => event.type === "finish").length, 0);
});

test("unknown event and delta types and redacted thinking are skipped; block numbering stays dense", () => {
  const lines = [
    '{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":3,"output_tokens":1}}}',
    '{"type":"content_block_start","index":0,"content_block":{"type":"redacted_thinking","data":"abc"}}',
    '{"type":"content_block_stop","index":0}',
    '{"type":"future_event","payload":1}',
    '{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}',
    '{"type":"content_block_delta","index":1,"delta":{"type":"citations_delta","citation":{}}}',
    '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"ok"}}',
    '{"type":"content_block_stop","index":1}',
    '{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":2}}',
    '{"type":"message_stop"}',
  ];
  assert.deepEqual(decode(lines.map(anthropicSseFrame).join("")), [
    { type: "start", id: "msg_1", model: "m", createdAt: CREATED_AT },
    { type: "text_delta", index: 0, text: "" },
    { type: "text_delta", index: 0, text: "ok" },
    { type: "block_end", index: 0 },
    { type: "finish", finishReason: "length", usage: { inputTokens: 3, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } },
  ]);
});

test("a stop sequence is reported on finish", () => {
  const lines = [
    '{"type":"message_start","message":{"id":"msg_2","model":"m","usage":{"input_tokens":3,"output_tokens":1}}}',
    '{"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"END"},"usage":{"output_tokens":2}}',
    '{"type":"message_stop"}',
  ];
  const finish = decode(lines.map(anthropicSseFrame).join("")).at(-1);
  assert.deepEqual(finish, { type: "finish", finishReason: "stop_sequence", stopSequence: "END", usage: { inputTokens: 3, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } });
});

test("malformed data → one invalid_response error; a cut stream → incomplete_stream", () => {
  const first = fixtureLines("anthropic", "text.chunks.txt")[0] ?? "";
  const malformed = decode(`${anthropicSseFrame(first)}event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":\n\n${anthropicSseFrame(first)}`);
  assert.equal(malformed.length, 2);
  assert.equal(malformed[1]?.type === "error" ? malformed[1].errorType : "", "invalid_response");
  const wrongShape = decode(`${anthropicSseFrame(first)}${anthropicSseFrame('{"type":"content_block_delta","index":"zero"}')}`);
  const last = wrongShape.at(-1);
  assert.equal(last?.type === "error" ? last.errorType : "", "invalid_response");
  const cut = decode(fixtureLines("anthropic", "text.chunks.txt").slice(0, 4).map(anthropicSseFrame).join(""));
  assert.deepEqual(cut.at(-1), { type: "error", status: 502, errorType: "incomplete_stream", message: "the upstream stream ended before the answer was complete" });
});
