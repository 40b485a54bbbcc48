/**
 * Canonical request → Bedrock Converse / ConverseStream input (`ConverseCommandInput` without guardrails, which
 * both commands accept). Pure: no I/O, no config, no clock.
 *
 * Mapping (source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html):
 * - `system` messages (wherever they are) → `system: [{text}]`, in order; a system message after the first
 *   non-system message is hoisted, with a warning (Converse has one top-level system prompt).
 * - `user` and `tool` messages → `role: "user"`, `assistant` → `role: "assistant"`; consecutive messages with
 *   the same role are merged into one (Converse requires alternating roles; OpenAI sends one `tool` message per
 *   parallel tool result).
 * - text → `{text}` (empty text parts carry nothing and are skipped); `cacheBreakpoint` → a
 *   `{cachePoint: {type: "default"}}` block after the part; images given as base64 or `data:` URLs →
 *   `{image: {format, source: {bytes}}}` (bytes decoded here; the SDK base64-encodes them on the wire);
 *   http(s) image URLs → dropped with a warning (Converse takes bytes or S3 locations, and the gateway does not
 *   fetch URLs); tool calls → `{toolUse: {toolUseId, name, input}}` with `input` parsed from the argument JSON;
 *   tool results → `{toolResult: {toolUseId, content, status?}}`; reasoning with a signature →
 *   `{reasoningContent: {reasoningText: {text, signature}}}` (unsigned reasoning is dropped with a warning:
 *   Anthropic models reject it and no other family needs it back).
 * - tools → `toolConfig.tools[].toolSpec {name, description, inputSchema: {json}}`; tool choice `auto` →
 *   `{auto: {}}`, `required` → `{any: {}}`, `tool` → `{tool: {name}}`, `none` → no `toolConfig` at all.
 *   Converse refuses tool blocks in the history without a `toolConfig`, so when the caller sent none (or
 *   `none`) but the history holds tool calls, the tools named in it are declared with an empty object schema,
 *   with a warning.
 * - `maxTokens`, `temperature`, `topP`, `stopSequences` → `inferenceConfig` (for Anthropic models with stop
 *   sequences, `additionalModelResponseFieldPaths: ["/stop_sequence"]` too, so the answer says which one hit).
 * - `topK`, `reasoning` → `additionalModelRequestFields` in the model family's own names (Anthropic `top_k`,
 *   `thinking: {type: "enabled", budget_tokens}`; Nova `inferenceConfig.topK`, Nova 2
 *   `reasoningConfig: {type: "enabled", maxReasoningEffort}`; Mistral `top_k`; OpenAI gpt-oss
 *   `reasoning_effort`), warnings for other families.
 * - `responseFormat: json_schema` → `outputConfig.textFormat` (structured output); `json_object`, `seed`,
 *   `presencePenalty`, `frequencyPenalty`, `parallelToolCalls: false`, `user` → warnings (no Converse field).
 */
import type {
  ContentBlock,
  ConverseCommandInput,
  ImageBlock,
  ImageFormat,
  InferenceConfiguration,
  Message,
  SystemContentBlock,
  Tool,
  ToolConfiguration,
  ToolResultContentBlock,
} from "@aws-sdk/client-bedrock-runtime";
import type { CanonicalMessage, CanonicalRequest, ImagePart, ImageSource, JsonObject, JsonValue, TextPart, TranslationWarning } from "../../contracts/chat.js";
import { bedrockModelFamily, type BedrockModelFamily } from "./model-family.js";

/** The input of both `ConverseCommand` and `ConverseStreamCommand` (they differ only in guardrail settings). */
export type ConverseInput = Omit<ConverseCommandInput, "guardrailConfig"> & { modelId: string };

export interface ConverseTranslation {
  input: ConverseInput;
  /** Parameters Converse (or this model family) cannot honour. */
  warnings: TranslationWarning[];
}

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};

