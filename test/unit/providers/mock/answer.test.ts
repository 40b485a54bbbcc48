import assert from "node:assert/strict";
import { test } from "node:test";
import type { CanonicalMessage, CanonicalRequest } from "../../../../src/contracts/chat.js";
import { estimateTokens, lastRealUserText, mockAnswerText, mockResponse, mockStreamEvents, splitWords } from "../../../../src/providers/mock/answer.js";

/** A conversation shaped like OpenClaw's: a real user turn, a tool round trip, then its internal-context message. */
const openClawConversation: CanonicalMessage[] = [
  { role: "system", content: [{ type: "text", text: "You are a personal assistant running inside OpenClaw." }] },
  { role: "user", content: [{ type: "text", text: "please run a command\nRuntime: agent=main" }] },
  { role: "assistant", content: [{ type: "tool_call", id: "c1", name: "exec", arguments: "{}" }] },
  { role: "tool", content: [{ type: "tool_result", toolCallId: "c1", content: [{ type: "text", text: "root" }] }] },
  { role: "user", content: [{ type: "text", text: "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nActive exec sessions: none\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>" }] },
];

test("the last real user text skips OpenClaw's internal-context message", () => {
  assert.equal(lastRealUserText(openClawConversation), "please run a command\nRuntime: agent=main");
  assert.equal(lastRealUserText([]), "");
});

test("the answer echoes the first line, at most 200 characters", () => {
  assert.equal(mockAnswerText(openClawConversation), "Hello from Clawfleet's mock model. You said: please run a command");
  assert.equal(mockAnswerText([{ role: "user", content: [{ type: "text", text: "x".repeat(300) }] }]).length, "Hello from Clawfleet's mock model. You said: ".length + 200);
});

test("token estimates: a quarter of the characters, at least one", () => {
  assert.equal(estimateTokens(""), 1);
  assert.equal(estimateTokens("12345678"), 2);
  assert.equal(estimateTokens("123456789"), 3);
});

test("words keep their spaces so they join back", () => {
  const text = "Hello from Clawfleet's mock model. You said: ping";
  assert.deepEqual(splitWords(text), ["Hello ", "from ", "Clawfleet's ", "mock ", "model. ", "You ", "said: ", "ping"]);
  assert.equal(splitWords(text).join(""), text);
});

test("complete answer and stream agree, with estimated usage", () => {
  const request: CanonicalRequest = { model: "mock-1", messages: [{ role: "user", content: [{ type: "text", text: "ping" }] }], stream: true };
  const identity = { id: "mock-r1", createdAt: 1_700_000_000 };
  const usage = { inputTokens: 1, outputTokens: 13, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  assert.deepEqual(mockResponse(request, identity), {
    id: "mock-r1",
    model: "mock-1",
    content: [{ type: "text", text: "Hello from Clawfleet's mock model. You said: ping" }],
    finishReason: "stop",
    usage,
    createdAt: 1_700_000_000,
  });
  const events = mockStreamEvents(request, identity);
  assert.deepEqual(events[0], { type: "start", id: "mock-r1", model: "mock-1", createdAt: 1_700_000_000 });
  assert.equal(events.filter((event) => event.type === "text_delta").length, 8);
  assert.equal(events.map((event) => (event.type === "text_delta" ? event.text : "")).join(""), "Hello from Clawfleet's mock model. You said: ping");
  assert.deepEqual(events.slice(-2), [
    { type: "block_end", index: 0 },
    { type: "finish", finishReason: "stop", usage },
  ]);
});
