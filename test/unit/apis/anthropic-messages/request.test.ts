import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeMessagesRequest } from "../../../../src/apis/anthropic-messages/request.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { loadOpenClawRequest } from "../../../support/openclaw-captures.js";

const ephemeral = { type: "ephemeral" };

function rejects(body: unknown, param: string, message?: RegExp): void {
  assert.throws(
    () => decodeMessagesRequest(body),
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
  const { request, warnings } = decodeMessagesRequest({
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    system: [
      { type: "text", text: "You are helpful.", cache_control: ephemeral },
      { type: "text", text: "Today is Monday." },
    ],
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Need a lookup.", signature: "sig-1" },
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_1", name: "lookup", input: { q: "cat" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "a cat" }, { type: "image", source: { type: "url", url: "https://x/y.png" } }], is_error: false },
          { type: "text", text: "Go on.", cache_control: ephemeral },
        ],
      },
      { role: "assistant", content: "It is a cat." },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "failed", is_error: true, cache_control: ephemeral }] },
    ],
    tools: [
      { name: "lookup", description: "Look up", input_schema: { type: "object", properties: { q: { type: "string" } } } },
      { type: "custom", name: "noop", input_schema: { type: "object" } },
    ],
    tool_choice: { type: "tool", name: "lookup", disable_parallel_tool_use: true },
    temperature: 0.5,
    top_p: 0.9,
    top_k: 40,
    stop_sequences: ["\n\nHuman:"],
    thinking: { type: "enabled", budget_tokens: 2048 },
    metadata: { user_id: "user-7" },
    stream: true,
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(request, {
    model: "claude-sonnet-4-5",
    messages: [
      {
        role: "system",
        content: [
          { type: "text", text: "You are helpful.", cacheBreakpoint: true },
          { type: "text", text: "Today is Monday." },
        ],
      },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { kind: "url", url: "https://example.com/cat.png" } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "Need a lookup.", signature: "sig-1" },
          { type: "text", text: "Checking." },
          { type: "tool_call", id: "toolu_1", name: "lookup", arguments: '{"q":"cat"}' },
        ],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            toolCallId: "toolu_1",
            toolName: "lookup",
            content: [
              { type: "text", text: "a cat" },
              { type: "image", source: { kind: "url", url: "https://x/y.png" } },
            ],
            isError: false,
          },
          { type: "text", text: "Go on.", cacheBreakpoint: true },
        ],
      },
      { role: "assistant", content: [{ type: "text", text: "It is a cat." }] },
      {
        role: "user",
        content: [{ type: "tool_result", toolCallId: "toolu_1", toolName: "lookup", content: [{ type: "text", text: "failed", cacheBreakpoint: true }], isError: true }],
      },
    ],
    tools: [
      { name: "lookup", description: "Look up", parameters: { type: "object", properties: { q: { type: "string" } } } },
      { name: "noop", parameters: { type: "object" } },
    ],
    toolChoice: { type: "tool", name: "lookup" },
    parallelToolCalls: false,
    maxTokens: 1024,
    temperature: 0.5,
    topP: 0.9,
    topK: 40,
    stopSequences: ["\n\nHuman:"],
    reasoning: { budgetTokens: 2048 },
    stream: true,
    user: "user-7",
  });
});

test("a string system and string content; tool_choice any/auto/none", () => {
  const { request } = decodeMessagesRequest({ model: "m", max_tokens: 5, system: "Be brief.", messages: [{ role: "user", content: "Hi" }], tool_choice: { type: "any" } });
  assert.deepEqual(request, {
    model: "m",
    messages: [
      { role: "system", content: [{ type: "text", text: "Be brief." }] },
      { role: "user", content: [{ type: "text", text: "Hi" }] },
    ],
    toolChoice: { type: "required" },
    maxTokens: 5,
    stream: false,
  });
  const auto = decodeMessagesRequest({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "Hi" }], tool_choice: { type: "auto", disable_parallel_tool_use: false } }).request;
  assert.deepEqual([auto.toolChoice, auto.parallelToolCalls], [{ type: "auto" }, true]);
  assert.deepEqual(decodeMessagesRequest({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "Hi" }], tool_choice: { type: "none" } }).request.toolChoice, { type: "none" });
});