/** Anthropic thinking budgets (tokens) for an effort level; Anthropic's minimum budget is 1024. */
const THINKING_BUDGET_BY_EFFORT = { minimal: 1024, low: 2048, medium: 8192, high: 16384 } as const;
const MINIMUM_THINKING_BUDGET = 1024;

const CACHE_POINT = { cachePoint: { type: "default" } } as const;

type Effort = "minimal" | "low" | "medium" | "high";

/** Translates a canonical request (its `model` is the Bedrock model id or inference profile). */
export function toConverseInput(request: CanonicalRequest): ConverseTranslation {
  const warnings: TranslationWarning[] = [];
  const family = bedrockModelFamily(request.model);
  const { system, messages, toolNamesInHistory } = convertMessages(request.messages, warnings);
  const input: ConverseInput = { modelId: request.model, messages };
  if (system.length > 0) input.system = system;

  const toolConfig = convertTools(request, toolNamesInHistory, warnings);
  if (toolConfig) input.toolConfig = toolConfig;

  const inferenceConfig: InferenceConfiguration = {};
  if (request.maxTokens !== undefined) inferenceConfig.maxTokens = request.maxTokens;
  if (request.temperature !== undefined) inferenceConfig.temperature = request.temperature;
  if (request.topP !== undefined) inferenceConfig.topP = request.topP;
  if (request.stopSequences !== undefined && request.stopSequences.length > 0) {
    inferenceConfig.stopSequences = request.stopSequences;
    // Anthropic models say which sequence stopped them only when asked for this response field.
    if (family === "anthropic") input.additionalModelResponseFieldPaths = ["/stop_sequence"];
  }
  if (Object.keys(inferenceConfig).length > 0) input.inferenceConfig = inferenceConfig;

  const additional: JsonObject = {};
  if (request.topK !== undefined) addTopK(additional, family, request.topK, warnings);
  if (request.reasoning !== undefined) addReasoning(additional, family, request.reasoning, request.maxTokens, warnings);
  if (Object.keys(additional).length > 0) input.additionalModelRequestFields = additional;

  const format = request.responseFormat;
  if (format?.type === "json_schema") {
    input.outputConfig = { textFormat: { type: "json_schema", structure: { jsonSchema: { schema: JSON.stringify(format.schema), name: format.name } } } };
  } else if (format?.type === "json_object") {
    warnings.push({ parameter: "response_format", message: "Bedrock Converse has no JSON mode without a schema; the answer is not constrained to JSON." });
  }
  if (request.seed !== undefined) warnings.push({ parameter: "seed", message: "Bedrock Converse has no seed parameter; it was ignored." });
  if (request.presencePenalty !== undefined) warnings.push({ parameter: "presence_penalty", message: "Bedrock Converse has no presence penalty; it was ignored." });
  if (request.frequencyPenalty !== undefined) warnings.push({ parameter: "frequency_penalty", message: "Bedrock Converse has no frequency penalty; it was ignored." });
  if (request.parallelToolCalls === false) warnings.push({ parameter: "parallel_tool_calls", message: "Bedrock Converse cannot forbid parallel tool calls; the model may make several." });
  if (request.user !== undefined) warnings.push({ parameter: "user", message: "Bedrock Converse has no end-user field; it was not sent." });
  return { input, warnings };
}

interface ConvertedMessages {
  system: SystemContentBlock[];
  messages: Message[];
  /** Names of the tools called in the history, in order of first use. */
  toolNamesInHistory: string[];
}

