import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeResponsesRequest } from "../../../../src/apis/openai-responses/request.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { loadOpenClawRequest } from "../../../support/openclaw-captures.js";

function rejects(body: unknown, param: string, message?: RegExp): void {
  assert.throws(
    () => decodeResponsesRequest(body),
    (error: unknown) => {
      assert.ok(error instanceof ClawfleetError, String(error));
      assert.equal(error.code, "CF_VALIDATION_FAILED");
      assert.deepEqual(error.details, { param });
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

test("decodes every supported parameter into canonical form", () => {
  const { request, warnings } = decodeResponsesRequest({
    model: "gpt-5",
    instructions: "Be brief.",
    input: [
      { type: "message", role: "developer", content: [{ type: "input_text", text: "Metric units." }] },
      {
        role: "user",
        content: [
          { type: "input_text", text: "What is this?" },
          { type: "input_image", image_url: "https://example.com/cat.png", detail: "auto" },
          { type: "input_image", image_url: "data:image/jpeg;base64,/9j/4AAQ" },
        ],
      },
      { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Need a lookup." }], encrypted_content: "sig-1" },
      { type: "message", id: "msg_1", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Checking.", annotations: [] }] },
      { type: "function_call", id: "fc_1", call_id: "call_1", name: "lookup", arguments: '{"q":"cat"}', status: "completed" },
      { type: "function_call_output", call_id: "call_1", output: "a cat" },
      { role: "assistant", content: "It is a cat." },
      { role: "user", content: "Thanks" },
    ],
    tools: [
      { type: "function", name: "lookup", description: "Look up", parameters: { type: "object", properties: { q: { type: "string" } } }, strict: false },
      { type: "function", name: "noop", parameters: null },
    ],
    tool_choice: { type: "function", name: "lookup" },
    parallel_tool_calls: true,
    max_output_tokens: 500,
    temperature: 0.4,
    top_p: 0.8,
    reasoning: { effort: "medium", summary: "auto" },
    text: { format: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true } },
    user: "end-user-2",
    stream: true,
    store: false,
    include: ["reasoning.encrypted_content"],
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(request, {
    model: "gpt-5",
    messages: [
      { role: "system", content: [{ type: "text", text: "Be brief." }] },
      { role: "system", content: [{ type: "text", text: "Metric units." }] },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image", source: { kind: "url", url: "https://example.com/cat.png" } },
          { type: "image", source: { kind: "base64", mediaType: "image/jpeg", data: "/9j/4AAQ" } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "Need a lookup.", signature: "sig-1" },
          { type: "text", text: "Checking." },
          { type: "tool_call", id: "call_1", name: "lookup", arguments: '{"q":"cat"}' },
        ],
      },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "call_1", toolName: "lookup", content: [{ type: "text", text: "a cat" }] }] },
      { role: "assistant", content: [{ type: "text", text: "It is a cat." }] },
      { role: "user", content: [{ type: "text", text: "Thanks" }] },
    ],
    tools: [
      { name: "lookup", description: "Look up", parameters: { type: "object", properties: { q: { type: "string" } } } },
      { name: "noop", parameters: { type: "object", properties: {} } },
    ],
    toolChoice: { type: "tool", name: "lookup" },
    parallelToolCalls: true,
    maxTokens: 500,
    temperature: 0.4,
    topP: 0.8,
    responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true },
    reasoning: { effort: "medium" },
    stream: true,
    user: "end-user-2",
  });
});

test("a string input is one user message; no instructions, no system message", () => {
  assert.deepEqual(decodeResponsesRequest({ model: "m", input: "Hello" }), {
    request: { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }], stream: false },
    warnings: [],
  });
});

test("function_call_output with content parts, reasoning_text content, string tool_choice, json_object", () => {
  const { request } = decodeResponsesRequest({
    model: "m",
    input: [
      { type: "reasoning", summary: [], content: [{ type: "reasoning_text", text: "raw thought" }] },
      { type: "function_call", call_id: "c", name: "shot", arguments: "{}" },
      { type: "function_call_output", call_id: "c", output: [{ type: "input_text", text: "see" }, { type: "input_image", image_url: "https://x/y.png" }] },
    ],
    tool_choice: "none",
    text: { format: { type: "json_object" } },
  });
  assert.deepEqual(request.messages[0], {
    role: "assistant",
    content: [
      { type: "reasoning", text: "raw thought" },
      { type: "tool_call", id: "c", name: "shot", arguments: "{}" },
    ],
  });
  assert.deepEqual(request.messages[1]?.content, [
    {
      type: "tool_result",
      toolCallId: "c",
      toolName: "shot",
      content: [
        { type: "text", text: "see" },
        { type: "image", source: { kind: "url", url: "https://x/y.png" } },
      ],
    },
  ]);
  assert.deepEqual(request.toolChoice, { type: "none" });
  assert.deepEqual(request.responseFormat, { type: "json_object" });
});

test("previous_response_id and other stateful features are CF_VALIDATION_FAILED, saying the gateway is stateless", () => {
  rejects({ model: "m", input: "x", previous_response_id: "resp_1" }, "previous_response_id", /stateless/);
  rejects({ model: "m", input: "x", conversation: "conv_1" }, "conversation", /stateless/);
  rejects({ model: "m", input: "x", background: true }, "background", /stateless/);
  rejects({ model: "m", input: [{ type: "item_reference", id: "msg_1" }] }, "input[0].type", /stateless/);
  rejects({ model: "m", input: "x", prompt: { id: "pmpt_1" } }, "prompt");
  rejects({ model: "m", input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }] }, "input[0].content[0].file_id", /file ids/);
});

