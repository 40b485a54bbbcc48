import assert from "node:assert/strict";
import { test } from "node:test";
import type { CanonicalRequest } from "../../../../src/contracts/chat.js";
import { encodeChatRequest } from "../../../../src/providers/openai/request.js";

const base: CanonicalRequest = { model: "gpt-4o-mini", messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }], stream: false };

test("a plain request: text content as a string, no stream fields, no warnings", () => {
  const { body, warnings } = encodeChatRequest(base);
  assert.deepEqual(body, { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] });
  assert.deepEqual(warnings, []);
});

test("streaming asks for usage; not streaming never sends stream_options", () => {
  assert.deepEqual(encodeChatRequest({ ...base, stream: true }).body, { ...encodeChatRequest(base).body, stream: true, stream_options: { include_usage: true } });
  const plain = encodeChatRequest({ ...base, stream: false }).body;
  assert.equal("stream_options" in plain, false);
  assert.equal("stream" in plain, false);
});

test("system, images, tool calls and tool results map to Chat Completions messages", () => {
  const request: CanonicalRequest = {
    ...base,
    messages: [
      { role: "system", content: [{ type: "text", text: "Be brief." }, { type: "text", text: "Be kind." }] },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image", source: { kind: "url", url: "https://example.com/cat.png" } },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
        ],
      },
      { role: "assistant", content: [{ type: "text", text: "Let me look." }, { type: "tool_call", id: "call_1", name: "read", arguments: '{"path":"/a"}' }] },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "call_1", content: [{ type: "text", text: "file A" }] }] },
      // An Anthropic-style user turn: tool results first, then text.
      { role: "assistant", content: [{ type: "tool_call", id: "call_2", name: "read", arguments: '{"path":"/b"}' }] },
      { role: "user", content: [{ type: "tool_result", toolCallId: "call_2", content: [{ type: "text", text: "file B" }] }, { type: "text", text: "Thanks" }] },
    ],
  };
  const { body, warnings } = encodeChatRequest(request);
  assert.deepEqual(body.messages, [
    { role: "system", content: "Be brief.\nBe kind." },
    {
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      ],
    },
    { role: "assistant", content: "Let me look.", tool_calls: [{ id: "call_1", type: "function", function: { name: "read", arguments: '{"path":"/a"}' } }] },
    { role: "tool", tool_call_id: "call_1", content: "file A" },
    { role: "assistant", content: null, tool_calls: [{ id: "call_2", type: "function", function: { name: "read", arguments: '{"path":"/b"}' } }] },
    { role: "tool", tool_call_id: "call_2", content: "file B" },
    { role: "user", content: "Thanks" },
  ]);
  assert.deepEqual(warnings, []);
});

test("tools, tool choice and sampling parameters", () => {
  const { body, warnings } = encodeChatRequest({
    ...base,
    tools: [{ name: "read", description: "Read a file", parameters: { type: "object", properties: { path: { type: "string" } } } }],
    toolChoice: { type: "tool", name: "read" },
    parallelToolCalls: false,
    maxTokens: 256,
    temperature: 0.2,
    topP: 0.9,
    stopSequences: ["END"],
    seed: 7,
    presencePenalty: 0.1,
    frequencyPenalty: 0.3,
    responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true },
    reasoning: { effort: "low" },
    user: "user-42",
  });
  assert.deepEqual(body, {
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Hi" }],
    tools: [{ type: "function", function: { name: "read", description: "Read a file", parameters: { type: "object", properties: { path: { type: "string" } } } } }],
    tool_choice: { type: "function", function: { name: "read" } },
    parallel_tool_calls: false,
    max_completion_tokens: 256,
    temperature: 0.2,
    top_p: 0.9,
    stop: ["END"],
    seed: 7,
    presence_penalty: 0.1,
    frequency_penalty: 0.3,
    response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" }, strict: true } },
    reasoning_effort: "low",
    user: "user-42",
  });
  assert.deepEqual(warnings, []);
  assert.equal(encodeChatRequest({ ...base, toolChoice: { type: "required" } }).body.tool_choice, "required");
});

test("options: max_tokens for older servers, top_k where supported", () => {
  const { body } = encodeChatRequest({ ...base, maxTokens: 10, topK: 40 }, { maxTokensField: "max_tokens", supportsTopK: true });
  assert.equal(body.max_tokens, 10);
  assert.equal(body.max_completion_tokens, undefined);
  assert.equal(body.top_k, 40);
});

test("what Chat Completions cannot carry is a warning, never a silent drop", () => {
  const { body, warnings } = encodeChatRequest({
    ...base,
    topK: 40,
    reasoning: { budgetTokens: 2048 },
    messages: [
      { role: "system", content: [{ type: "text", text: "S", cacheBreakpoint: true }] },
      { role: "user", content: [{ type: "text", text: "Hi" }] },
      { role: "assistant", content: [{ type: "reasoning", text: "hmm", signature: "sig" }, { type: "tool_call", id: "c", name: "shot", arguments: "{}" }] },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "c", isError: true, content: [{ type: "text", text: "t" }, { type: "image", source: { kind: "url", url: "u" } }] }] },
    ],
  });
  assert.equal(body.top_k, undefined);
  assert.equal(body.reasoning_effort, undefined);
  assert.deepEqual(
    warnings.map((warning) => warning.parameter),
    ["cache_control", "reasoning_content", "tool_result.image", "tool_result.is_error", "top_k", "thinking.budget_tokens"],
  );
});
