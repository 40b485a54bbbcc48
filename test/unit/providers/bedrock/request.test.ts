/**
 * Canonical request → Converse input (pure translator). The wire bytes the real SDK makes of this input are
 * asserted in adapter.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CanonicalRequest } from "../../../../src/contracts/chat.js";
import { bedrockModelFamily } from "../../../../src/providers/bedrock/model-family.js";
import { toConverseInput } from "../../../../src/providers/bedrock/request.js";

const CLAUDE = "anthropic.claude-sonnet-4-20250514-v1:0";
const PNG_BASE64 = "iVBORw0KGgo=";

function request(overrides: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: CLAUDE, stream: false, messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }], ...overrides };
}

function parameters(warnings: Array<{ parameter: string }>): string[] {
  return warnings.map((warning) => warning.parameter);
}

test("system messages become system blocks; roles alternate; inference parameters go to inferenceConfig", () => {
  const { input, warnings } = toConverseInput(
    request({
      messages: [
        { role: "system", content: [{ type: "text", text: "Be brief." }] },
        { role: "user", content: [{ type: "text", text: "Hello" }] },
        { role: "assistant", content: [{ type: "text", text: "Hi!" }] },
        { role: "user", content: [{ type: "text", text: "Weather?" }] },
      ],
      maxTokens: 256,
      temperature: 0.2,
      topP: 0.9,
      stopSequences: ["END"],
    }),
  );
  assert.deepEqual(warnings, []);
  assert.equal(input.modelId, CLAUDE);
  assert.deepEqual(input.system, [{ text: "Be brief." }]);
  assert.deepEqual(input.messages, [
    { role: "user", content: [{ text: "Hello" }] },
    { role: "assistant", content: [{ text: "Hi!" }] },
    { role: "user", content: [{ text: "Weather?" }] },
  ]);
  assert.deepEqual(input.inferenceConfig, { maxTokens: 256, temperature: 0.2, topP: 0.9, stopSequences: ["END"] });
  assert.deepEqual(input.additionalModelResponseFieldPaths, ["/stop_sequence"]);
  assert.equal(input.toolConfig, undefined);
  assert.equal(input.additionalModelRequestFields, undefined);
});

test("a late system message is hoisted with a warning; cache breakpoints become cache points", () => {
  const { input, warnings } = toConverseInput(
    request({
      messages: [
        { role: "system", content: [{ type: "text", text: "Long instructions", cacheBreakpoint: true }] },
        { role: "user", content: [{ type: "text", text: "Doc", cacheBreakpoint: true }, { type: "text", text: "" }] },
        { role: "system", content: [{ type: "text", text: "Also this." }] },
      ],
    }),
  );
  assert.deepEqual(input.system, [{ text: "Long instructions" }, { cachePoint: { type: "default" } }, { text: "Also this." }]);
  assert.deepEqual(input.messages, [{ role: "user", content: [{ text: "Doc" }, { cachePoint: { type: "default" } }] }]);
  assert.deepEqual(parameters(warnings), ["messages[2]"]);
});

test("tool calls, parallel tool results (merged into one user turn) and tool config", () => {
  const { input, warnings } = toConverseInput(
    request({
      messages: [
        { role: "user", content: [{ type: "text", text: "Weather in Paris and Rome?" }] },
        {
          role: "assistant",
          content: [
            { type: "tool_call", id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
            { type: "tool_call", id: "call_2", name: "get_weather", arguments: "" },
          ],
        },
        { role: "tool", content: [{ type: "tool_result", toolCallId: "call_1", content: [{ type: "text", text: "18°C" }] }] },
        { role: "tool", content: [{ type: "tool_result", toolCallId: "call_2", content: [{ type: "text", text: "failed" }], isError: true }] },
      ],
      tools: [{ name: "get_weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
      toolChoice: { type: "required" },
    }),
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(input.messages, [
    { role: "user", content: [{ text: "Weather in Paris and Rome?" }] },
    {
      role: "assistant",
      content: [
        { toolUse: { toolUseId: "call_1", name: "get_weather", input: { city: "Paris" } } },
        { toolUse: { toolUseId: "call_2", name: "get_weather", input: {} } },
      ],
    },
    {
      role: "user",
      content: [
        { toolResult: { toolUseId: "call_1", content: [{ text: "18°C" }] } },
        { toolResult: { toolUseId: "call_2", content: [{ text: "failed" }], status: "error" } },
      ],
    },
  ]);
  assert.deepEqual(input.toolConfig, {
    tools: [{ toolSpec: { name: "get_weather", description: "Weather by city", inputSchema: { json: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } } }],
    toolChoice: { any: {} },
  });
});

test("tool choice auto / tool / none", () => {
  const tools = [{ name: "lookup", parameters: { type: "object" } }];
  assert.deepEqual(toConverseInput(request({ tools, toolChoice: { type: "auto" } })).input.toolConfig?.toolChoice, { auto: {} });
  assert.deepEqual(toConverseInput(request({ tools, toolChoice: { type: "tool", name: "lookup" } })).input.toolConfig?.toolChoice, { tool: { name: "lookup" } });
  assert.equal(toConverseInput(request({ tools })).input.toolConfig?.toolChoice, undefined);
  const none = toConverseInput(request({ tools, toolChoice: { type: "none" } }));
  assert.equal(none.input.toolConfig, undefined);
  assert.deepEqual(none.warnings, []);
});

test("tool history without tools: the used tools are declared, with a warning", () => {
  const { input, warnings } = toConverseInput(
    request({
      messages: [
        { role: "user", content: [{ type: "text", text: "Run it" }] },
        { role: "assistant", content: [{ type: "tool_call", id: "t1", name: "exec", arguments: "{not json" }] },
        { role: "tool", content: [{ type: "tool_result", toolCallId: "t1", content: [] }] },
      ],
    }),
  );
  assert.deepEqual(input.toolConfig, { tools: [{ toolSpec: { name: "exec", inputSchema: { json: { type: "object", properties: {} } } } }] });
  assert.deepEqual(input.messages?.[1], { role: "assistant", content: [{ toolUse: { toolUseId: "t1", name: "exec", input: {} } }] });
  assert.deepEqual(parameters(warnings).sort(), ["messages[1].content[0]", "tools"]);
});

test("images: base64 and data: URLs become bytes; http URLs and unsupported types are warnings", () => {
  const { input, warnings } = toConverseInput(
    request({
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { kind: "base64", mediaType: "image/png", data: PNG_BASE64 } },
            { type: "image", source: { kind: "url", url: `data:image/jpeg;base64,${PNG_BASE64}` } },
            { type: "image", source: { kind: "url", url: "https://example.com/cat.png" } },
            { type: "image", source: { kind: "base64", mediaType: "image/bmp", data: PNG_BASE64 } },
            { type: "text", text: "What is this?" },
          ],
        },
      ],
    }),
  );
  const content = input.messages?.[0]?.content ?? [];
  assert.equal(content.length, 3);
  assert.equal(content[0]?.image?.format, "png");
  assert.deepEqual(Buffer.from(content[0]?.image?.source?.bytes ?? new Uint8Array()), Buffer.from(PNG_BASE64, "base64"));
  assert.equal(content[1]?.image?.format, "jpeg");
  assert.deepEqual(content[2], { text: "What is this?" });
  assert.deepEqual(parameters(warnings), ["messages[0].content[2]", "messages[0].content[3]"]);
  assert.match(warnings[0]?.message ?? "", /not image URLs/);
});

test("signed reasoning goes back as reasoningContent; unsigned reasoning is a warning", () => {
  const { input, warnings } = toConverseInput(
    request({
      messages: [
        { role: "user", content: [{ type: "text", text: "2+2?" }] },
        {
          role: "assistant",
          content: [
            { type: "reasoning", text: "Simple.", signature: "sig-1" },
            { type: "reasoning", text: "From another provider." },
            { type: "text", text: "4" },
          ],
        },
        { role: "user", content: [{ type: "text", text: "Thanks" }] },
      ],
    }),
  );
  assert.deepEqual(input.messages?.[1]?.content, [{ reasoningContent: { reasoningText: { text: "Simple.", signature: "sig-1" } } }, { text: "4" }]);
  assert.deepEqual(parameters(warnings), ["messages[1].content[1]"]);
});

test("top_k and reasoning use each model family's own fields", () => {
  const claude = toConverseInput(request({ topK: 40, reasoning: { effort: "high" }, maxTokens: 32000 }));
  assert.deepEqual(claude.input.additionalModelRequestFields, { top_k: 40, thinking: { type: "enabled", budget_tokens: 16384 } });
  assert.deepEqual(claude.warnings, []);

  const clamped = toConverseInput(request({ reasoning: { budgetTokens: 5000 }, maxTokens: 4000 }));
  assert.deepEqual(clamped.input.additionalModelRequestFields, { thinking: { type: "enabled", budget_tokens: 3999 } });
  const tooSmall = toConverseInput(request({ reasoning: { effort: "low" }, maxTokens: 512 }));
  assert.equal(tooSmall.input.additionalModelRequestFields, undefined);
  assert.deepEqual(parameters(tooSmall.warnings), ["reasoning"]);

  const nova = toConverseInput(request({ model: "us.amazon.nova-2-lite-v1:0", topK: 50, reasoning: { effort: "minimal" } }));
  assert.deepEqual(nova.input.additionalModelRequestFields, { inferenceConfig: { topK: 50 }, reasoningConfig: { type: "enabled", maxReasoningEffort: "low" } });
  const gptOss = toConverseInput(request({ model: "openai.gpt-oss-120b-1:0", reasoning: { budgetTokens: 20000 } }));
  assert.deepEqual(gptOss.input.additionalModelRequestFields, { reasoning_effort: "high" });
  assert.deepEqual(parameters(gptOss.warnings), ["reasoning"]);

  const llama = toConverseInput(request({ model: "meta.llama3-70b-instruct-v1:0", topK: 5, reasoning: { effort: "low" } }));
  assert.equal(llama.input.additionalModelRequestFields, undefined);
  assert.deepEqual(parameters(llama.warnings), ["top_k", "reasoning"]);
});

test("parameters Converse cannot take are warnings, never silent drops", () => {
  const { input, warnings } = toConverseInput(
    request({ seed: 7, presencePenalty: 0.5, frequencyPenalty: 0.5, parallelToolCalls: false, user: "user-42", responseFormat: { type: "json_object" } }),
  );
  assert.deepEqual(parameters(warnings), ["response_format", "seed", "presence_penalty", "frequency_penalty", "parallel_tool_calls", "user"]);
  assert.equal(input.outputConfig, undefined);
});

test("json_schema response format becomes outputConfig.textFormat", () => {
  const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };
  const { input, warnings } = toConverseInput(request({ responseFormat: { type: "json_schema", name: "answer", schema, strict: true } }));
  assert.deepEqual(warnings, []);
  assert.deepEqual(input.outputConfig, { textFormat: { type: "json_schema", structure: { jsonSchema: { schema: JSON.stringify(schema), name: "answer" } } } });
});

test("model families from model ids, inference profiles and ARNs", () => {
  assert.equal(bedrockModelFamily("anthropic.claude-3-haiku-20240307-v1:0"), "anthropic");
  assert.equal(bedrockModelFamily("us.anthropic.claude-sonnet-4-20250514-v1:0"), "anthropic");
  assert.equal(bedrockModelFamily("arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-opus-4-1"), "anthropic");
  assert.equal(bedrockModelFamily("amazon.nova-pro-v1:0"), "nova");
  assert.equal(bedrockModelFamily("us.amazon.nova-2-lite-v1:0"), "nova-2");
  assert.equal(bedrockModelFamily("mistral.mistral-large-2407-v1:0"), "mistral");
  assert.equal(bedrockModelFamily("amazon.titan-text-express-v1"), "other");
  assert.equal(bedrockModelFamily("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3"), "other");
});
