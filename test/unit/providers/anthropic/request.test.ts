import assert from "node:assert/strict";
import { test } from "node:test";
import type Anthropic from "@anthropic-ai/sdk";
import type { CanonicalRequest } from "../../../../src/contracts/chat.js";
import { encodeMessagesRequest } from "../../../../src/providers/anthropic/request.js";
import { validateMessagesRequest } from "../../../support/fake-anthropic.js";

const base: CanonicalRequest = { model: "claude-haiku-4-5", messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }], stream: false, maxTokens: 100 };

/** Encodes, checks the body against Anthropic's rules (the fake's validator) and the SDK's request type. */
function encode(request: CanonicalRequest) {
  const result = encodeMessagesRequest(request);
  assert.equal(validateMessagesRequest(result.body), null);
  const typed: Anthropic.MessageCreateParamsNonStreaming | Anthropic.MessageCreateParamsStreaming = result.body.stream === true ? { ...result.body, stream: true } : { ...result.body, stream: false };
  assert.ok(typed);
  return result;
}

test("a plain request", () => {
  const { body, warnings } = encode(base);
  assert.deepEqual(body, { model: "claude-haiku-4-5", max_tokens: 100, messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }] });
  assert.deepEqual(warnings, []);
});

test("max_tokens is required: 4096 with a warning when the caller gave none", () => {
  const { body, warnings } = encode({ ...base, maxTokens: undefined });
  assert.equal(body.max_tokens, 4096);
  assert.deepEqual(warnings, [{ parameter: "max_tokens", message: "Anthropic requires max_tokens; 4096 was sent" }]);
});

test("system messages are hoisted; cache breakpoints become cache_control; a late system message is reported", () => {
  const { body, warnings } = encode({
    ...base,
    messages: [
      { role: "system", content: [{ type: "text", text: "You are OpenClaw.", cacheBreakpoint: true }] },
      { role: "user", content: [{ type: "text", text: "Long context", cacheBreakpoint: true }, { type: "text", text: "Question?" }] },
      { role: "system", content: [{ type: "text", text: "Answer in French." }] },
    ],
  });
  assert.deepEqual(body.system, [
    { type: "text", text: "You are OpenClaw.", cache_control: { type: "ephemeral" } },
    { type: "text", text: "Answer in French." },
  ]);
  assert.deepEqual(body.messages, [
    { role: "user", content: [{ type: "text", text: "Long context", cache_control: { type: "ephemeral" } }, { type: "text", text: "Question?" }] },
  ]);
  assert.deepEqual(warnings.map((warning) => warning.parameter), ["messages.system"]);
  assert.equal(encode({ ...base, messages: [{ role: "system", content: [{ type: "text", text: "Plain." }] }, ...base.messages] }).body.system, "Plain.");
});

test("tool calls and results: tool_use input objects, consecutive tool results merged into one user message", () => {
  const { body, warnings } = encode({
    ...base,
    tools: [{ name: "read", description: "Read a file", parameters: { type: "object", properties: { path: { type: "string" } } } }, { name: "now", parameters: {} }],
    messages: [
      { role: "user", content: [{ type: "text", text: "Read a and b" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Reading." },
          { type: "tool_call", id: "call_a", name: "read", arguments: '{"path":"a"}' },
          { type: "tool_call", id: "call_b", name: "read", arguments: '{"path":"b"}' },
        ],
      },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "call_a", content: [{ type: "text", text: "A" }] }] },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "call_b", isError: true, content: [{ type: "text", text: "ENOENT" }] }] },
      { role: "user", content: [{ type: "text", text: "Summarise" }] },
    ],
  });
  assert.deepEqual(body.tools, [
    { name: "read", description: "Read a file", input_schema: { type: "object", properties: { path: { type: "string" } } } },
    { name: "now", input_schema: { type: "object" } },
  ]);
  assert.deepEqual(body.messages, [
    { role: "user", content: [{ type: "text", text: "Read a and b" }] },
    {
      role: "assistant",
      content: [
        { type: "text", text: "Reading." },
        { type: "tool_use", id: "call_a", name: "read", input: { path: "a" } },
        { type: "tool_use", id: "call_b", name: "read", input: { path: "b" } },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "call_a", content: [{ type: "text", text: "A" }] },
        { type: "tool_result", tool_use_id: "call_b", content: [{ type: "text", text: "ENOENT" }], is_error: true },
        { type: "text", text: "Summarise" },
      ],
    },
  ]);
  assert.deepEqual(warnings, []);
});

