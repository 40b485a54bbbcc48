/**
 * Scripted canonical answers shared by the codec tests: each case as a complete response and as the stream of
 * events a provider adapter would produce for it (`start`, blocks with `index` and `block_end`, `finish`).
 * Usage numbers are distinct so a test can tell which field went where: 1200 input tokens of which 1000 were
 * cache reads and 150 cache writes, 42 output tokens of which 7 were reasoning.
 */
import type { CanonicalResponse, CanonicalUsage, StreamEvent } from "../../src/contracts/chat.js";

export const USAGE: CanonicalUsage = { inputTokens: 1200, outputTokens: 42, cacheReadTokens: 1000, cacheWriteTokens: 150, reasoningTokens: 7 };
export const CREATED_AT = 1_760_000_000;
const base = { id: "gen_123", model: "upstream-model-2025", createdAt: CREATED_AT, usage: USAGE };
const start: StreamEvent = { type: "start", id: base.id, model: base.model, createdAt: CREATED_AT };

export const TEXT_RESPONSE: CanonicalResponse = { ...base, content: [{ type: "text", text: "Hello there!" }], finishReason: "stop" };
export const TEXT_EVENTS: StreamEvent[] = [
  start,
  { type: "text_delta", index: 0, text: "Hello" },
  { type: "text_delta", index: 0, text: " there!" },
  { type: "block_end", index: 0 },
  { type: "finish", finishReason: "stop", usage: USAGE },
];

/** Text, then one tool call. */
export const TOOL_CALL_RESPONSE: CanonicalResponse = {
  ...base,
  content: [
    { type: "text", text: "Let me check." },
    { type: "tool_call", id: "call_weather_1", name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' },
  ],
  finishReason: "tool_calls",
};
export const TOOL_CALL_EVENTS: StreamEvent[] = [
  start,
  { type: "text_delta", index: 0, text: "Let me check." },
  { type: "block_end", index: 0 },
  { type: "tool_call_start", index: 1, id: "call_weather_1", name: "get_weather" },
  { type: "tool_call_delta", index: 1, argumentsDelta: '{"city":' },
  { type: "tool_call_delta", index: 1, argumentsDelta: '"Paris","unit":"c"}' },
  { type: "block_end", index: 1 },
  { type: "finish", finishReason: "tool_calls", usage: USAGE },
];

/** Two tool calls in one turn. */
export const PARALLEL_TOOL_EVENTS: StreamEvent[] = [
  start,
  { type: "tool_call_start", index: 0, id: "call_a", name: "read" },
  { type: "tool_call_delta", index: 0, argumentsDelta: '{"path":"a.txt"}' },
  { type: "block_end", index: 0 },
  { type: "tool_call_start", index: 1, id: "call_b", name: "read" },
  { type: "tool_call_delta", index: 1, argumentsDelta: '{"path":"b.txt"}' },
  { type: "block_end", index: 1 },
  { type: "finish", finishReason: "tool_calls", usage: USAGE },
];

/** Reasoning with a signature, then text. */
export const REASONING_RESPONSE: CanonicalResponse = {
  ...base,
  content: [
    { type: "reasoning", text: "The user greets me.", signature: "sig-abc" },
    { type: "text", text: "Hi!" },
  ],
  finishReason: "stop",
};
export const REASONING_EVENTS: StreamEvent[] = [
  start,
  { type: "reasoning_delta", index: 0, text: "The user " },
  { type: "reasoning_delta", index: 0, text: "greets me." },
  { type: "reasoning_delta", index: 0, text: "", signature: "sig-abc" },
  { type: "block_end", index: 0 },
  { type: "text_delta", index: 1, text: "Hi!" },
  { type: "block_end", index: 1 },
  { type: "finish", finishReason: "stop", usage: USAGE },
];

/** Cut off by the output limit. */
export const LENGTH_RESPONSE: CanonicalResponse = { ...base, content: [{ type: "text", text: "Once upon a" }], finishReason: "length" };
export const LENGTH_EVENTS: StreamEvent[] = [
  start,
  { type: "text_delta", index: 0, text: "Once upon a" },
  { type: "block_end", index: 0 },
  { type: "finish", finishReason: "length", usage: USAGE },
];

/** A provider failure after some text. */
export const MID_STREAM_ERROR_EVENTS: StreamEvent[] = [
  start,
  { type: "text_delta", index: 0, text: "Partial" },
  { type: "error", status: 529, message: "upstream overloaded", errorType: "overloaded_error" },
];