function convertMessages(canonical: CanonicalMessage[], warnings: TranslationWarning[]): ConvertedMessages {
  const system: SystemContentBlock[] = [];
  const messages: Message[] = [];
  const toolNames = new Set<string>();
  let seenConversation = false;
  canonical.forEach((message, messageIndex) => {
    if (message.role === "system") {
      if (seenConversation) {
        warnings.push({ parameter: `messages[${messageIndex}]`, message: "Bedrock Converse has one system prompt; this system message was moved to it." });
      }
      message.content.forEach((part, partIndex) => {
        if (part.type !== "text") {
          warnings.push({ parameter: `messages[${messageIndex}].content[${partIndex}]`, message: `Bedrock system prompts hold text only; a ${part.type} part was dropped.` });
          return;
        }
        if (part.text !== "") system.push({ text: part.text });
        if (part.cacheBreakpoint) system.push(CACHE_POINT);
      });
      return;
    }
    seenConversation = true;
    const role = message.role === "assistant" ? "assistant" : "user";
    const content: ContentBlock[] = [];
    message.content.forEach((part, partIndex) => {
      const where = `messages[${messageIndex}].content[${partIndex}]`;
      switch (part.type) {
        case "text":
          pushText(content, part);
          return;
        case "image": {
          const image = convertImage(part, where, warnings);
          if (image) content.push({ image });
          return;
        }
        case "tool_call":
          toolNames.add(part.name);
          content.push({ toolUse: { toolUseId: part.id, name: part.name, input: parseArguments(part.arguments, where, warnings) } });
          return;
        case "tool_result":
          content.push({
            toolResult: {
              toolUseId: part.toolCallId,
              content: convertToolResultContent(part.content, where, warnings),
              ...(part.isError ? { status: "error" as const } : {}),
            },
          });
          return;
        case "reasoning":
          if (part.signature === undefined) {
            warnings.push({ parameter: where, message: "Reasoning without a signature cannot be sent back to Bedrock; it was dropped." });
          } else {
            content.push({ reasoningContent: { reasoningText: { text: part.text, signature: part.signature } } });
          }
          return;
      }
    });
    if (content.length === 0) return;
    const previous = messages[messages.length - 1];
    if (previous && previous.role === role) previous.content = [...(previous.content ?? []), ...content];
    else messages.push({ role, content });
  });
  return { system, messages, toolNamesInHistory: [...toolNames] };
}

function pushText(content: ContentBlock[], part: TextPart): void {
  if (part.text !== "") content.push({ text: part.text });
  if (part.cacheBreakpoint) content.push(CACHE_POINT);
}

function convertToolResultContent(parts: Array<TextPart | ImagePart>, where: string, warnings: TranslationWarning[]): ToolResultContentBlock[] {
  const content: ToolResultContentBlock[] = [];
  parts.forEach((part, index) => {
    if (part.type === "text") {
      if (part.text !== "") content.push({ text: part.text });
      if (part.cacheBreakpoint) warnings.push({ parameter: `${where}.content[${index}]`, message: "Bedrock has no cache point inside tool results; the breakpoint was ignored." });
      return;
    }
    const image = convertImage(part, `${where}.content[${index}]`, warnings);
    if (image) content.push({ image });
  });
  return content;
}

/** Decodes a base64 or `data:` image; URL images and unsupported media types become warnings. */
function convertImage(part: ImagePart, where: string, warnings: TranslationWarning[]): ImageBlock | undefined {
  const inline = inlineImage(part.source);
  if (!inline) {
    warnings.push({ parameter: where, message: "Bedrock Converse takes image bytes, not image URLs; the image was dropped." });
    return undefined;
  }
  const format = IMAGE_FORMATS[inline.mediaType.toLowerCase()];
  if (!format) {
    warnings.push({ parameter: where, message: `Bedrock Converse takes png, jpeg, gif and webp images, not ${inline.mediaType}; the image was dropped.` });
    return undefined;
  }
  return { format, source: { bytes: Buffer.from(inline.data, "base64") } };
}

function inlineImage(source: ImageSource): { mediaType: string; data: string } | undefined {
  if (source.kind === "base64") return { mediaType: source.mediaType, data: source.data };
  const match = /^data:([^;,]+)(?:;[^;,=]+=[^;,]*)*;base64,(.*)$/s.exec(source.url);
  if (!match) return undefined;
  return { mediaType: match[1] ?? "", data: match[2] ?? "" };
}

/** Tool-call arguments (JSON text) → the `input` document; empty text is `{}`, invalid JSON is `{}` with a warning. */
function parseArguments(text: string, where: string, warnings: TranslationWarning[]): JsonValue {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    warnings.push({ parameter: where, message: "Tool-call arguments are not valid JSON; they were sent to Bedrock as an empty object." });
    return {};
  }
}