test("output_config: effort and a JSON schema format", () => {
  const { request, warnings } = decodeMessagesRequest({
    model: "m",
    max_tokens: 5,
    messages: [{ role: "user", content: "Hi" }],
    output_config: { effort: "medium", format: { type: "json_schema", schema: { type: "object" } } },
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(request.reasoning, { effort: "medium" });
  assert.deepEqual(request.responseFormat, { type: "json_schema", name: "output", schema: { type: "object" } });
});

test("max_tokens is required", () => {
  rejects({ model: "m", messages: [{ role: "user", content: "Hi" }] }, "max_tokens", /Missing required parameter: 'max_tokens'/);
});

test("breakpoints and blocks the canonical form cannot hold, and server tools, are warnings", () => {
  const { request, warnings } = decodeMessagesRequest({
    model: "m",
    max_tokens: 10,
    cache_control: ephemeral,
    system: [{ type: "text", text: "s", cache_control: { type: "ephemeral", ttl: "1h" } }],
    messages: [
      { role: "user", content: [{ type: "image", source: { type: "url", url: "https://x" }, cache_control: ephemeral }] },
      {
        role: "assistant",
        content: [
          { type: "redacted_thinking", data: "opaque" },
          { type: "tool_use", id: "t", name: "f", input: {}, cache_control: ephemeral },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "image", source: { type: "url", url: "https://y" } }], cache_control: ephemeral }] },
    ],
    tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 3 }, { name: "f", input_schema: { type: "object" }, cache_control: ephemeral, strict: true }],
    thinking: { type: "adaptive" },
    output_config: { effort: "max" },
    service_tier: "auto",
    container: "c1",
    mcp_servers: [],
    context_management: {},
    inference_geo: "us",
    speed: "fast",
  });
  assert.deepEqual(
    warnings.map((warning) => warning.parameter),
    [
      "cache_control",
      "service_tier",
      "container",
      "mcp_servers",
      "context_management",
      "inference_geo",
      "speed",
      "system[0].cache_control.ttl",
      "messages[0].content[0].cache_control",
      "messages[1].content[0]",
      "messages[1].content[1].cache_control",
      "messages[2].content[0].cache_control",
      "tools[0]",
      "tools[1].cache_control",
      "tools[1].strict",
      "thinking.type",
      "output_config.effort",
    ],
  );
  assert.match(warnings[12]?.message ?? "", /web_search_20250305/);
  assert.deepEqual(request.messages[2]?.content, [{ type: "tool_call", id: "t", name: "f", arguments: "{}" }]);
  assert.deepEqual(request.tools?.map((tool) => tool.name), ["f"]);
  assert.deepEqual(request.reasoning, { effort: "high" });
  assert.deepEqual(request.messages[0]?.content, [{ type: "text", text: "s", cacheBreakpoint: true }]);
});

test("unknown fields are warnings naming their path", () => {
  const { warnings } = decodeMessagesRequest({
    model: "m",
    max_tokens: 10,
    messages: [{ role: "user", content: [{ type: "text", text: "x", brand_new: 1 }] }],
    tools: [{ name: "f", input_schema: {}, input_examples: [] }],
    anthropic_future: true,
  });
  assert.deepEqual(
    warnings.map((warning) => warning.parameter),
    ["messages[0].content[0].brand_new", "anthropic_future", "tools[0].input_examples"],
  );
});

test("validation errors name the offending parameter", () => {
  rejects({ max_tokens: 1, messages: [{ role: "user", content: "x" }] }, "model");
  rejects({ model: "m", max_tokens: 1 }, "messages");
  rejects({ model: "m", max_tokens: 0, messages: [{ role: "user", content: "x" }] }, "max_tokens");
  rejects({ model: "m", max_tokens: 1.5, messages: [{ role: "user", content: "x" }] }, "max_tokens");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "system", content: "x" }] }, "messages[0].role");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "user", content: [{ type: "document", source: {} }] }] }, "messages[0].content[0].type");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "user", content: [{ type: "tool_result" }] }] }, "messages[0].content[0].tool_use_id");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "user", content: [{ type: "tool_use", id: "a", name: "b", input: {} }] }] }, "messages[0].content[0].type", /not allowed in a user message/);
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "assistant", content: [{ type: "tool_use", id: "a", name: "b", input: "{}" }] }] }, "messages[0].content[0].input");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "assistant", content: [{ type: "thinking", thinking: "t" }] }] }, "messages[0].content[0].signature");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "user", content: [{ type: "image", source: { type: "file", file_id: "f" } }] }] }, "messages[0].content[0].source.file_id");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }], temperature: 1.5 }, "temperature");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }], tools: [{ name: "f" }] }, "tools[0].input_schema");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }], tool_choice: { type: "tool" } }, "tool_choice.name");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }], thinking: { type: "enabled" } }, "thinking.budget_tokens");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }], stop_sequences: "STOP" }, "stop_sequences");
  rejects({ model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }], metadata: { user_id: 5 } }, "metadata.user_id");
});

test("OpenClaw's recorded Messages requests decode; the only warning is the tool cache breakpoint", () => {
  for (const name of ["30-anthropic-messages-first-turn", "31-anthropic-tool-turn1", "32-anthropic-after-tool-result"]) {
    const capture = loadOpenClawRequest(name);
    assert.equal(capture.url, "/v1/messages");
    const { request, warnings } = decodeMessagesRequest(capture.body);
    assert.deepEqual(
      warnings.map((warning) => warning.parameter),
      ["tools[11].cache_control"],
      name,
    );
    assert.equal(request.model, "claude-fake");
    assert.equal(request.maxTokens, 8192);
    assert.equal(request.stream, true);
    assert.equal(request.tools?.length, 12);
    const system = request.messages[0];
    assert.equal(system?.role, "system");
    assert.deepEqual(
      system?.content.map((part) => (part.type === "text" ? (part.cacheBreakpoint ?? false) : null)),
      [true, false],
    );
  }
  const afterTool = decodeMessagesRequest(loadOpenClawRequest("32-anthropic-after-tool-result").body).request;
  assert.deepEqual(
    afterTool.messages.map((message) => message.role),
    ["system", "user", "assistant", "user", "user"],
  );
  assert.deepEqual(afterTool.messages[2]?.content, [{ type: "tool_call", id: "toolufake21", name: "exec", arguments: '{"title":"probe","command":"echo from-anthropic-tool"}' }]);
  assert.deepEqual(afterTool.messages[3]?.content, [
    { type: "tool_result", toolCallId: "toolufake21", toolName: "exec", content: [{ type: "text", text: "from-anthropic-tool", cacheBreakpoint: true }], isError: false },
  ]);
});
