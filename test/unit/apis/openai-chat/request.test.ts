import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeChatRequest } from "../../../../src/apis/openai-chat/request.js";
import { chatStreamIncludesUsage } from "../../../../src/apis/index.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { loadOpenClawRequest } from "../../../support/openclaw-captures.js";

const user = (content: unknown) => ({ role: "user", content });

function rejects(body: unknown, param: string, message?: RegExp): void {
  assert.throws(
    () => decodeChatRequest(body),
    (error: unknown) => {
      assert.ok(error instanceof ClawfleetError, String(error));
      assert.equal(error.code, "CF_VALIDATION_FAILED");
      assert.equal(error.status, 400);
      assert.deepEqual(error.details, { param });
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

test("decodes every supported parameter into canonical form", () => {
  const { request, warnings } = decodeChatRequest({
    model: "gpt-4o",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "developer", content: [{ type: "text", text: "Use metric units." }] },
      user([
        { type: "text", text: "What is in these?" },
        { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
        { type: "image_url", image_url: { url: "data:image/PNG;base64,iVBORw0KGgo=", detail: "auto" } },
      ]),
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"cat"}' } }],
      },
      { role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: "a cat" }] },
      { role: "assistant", content: "It is a cat." },
      user("Thanks"),
    ],
    tools: [
      { type: "function", function: { name: "lookup", description: "Look up", parameters: { type: "object", properties: { q: { type: "string" } } } } },
      { type: "function", function: { name: "noop" } },
    ],
    tool_choice: { type: "function", function: { name: "lookup" } },
    parallel_tool_calls: false,
    max_completion_tokens: 300,
    temperature: 0.2,
    top_p: 0.9,
    stop: ["END", "STOP"],
    seed: 7,
    presence_penalty: 0.5,
    frequency_penalty: -0.5,
    response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" }, strict: true } },
    reasoning_effort: "low",
    user: "end-user-1",
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(request, {
    model: "gpt-4o",
    messages: [
      { role: "system", content: [{ type: "text", text: "Be brief." }] },
      { role: "system", content: [{ type: "text", text: "Use metric units." }] },
      {
        role: "user",
        content: [
          { type: "text", text: "What is in these?" },
          { type: "image", source: { kind: "url", url: "https://example.com/cat.png" } },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
        ],
      },
      { role: "assistant", content: [{ type: "tool_call", id: "call_1", name: "lookup", arguments: '{"q":"cat"}' }] },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "call_1", toolName: "lookup", content: [{ type: "text", text: "a cat" }] }] },
      { role: "assistant", content: [{ type: "text", text: "It is a cat." }] },
      { role: "user", content: [{ type: "text", text: "Thanks" }] },
    ],
    tools: [
      { name: "lookup", description: "Look up", parameters: { type: "object", properties: { q: { type: "string" } } } },
      { name: "noop", parameters: { type: "object", properties: {} } },
    ],
    toolChoice: { type: "tool", name: "lookup" },
    parallelToolCalls: false,
    maxTokens: 300,
    temperature: 0.2,
    topP: 0.9,
    stopSequences: ["END", "STOP"],
    seed: 7,
    presencePenalty: 0.5,
    frequencyPenalty: -0.5,
    responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true },
    reasoning: { effort: "low" },
    stream: true,
    user: "end-user-1",
  });
});

test("a minimal request has only model, messages and stream: false", () => {
  assert.deepEqual(decodeChatRequest({ model: "m", messages: [user("hi")] }), {
    request: { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], stream: false },
    warnings: [],
  });
});