function convertTools(request: CanonicalRequest, toolNamesInHistory: string[], warnings: TranslationWarning[]): ToolConfiguration | undefined {
  const choice = request.toolChoice;
  const offered = request.tools ?? [];
  if (offered.length > 0 && choice?.type !== "none") {
    const tools: Tool[] = offered.map((tool) => ({
      toolSpec: { name: tool.name, ...(tool.description === undefined ? {} : { description: tool.description }), inputSchema: { json: tool.parameters } },
    }));
    const config: ToolConfiguration = { tools };
    if (choice?.type === "auto") config.toolChoice = { auto: {} };
    else if (choice?.type === "required") config.toolChoice = { any: {} };
    else if (choice?.type === "tool") config.toolChoice = { tool: { name: choice.name } };
    return config;
  }
  if (toolNamesInHistory.length === 0) return undefined;
  warnings.push({
    parameter: choice?.type === "none" ? "tool_choice" : "tools",
    message: "Bedrock Converse needs a tool list when the conversation holds tool calls; the tools used earlier were declared with empty schemas, and the model may call them.",
  });
  const declaredByName = new Map(offered.map((tool) => [tool.name, tool]));
  return {
    tools: toolNamesInHistory.map((name) => {
      const declared = declaredByName.get(name);
      return { toolSpec: { name, inputSchema: { json: declared ? declared.parameters : { type: "object", properties: {} } } } };
    }),
  };
}

function addTopK(additional: JsonObject, family: BedrockModelFamily, topK: number, warnings: TranslationWarning[]): void {
  if (family === "anthropic" || family === "mistral") additional.top_k = topK;
  else if (family === "nova" || family === "nova-2") additional.inferenceConfig = { topK };
  else warnings.push({ parameter: "top_k", message: "This Bedrock model family has no known top_k field; it was ignored." });
}

function addReasoning(
  additional: JsonObject,
  family: BedrockModelFamily,
  reasoning: NonNullable<CanonicalRequest["reasoning"]>,
  maxTokens: number | undefined,
  warnings: TranslationWarning[],
): void {
  const { effort, budgetTokens } = reasoning;
  if (effort === undefined && budgetTokens === undefined) return;
  if (family === "anthropic") {
    let budget = budgetTokens ?? THINKING_BUDGET_BY_EFFORT[effort ?? "medium"];
    if (maxTokens !== undefined && budget >= maxTokens) budget = maxTokens - 1;
    if (budget < MINIMUM_THINKING_BUDGET) {
      warnings.push({ parameter: "reasoning", message: `Anthropic models need a thinking budget of at least ${MINIMUM_THINKING_BUDGET} tokens below max_tokens; reasoning was not enabled.` });
      return;
    }
    additional.thinking = { type: "enabled", budget_tokens: budget };
    return;
  }
  if (family === "nova-2" || family === "openai") {
    const level = effortLevel(effort, budgetTokens);
    if (effort === undefined) warnings.push({ parameter: "reasoning", message: `This model takes an effort level, not a token budget; effort "${level}" was used.` });
    if (family === "nova-2") additional.reasoningConfig = { type: "enabled", maxReasoningEffort: level };
    else additional.reasoning_effort = level;
    return;
  }
  warnings.push({ parameter: "reasoning", message: "This Bedrock model family has no known reasoning control; it was ignored." });
}

/** An effort level for families with three levels; `minimal` is `low`, a budget maps by size. */
function effortLevel(effort: Effort | undefined, budgetTokens: number | undefined): "low" | "medium" | "high" {
  if (effort !== undefined) return effort === "minimal" ? "low" : effort;
  const budget = budgetTokens ?? 0;
  if (budget <= THINKING_BUDGET_BY_EFFORT.low) return "low";
  if (budget <= THINKING_BUDGET_BY_EFFORT.medium) return "medium";
  return "high";
}