test("built-in tools, store: true and other unsupported parameters are warnings", () => {
  const { request, warnings } = decodeResponsesRequest({
    model: "m",
    input: [{ role: "user", content: [{ type: "input_image", image_url: "https://x/y.png", detail: "low" }] }],
    tools: [{ type: "web_search" }, { type: "function", name: "f", strict: true }, { type: "file_search", vector_store_ids: ["vs"] }],
    tool_choice: { type: "web_search_preview" },
    store: true,
    include: ["file_search_call.results", "reasoning.encrypted_content"],
    metadata: { a: "b" },
    truncation: "auto",
    service_tier: "flex",
    top_logprobs: 3,
    max_tool_calls: 4,
    prompt_cache_key: "k",
    reasoning: { effort: "max", summary: "detailed" },
    text: { verbosity: "low", format: { type: "json_schema", name: "x", schema: {}, description: "d" } },
    stream_options: { include_obfuscation: true },
  });
  assert.deepEqual(
    warnings.map((warning) => warning.parameter),
    [
      "store",
      "include",
      "metadata",
      "truncation",
      "service_tier",
      "top_logprobs",
      "max_tool_calls",
      "prompt_cache_key",
      "stream_options.include_obfuscation",
      "reasoning.summary",
      "input[0].content[0].detail",
      "tools[0]",
      "tools[1].strict",
      "tools[2]",
      "tool_choice",
      "text.verbosity",
      "text.format.description",
      "reasoning.effort",
    ],
  );
  assert.match(warnings[11]?.message ?? "", /web_search/);
  assert.deepEqual(request.tools?.map((tool) => tool.name), ["f"]);
  assert.equal("toolChoice" in request, false);
  assert.deepEqual(request.reasoning, { effort: "high" });
});

test("unknown fields in items and tools are warnings naming their path", () => {
  const { warnings } = decodeResponsesRequest({
    model: "m",
    input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "x", extra: 1 }] }],
    tools: [{ type: "function", name: "f", parameters: {}, defer_loading: true }],
    unknown_top: 1,
  });
  assert.deepEqual(
    warnings.map((warning) => warning.parameter),
    ["input[0].content[0].extra", "unknown_top", "tools[0].defer_loading"],
  );
});

test("validation errors name the offending parameter", () => {
  rejects({ input: "x" }, "model", /Missing required parameter/);
  rejects({ model: "m" }, "input", /Missing required parameter/);
  rejects({ model: "m", input: [] }, "input");
  rejects({ model: "m", input: 3 }, "input", /expected string or array/);
  rejects({ model: "m", input: [{ type: "message", role: "tool", content: "x" }] }, "input[0].role");
  rejects({ model: "m", input: [{ type: "computer_call", id: "x" }] }, "input[0].type");
  rejects({ model: "m", input: [{ type: "function_call", name: "f", arguments: "{}" }] }, "input[0].call_id");
  rejects({ model: "m", input: [{ role: "assistant", content: [{ type: "input_image", image_url: "https://x" }] }] }, "input[0].content[0].type", /only user messages/);
  rejects({ model: "m", input: "x", tools: [{ type: "function", parameters: {} }] }, "tools[0].name");
  rejects({ model: "m", input: "x", tools: [{ name: "no type" }] }, "tools[0].type");
  rejects({ model: "m", input: "x", tool_choice: { type: "function" } }, "tool_choice.name");
  rejects({ model: "m", input: "x", max_output_tokens: -1 }, "max_output_tokens");
  rejects({ model: "m", input: "x", text: { format: { type: "json_schema", schema: {} } } }, "text.format.name");
  rejects({ model: "m", input: "x", reasoning: { effort: "huge" } }, "reasoning.effort");
});

test("OpenClaw's recorded Responses requests decode without errors or warnings", () => {
  for (const name of ["34-openai-responses-tool-turn1", "35-openai-responses-after-tool"]) {
    const capture = loadOpenClawRequest(name);
    assert.equal(capture.url, "/v1/responses");
    const { request, warnings } = decodeResponsesRequest(capture.body);
    assert.deepEqual(warnings, [], name);
    assert.equal(request.model, "resp-model");
    assert.equal(request.stream, true);
    assert.equal(request.maxTokens, 4096);
    assert.equal(request.tools?.length, 11);
    assert.equal(request.messages[0]?.role, "system");
  }
  const afterTool = decodeResponsesRequest(loadOpenClawRequest("35-openai-responses-after-tool").body).request;
  assert.deepEqual(
    afterTool.messages.map((message) => message.role),
    ["system", "user", "user", "assistant", "tool"],
  );
  assert.deepEqual(afterTool.messages[3]?.content, [{ type: "tool_call", id: "call_fake_2", name: "read", arguments: '{"path":"AGENTS.md","limit":3}' }]);
  const result = afterTool.messages[4]?.content[0];
  assert.equal(result?.type === "tool_result" ? `${result.toolCallId}/${result.toolName}` : null, "call_fake_2/read");
});