test("small forms: string stop, string tool_choice, max_tokens, json_object, null for unset, safety_identifier", () => {
  const { request, warnings } = decodeChatRequest({
    model: "m",
    messages: [user("x")],
    stop: "###",
    tool_choice: "required",
    max_tokens: 50,
    response_format: { type: "json_object" },
    temperature: null,
    seed: null,
    stream: null,
    safety_identifier: "hash-1",
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(request.stopSequences, ["###"]);
  assert.deepEqual(request.toolChoice, { type: "required" });
  assert.equal(request.maxTokens, 50);
  assert.deepEqual(request.responseFormat, { type: "json_object" });
  assert.equal("temperature" in request, false);
  assert.equal("seed" in request, false);
  assert.equal(request.stream, false);
  assert.equal(request.user, "hash-1");
});

test("max_completion_tokens wins over max_tokens, with a warning when they differ", () => {
  const { request, warnings } = decodeChatRequest({ model: "m", messages: [user("x")], max_tokens: 10, max_completion_tokens: 20 });
  assert.equal(request.maxTokens, 20);
  assert.deepEqual(warnings.map((warning) => warning.parameter), ["max_tokens"]);
});

test("assistant refusal, reasoning_content and text parts are kept", () => {
  const { request } = decodeChatRequest({
    model: "m",
    messages: [user("x"), { role: "assistant", reasoning_content: "thinking", content: [{ type: "text", text: "a" }, { type: "refusal", refusal: "no" }] }],
  });
  assert.deepEqual(request.messages[1], {
    role: "assistant",
    content: [
      { type: "reasoning", text: "thinking" },
      { type: "text", text: "a" },
      { type: "text", text: "no" },
    ],
  });
});

test("reasoning_effort: xhigh becomes high and none is dropped, both with warnings", () => {
  const high = decodeChatRequest({ model: "m", messages: [user("x")], reasoning_effort: "xhigh" });
  assert.deepEqual(high.request.reasoning, { effort: "high" });
  assert.deepEqual(high.warnings.map((warning) => warning.parameter), ["reasoning_effort"]);
  const none = decodeChatRequest({ model: "m", messages: [user("x")], reasoning_effort: "none" });
  assert.equal("reasoning" in none.request, false);
  assert.deepEqual(none.warnings.map((warning) => warning.parameter), ["reasoning_effort"]);
});

test("unsupported parameters become warnings, defaults do not", () => {
  const { warnings } = decodeChatRequest({
    model: "m",
    messages: [user("x"), { role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png", detail: "high" } }], name: "bob" }],
    n: 3,
    logprobs: true,
    top_logprobs: 2,
    logit_bias: { "50256": -100 },
    audio: { voice: "alloy", format: "mp3" },
    modalities: ["text", "audio"],
    prediction: { type: "content", content: "x" },
    service_tier: "flex",
    store: true,
    metadata: { a: "b" },
    verbosity: "low",
    web_search_options: {},
    prompt_cache_key: "k",
    functions: [],
    function_call: "auto",
    tools: [{ type: "function", function: { name: "f", strict: true } }],
    response_format: { type: "json_schema", json_schema: { name: "x", description: "d" } },
  });
  assert.deepEqual(
    warnings.map((warning) => warning.parameter),
    [
      "n",
      "logprobs",
      "top_logprobs",
      "logit_bias",
      "audio",
      "modalities",
      "prediction",
      "service_tier",
      "store",
      "metadata",
      "verbosity",
      "web_search_options",
      "prompt_cache_key",
      "functions",
      "function_call",
      "messages[1].name",
      "messages[1].content[0].image_url.detail",
      "tools[0].function.strict",
      "response_format.json_schema.description",
    ],
  );
  for (const warning of warnings) assert.ok(warning.message.length > 0);
  const defaults = decodeChatRequest({ model: "m", messages: [user("x")], n: 1, logprobs: false, modalities: ["text"], store: false, logit_bias: {} });
  assert.deepEqual(defaults.warnings, []);
});

test("unknown fields anywhere are warnings naming their path, not errors", () => {
  const { request, warnings } = decodeChatRequest({
    model: "m",
    messages: [{ role: "user", content: [{ type: "text", text: "x", cache_control: { type: "ephemeral" } }], extra: 1 }],
    brand_new_option: true,
  });
  assert.deepEqual(warnings, [
    { parameter: "messages[0].content[0].cache_control", message: "unknown parameter; ignored" },
    { parameter: "messages[0].extra", message: "unknown parameter; ignored" },
    { parameter: "brand_new_option", message: "unknown parameter; ignored" },
  ]);
  assert.deepEqual(request.messages, [{ role: "user", content: [{ type: "text", text: "x" }] }]);
});

test("validation errors name the offending parameter", () => {
  rejects([], "body");
  rejects({ messages: [user("x")] }, "model", /Missing required parameter: 'model'/);
  rejects({ model: "m" }, "messages", /Missing required/);
  rejects({ model: "m", messages: [] }, "messages");
  rejects({ model: 5, messages: [user("x")] }, "model");
  rejects({ model: "m", messages: [{ role: "robot", content: "x" }] }, "messages[0].role");
  rejects({ model: "m", messages: [user(5)] }, "messages[0].content", /expected string or array/);
  rejects({ model: "m", messages: [user([{ type: "input_audio", input_audio: {} }])] }, "messages[0].content[0].type");
  rejects({ model: "m", messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id");
  rejects({ model: "m", messages: [user("x")], temperature: 2.5 }, "temperature");
  rejects({ model: "m", messages: [user("x")], top_p: "high" }, "top_p");
  rejects({ model: "m", messages: [user("x")], max_tokens: 0 }, "max_tokens");
  rejects({ model: "m", messages: [user("x")], stop: [1] }, "stop[0]");
  rejects({ model: "m", messages: [user("x")], stream: "yes" }, "stream");
  rejects({ model: "m", messages: [user("x")], tools: [{ type: "function", function: { description: "no name" } }] }, "tools[0].function.name");
  rejects({ model: "m", messages: [user("x")], tools: [{ type: "function", function: { name: "f", parameters: [] } }] }, "tools[0].function.parameters");
  rejects({ model: "m", messages: [user("x")], tool_choice: "sometimes" }, "tool_choice");
  rejects({ model: "m", messages: [user("x")], response_format: { type: "yaml" } }, "response_format.type");
  rejects({ model: "m", messages: [user("x")], reasoning_effort: "extreme" }, "reasoning_effort");
});

test("stream_options.include_usage is read for the stream encoder", () => {
  assert.equal(chatStreamIncludesUsage({ stream: true, stream_options: { include_usage: true } }), true);
  assert.equal(chatStreamIncludesUsage({ stream: true, stream_options: { include_usage: false } }), false);
  assert.equal(chatStreamIncludesUsage({ stream: true }), false);
  assert.equal(chatStreamIncludesUsage("nonsense"), false);
});

test("OpenClaw's recorded Chat Completions requests decode without errors or warnings", () => {
  for (const name of ["01-openai-first-turn-nonstream-client", "08-exec-tool-turn1", "09-exec-after-tool-result"]) {
    const capture = loadOpenClawRequest(name);
    assert.equal(capture.url, "/v1/chat/completions");
    const { request, warnings } = decodeChatRequest(capture.body);
    assert.deepEqual(warnings, [], name);
    assert.equal(request.model, "fake-model");
    assert.equal(request.stream, true);
    assert.equal(request.maxTokens, 4096);
    assert.deepEqual(request.toolChoice, { type: "auto" });
    assert.equal(request.tools?.length, 12);
    assert.equal(request.messages[0]?.role, "system");
    assert.equal(chatStreamIncludesUsage(capture.body), true);
  }
  const afterTool = decodeChatRequest(loadOpenClawRequest("09-exec-after-tool-result").body).request;
  assert.deepEqual(
    afterTool.messages.map((message) => message.role),
    ["system", "user", "assistant", "tool", "user"],
  );
  const toolCall = afterTool.messages[2]?.content[0];
  assert.equal(toolCall?.type === "tool_call" ? toolCall.name : null, "exec");
  assert.deepEqual(afterTool.messages[3]?.content, [
    { type: "tool_result", toolCallId: "callfake1", toolName: "exec", content: [{ type: "text", text: "hello-from-tool\nroot\n/srv/probe/t1/workspace" }] },
  ]);
});
