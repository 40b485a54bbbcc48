import assert from "node:assert/strict";
import { test } from "node:test";
import type { CanonicalRequest } from "../../../../src/contracts/chat.js";
import { encodeOllamaChatRequest } from "../../../../src/providers/ollama/request.js";
import { validateChatRequest } from "../../../support/fake-ollama.js";

const base: CanonicalRequest = { model: "llama3.2", messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }], stream: false };

/** Encodes and checks the body decodes as Ollama's server would (the fake's validator). */
function encode(request: CanonicalRequest) {
  const result = encodeOllamaChatRequest(request);
  assert.equal(validateChatRequest(result.body), null);
  return result;
}

test("a plain request: string content, explicit stream flag", () => {
  assert.deepEqual(encode(base), { body: { model: "llama3.2", messages: [{ role: "user", content: "Hi" }], stream: false }, warnings: [] });
  assert.equal(encode({ ...base, stream: true }).body.stream, true);
});

test("sampling goes into options; JSON formats into format", () => {
  const { body, warnings } = encode({ ...base, temperature: 0.4, topP: 0.9, topK: 20, seed: 42, stopSequences: ["user:"], maxTokens: 100, presencePenalty: 1.5, frequencyPenalty: 1 });
  assert.deepEqual(body.options, { temperature: 0.4, top_p: 0.9, top_k: 20, seed: 42, stop: ["user:"], num_predict: 100, presence_penalty: 1.5, frequency_penalty: 1 });
  assert.deepEqual(warnings, []);
  assert.equal(encode({ ...base, responseFormat: { type: "json_object" } }).body.format, "json");
  const schema = { type: "object", properties: { age: { type: "integer" } }, required: ["age"] };
  assert.deepEqual(encode({ ...base, responseFormat: { type: "json_schema", name: "person", schema } }).body.format, schema);
  assert.equal(encode({ ...base, responseFormat: { type: "text" } }).body.format, undefined);
});

test("images: base64 and data URLs are sent bare; URL images are a warning", () => {
  const { body, warnings } = encode({
    ...base,
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "What is in these?" },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { kind: "url", url: "data:image/jpeg;base64,/9j/4AAQ" } },
          { type: "image", source: { kind: "url", url: "https://example.com/cat.png" } },
        ],
      },
    ],
  });
  assert.deepEqual(body.messages, [{ role: "user", content: "What is in these?", images: ["iVBORw0KGgo=", "/9j/4AAQ"] }]);
  assert.deepEqual(warnings.map((warning) => warning.parameter), ["image_url"]);
});

test("tools, tool calls with object arguments, and tool results named after their call", () => {
  const { body, warnings } = encode({
    ...base,
    tools: [{ name: "get_current_weather", description: "Weather", parameters: { type: "object", properties: { location: { type: "string" } } } }],
    messages: [
      { role: "system", content: [{ type: "text", text: "Be brief." }] },
      { role: "user", content: [{ type: "text", text: "Weather in Paris and Tokyo?" }] },
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "Two calls." },
          { type: "tool_call", id: "call_0", name: "get_current_weather", arguments: '{"location":"Paris"}' },
          { type: "tool_call", id: "call_1", name: "get_current_weather", arguments: '{"location":"Tokyo"}' },
        ],
      },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "call_0", content: [{ type: "text", text: "18°C" }] }] },
      // Anthropic-style: tool result inside a user message, then text.
      { role: "user", content: [{ type: "tool_result", toolCallId: "call_1", toolName: "get_current_weather", content: [{ type: "text", text: "24°C" }] }, { type: "text", text: "Compare them." }] },
    ],
  });
  assert.deepEqual(body.tools, [{ type: "function", function: { name: "get_current_weather", description: "Weather", parameters: { type: "object", properties: { location: { type: "string" } } } } }]);
  assert.deepEqual(body.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Weather in Paris and Tokyo?" },
    {
      role: "assistant",
      content: "",
      thinking: "Two calls.",
      tool_calls: [
        { function: { name: "get_current_weather", arguments: { location: "Paris" } } },
        { function: { name: "get_current_weather", arguments: { location: "Tokyo" } } },
      ],
    },
    { role: "tool", content: "18°C", tool_name: "get_current_weather" },
    { role: "tool", content: "24°C", tool_name: "get_current_weather" },
    { role: "user", content: "Compare them." },
  ]);
  assert.deepEqual(warnings, []);
});

test("tool choice none offers no tools; forcing tools, one call per turn, user and effort are warnings", () => {
  const tools = [{ name: "t", parameters: { type: "object" } }];
  assert.equal(encode({ ...base, tools, toolChoice: { type: "none" } }).body.tools, undefined);
  const { body, warnings } = encode({ ...base, tools, toolChoice: { type: "required" }, parallelToolCalls: false, user: "u1", reasoning: { effort: "high" } });
  assert.equal(body.tools?.length, 1);
  assert.equal(body.think, true);
  assert.deepEqual(warnings.map((warning) => warning.parameter), ["tool_choice", "parallel_tool_calls", "reasoning_effort", "user"]);
});

test("cache breakpoints, tool-result errors and images, and unparseable arguments are warnings", () => {
  const { body, warnings } = encode({
    ...base,
    messages: [
      { role: "system", content: [{ type: "text", text: "S", cacheBreakpoint: true }] },
      { role: "user", content: [{ type: "text", text: "go" }] },
      { role: "assistant", content: [{ type: "tool_call", id: "c", name: "shot", arguments: "{oops" }] },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "c", isError: true, content: [{ type: "image", source: { kind: "base64", mediaType: "image/png", data: "AA==" } }] }] },
    ],
  });
  assert.deepEqual(body.messages[2], { role: "assistant", content: "", tool_calls: [{ function: { name: "shot", arguments: {} } }] });
  assert.deepEqual(body.messages[3], { role: "tool", content: "", tool_name: "shot" });
  assert.deepEqual(warnings.map((warning) => warning.parameter), ["cache_control", "tool_calls.arguments", "tool_result.image", "tool_result.is_error"]);
});