test("images: URLs, data URLs and base64", () => {
  const { body } = encode({
    ...base,
    messages: [
      {
        role: "user",
        content: [
          { type: "image", source: { kind: "url", url: "https://example.com/cat.png" } },
          { type: "image", source: { kind: "url", url: "data:image/png;base64,iVBORw0KGgo=" } },
          { type: "image", source: { kind: "base64", mediaType: "image/jpeg", data: "/9j/4AAQ" } },
          { type: "text", text: "Compare" },
        ],
      },
    ],
  });
  assert.deepEqual(body.messages[0]?.content, [
    { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
    { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
    { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
    { type: "text", text: "Compare" },
  ]);
});

test("inline images: image/jpg is normalised, types Anthropic refuses are a warning", () => {
  const { body, warnings } = encode({
    ...base,
    messages: [
      {
        role: "user",
        content: [
          { type: "image", source: { kind: "base64", mediaType: "image/jpg", data: "/9j/4AAQ" } },
          { type: "image", source: { kind: "url", url: "data:image/svg+xml;base64,PHN2Zz4=" } },
          { type: "text", text: "What are these?" },
        ],
      },
    ],
  });
  assert.deepEqual(body.messages[0]?.content, [
    { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
    { type: "text", text: "What are these?" },
  ]);
  assert.deepEqual(warnings.map((warning) => warning.parameter), ["image"]);
});

test("sampling, stop sequences, top_k, user; tool choice and parallel tool calls", () => {
  const { body, warnings } = encode({
    ...base,
    temperature: 0.3,
    topP: 0.8,
    topK: 20,
    stopSequences: ["\n\nHuman:"],
    user: "user-42",
    tools: [{ name: "read", parameters: { type: "object" } }],
    toolChoice: { type: "required" },
    parallelToolCalls: false,
  });
  assert.equal(body.temperature, 0.3);
  assert.equal(body.top_p, 0.8);
  assert.equal(body.top_k, 20);
  assert.deepEqual(body.stop_sequences, ["\n\nHuman:"]);
  assert.deepEqual(body.metadata, { user_id: "user-42" });
  assert.deepEqual(body.tool_choice, { type: "any", disable_parallel_tool_use: true });
  assert.deepEqual(warnings, []);
  assert.deepEqual(encode({ ...base, tools: [{ name: "read", parameters: { type: "object" } }], toolChoice: { type: "tool", name: "read" } }).body.tool_choice, { type: "tool", name: "read" });
  assert.deepEqual(encode({ ...base, tools: [{ name: "read", parameters: { type: "object" } }], parallelToolCalls: false }).body.tool_choice, { type: "auto", disable_parallel_tool_use: true });
  assert.deepEqual(encode({ ...base, tools: [{ name: "read", parameters: { type: "object" } }], toolChoice: { type: "none" } }).body.tool_choice, { type: "none" });
});

test("parameters Anthropic cannot honour are warnings", () => {
  const { body, warnings } = encode({ ...base, seed: 1, presencePenalty: 0.5, frequencyPenalty: 0.5, responseFormat: { type: "json_schema", name: "x", schema: { type: "object" } }, temperature: 1.6 });
  assert.equal(body.temperature, 1);
  assert.deepEqual(
    warnings.map((warning) => warning.parameter),
    ["temperature", "seed", "presence_penalty", "frequency_penalty", "response_format"],
  );
  assert.equal("seed" in body, false);
});

test("thinking: budget or effort → thinking.enabled; incompatible sampling dropped with warnings", () => {
  const { body, warnings } = encode({ ...base, maxTokens: 8000, reasoning: { budgetTokens: 3000 }, temperature: 0.2, topK: 5, topP: 0.5 });
  assert.deepEqual(body.thinking, { type: "enabled", budget_tokens: 3000 });
  assert.equal(body.temperature, undefined);
  assert.equal(body.top_k, undefined);
  assert.equal(body.top_p, undefined);
  assert.deepEqual(warnings.map((warning) => warning.parameter), ["temperature", "top_p", "top_k"]);
  assert.deepEqual(encode({ ...base, maxTokens: 8000, reasoning: { effort: "medium" } }).body.thinking, { type: "enabled", budget_tokens: 2048 });
});

test("thinking: the budget is kept under max_tokens (or max_tokens raised when the caller gave none)", () => {
  const lowered = encode({ ...base, maxTokens: 2000, reasoning: { budgetTokens: 5000 } });
  assert.deepEqual(lowered.body.thinking, { type: "enabled", budget_tokens: 1999 });
  const noRoom = encode({ ...base, maxTokens: 500, reasoning: { budgetTokens: 5000 } });
  assert.equal(noRoom.body.thinking, undefined);
  assert.deepEqual(noRoom.warnings.map((warning) => warning.parameter), ["thinking"]);
  const raised = encode({ ...base, maxTokens: undefined, reasoning: { budgetTokens: 10_000 } });
  assert.equal(raised.body.max_tokens, 14_096);
  const floor = encode({ ...base, maxTokens: 4000, reasoning: { budgetTokens: 100 } });
  assert.deepEqual(floor.body.thinking, { type: "enabled", budget_tokens: 1024 });
});

test("history: signed reasoning becomes a thinking block, unsigned is a warning; bad arguments become {}", () => {
  const { body, warnings } = encode({
    ...base,
    messages: [
      { role: "user", content: [{ type: "text", text: "Go" }] },
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "plan", signature: "sig-1" },
          { type: "reasoning", text: "unsigned" },
          { type: "tool_call", id: "call_1", name: "read", arguments: "not json" },
        ],
      },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "call_1", content: [] }] },
    ],
    tools: [{ name: "read", parameters: { type: "object" } }],
  });
  assert.deepEqual(body.messages[1]?.content, [
    { type: "thinking", thinking: "plan", signature: "sig-1" },
    { type: "tool_use", id: "call_1", name: "read", input: {} },
  ]);
  assert.deepEqual(body.messages[2]?.content, [{ type: "tool_result", tool_use_id: "call_1" }]);
  assert.deepEqual(warnings.map((warning) => warning.parameter), ["reasoning", "tool_calls.arguments"]);
});

test("streaming sets stream: true and nothing else", () => {
  const { body } = encode({ ...base, stream: true });
  assert.equal(body.stream, true);
  assert.equal("stream_options" in body, false);
});
