/**
 * OpenAI Chat Completions request → canonical request
 * (https://platform.openai.com/docs/api-reference/chat/create).
 *
 * - `system` and `developer` messages become canonical `system` messages.
 * - `role: "tool"` messages become canonical `tool` messages with one tool result (its `toolName` looked up from the
 *   assistant tool call it answers).
 * - `image_url` parts become image parts; base64 `data:` URLs become inline base64.
 * - `max_completion_tokens` wins over the deprecated `max_tokens`; `safety_identifier` stands in for `user`.
 * - Parameters the canonical form cannot carry (`n > 1`, `logprobs`, `logit_bias`, `audio`, …) become warnings.
 */
import type { CanonicalMessage, CanonicalRequest, CanonicalTool, ContentPart, ImagePart, ResponseFormat, TextPart, ToolChoice, TranslationWarning } from "../../contracts/chat.js";
import type { DecodedRequest } from "../../contracts/client-api.js";
import { imageSourceFromUrl } from "../shared/images.js";
import { dropUndefined, isPlainObject } from "../shared/json.js";
import { canonicalReasoningEffort } from "../shared/reasoning-effort.js";
import { validateRequestBody } from "../shared/validation.js";
import { chatRequestSchema, type ChatMessage, type ChatRequestBody } from "./schema.js";

type TextContent = string | Array<{ type: "text"; text: string }>;

function textParts(content: TextContent): TextPart[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content.map((part) => ({ type: "text", text: part.text }));
}

/** Converts messages in order; `toolNames` maps tool call ids seen so far to their function names. */
function convertMessage(message: ChatMessage, index: number, toolNames: Map<string, string>, warnings: TranslationWarning[]): CanonicalMessage {
  if (message.role !== "tool" && message.name !== undefined) {
    warnings.push({ parameter: `messages[${index}].name`, message: "participant names are not carried; ignored" });
  }
  switch (message.role) {
    case "system":
    case "developer":
      return { role: "system", content: textParts(message.content) };
    case "user": {
      if (typeof message.content === "string") return { role: "user", content: [{ type: "text", text: message.content }] };
      const content = message.content.map((part, partIndex): TextPart | ImagePart => {
        if (part.type === "text") return { type: "text", text: part.text };
        if (part.image_url.detail !== undefined && part.image_url.detail !== "auto") {
          warnings.push({ parameter: `messages[${index}].content[${partIndex}].image_url.detail`, message: "image detail is not carried; the provider's default applies" });
        }
        return { type: "image", source: imageSourceFromUrl(part.image_url.url) };
      });
      return { role: "user", content };
    }
    case "assistant": {
      const content: ContentPart[] = [];
      if (message.reasoning_content) content.push({ type: "reasoning", text: message.reasoning_content });
      if (typeof message.content === "string") {
        if (message.content.length > 0) content.push({ type: "text", text: message.content });
      } else if (message.content) {
        for (const part of message.content) content.push({ type: "text", text: part.type === "text" ? part.text : part.refusal });
      }
      if (message.refusal && !message.content) content.push({ type: "text", text: message.refusal });
      for (const call of message.tool_calls ?? []) {
        toolNames.set(call.id, call.function.name);
        content.push({ type: "tool_call", id: call.id, name: call.function.name, arguments: call.function.arguments });
      }
      if (message.audio !== undefined && message.audio !== null) warnings.push({ parameter: `messages[${index}].audio`, message: "audio replies are not supported; ignored" });
      if (message.function_call !== undefined && message.function_call !== null) {
        warnings.push({ parameter: `messages[${index}].function_call`, message: "the deprecated function_call is not supported (use tool_calls); ignored" });
      }
      return { role: "assistant", content };
    }
    case "tool": {
      const toolName = toolNames.get(message.tool_call_id);
      return {
        role: "tool",
        content: [dropUndefined({ type: "tool_result" as const, toolCallId: message.tool_call_id, toolName, content: textParts(message.content) })],
      };
    }
  }
}

function convertTools(tools: ChatRequestBody["tools"], warnings: TranslationWarning[]): CanonicalTool[] | undefined {
  if (!tools) return undefined;
  return tools.map((tool, index) => {
    if (tool.function.strict === true) warnings.push({ parameter: `tools[${index}].function.strict`, message: "strict tool schemas are not enforced; ignored" });
    return dropUndefined({ name: tool.function.name, description: tool.function.description, parameters: tool.function.parameters ?? { type: "object", properties: {} } });
  });
}

function convertToolChoice(choice: ChatRequestBody["tool_choice"]): ToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (typeof choice === "string") return { type: choice };
  return { type: "tool", name: choice.function.name };
}

function convertResponseFormat(format: ChatRequestBody["response_format"], warnings: TranslationWarning[]): ResponseFormat | undefined {
  if (!format) return undefined;
  if (format.type !== "json_schema") return { type: format.type };
  const { name, schema, strict, description } = format.json_schema;
  if (description !== undefined) warnings.push({ parameter: "response_format.json_schema.description", message: "schema descriptions are not carried; ignored" });
  return dropUndefined({ type: "json_schema" as const, name, schema: schema ?? {}, strict: strict ?? undefined });
}

/** Warnings for accepted parameters that the canonical form cannot carry, when set to a non-default value. */
function unsupportedParameterWarnings(body: ChatRequestBody): TranslationWarning[] {
  const warnings: TranslationWarning[] = [];
  const warn = (parameter: string, message: string) => warnings.push({ parameter, message });
  if (body.n !== undefined && body.n !== null && body.n > 1) warn("n", "only one choice is generated (n = 1)");
  if (body.logprobs === true) warn("logprobs", "log probabilities are not returned");
  if (body.top_logprobs !== undefined && body.top_logprobs !== null) warn("top_logprobs", "log probabilities are not returned");
  if (body.logit_bias && Object.keys(body.logit_bias).length > 0) warn("logit_bias", "logit bias is not supported; ignored");
  if (body.audio !== undefined && body.audio !== null) warn("audio", "audio output is not supported; ignored");
  if (body.modalities && body.modalities.some((modality) => modality !== "text")) warn("modalities", "only text output is supported");
  if (body.prediction !== undefined && body.prediction !== null) warn("prediction", "predicted outputs are not supported; ignored");
  if (body.service_tier !== undefined && body.service_tier !== null) warn("service_tier", "service tiers are chosen by the gateway's routing; ignored");
  if (body.store === true) warn("store", "the gateway does not store completions; ignored");
  if (body.metadata && Object.keys(body.metadata).length > 0) warn("metadata", "metadata is not forwarded; ignored");
  if (body.verbosity !== undefined && body.verbosity !== null) warn("verbosity", "verbosity is not supported; ignored");
  if (body.web_search_options !== undefined && body.web_search_options !== null) warn("web_search_options", "built-in web search is not supported; ignored");
  if (body.prompt_cache_key !== undefined && body.prompt_cache_key !== null) warn("prompt_cache_key", "prompt cache keys are not forwarded; ignored");
  if (body.prompt_cache_retention !== undefined && body.prompt_cache_retention !== null) warn("prompt_cache_retention", "prompt cache retention is not forwarded; ignored");
  if (body.functions !== undefined) warn("functions", "the deprecated functions parameter is not supported (use tools); ignored");
  if (body.function_call !== undefined) warn("function_call", "the deprecated function_call parameter is not supported (use tool_choice); ignored");
  if (body.stream_options?.include_obfuscation !== undefined) warn("stream_options.include_obfuscation", "stream obfuscation is not supported; ignored");
  if (body.max_tokens && body.max_completion_tokens && body.max_tokens !== body.max_completion_tokens) {
    warn("max_tokens", "both max_tokens and max_completion_tokens are set; max_completion_tokens applies");
  }
  if (body.user !== undefined && body.safety_identifier) warn("safety_identifier", "both user and safety_identifier are set; user applies");
  return warnings;
}

/**
 * Decodes and validates a Chat Completions body.
 * @throws ClawfleetError CF_VALIDATION_FAILED with `details.param` naming the offending field.
 */
export function decodeChatRequest(body: unknown): DecodedRequest {
  const { data, warnings } = validateRequestBody(chatRequestSchema, body);
  warnings.push(...unsupportedParameterWarnings(data));
  const toolNames = new Map<string, string>();
  const messages = data.messages.map((message, index) => convertMessage(message, index, toolNames, warnings));
  const stop = data.stop ?? undefined;
  const reasoning = data.reasoning_effort ? canonicalReasoningEffort(data.reasoning_effort, "reasoning_effort", warnings) : undefined;
  const request: CanonicalRequest = dropUndefined({
    model: data.model,
    messages,
    tools: convertTools(data.tools, warnings),
    toolChoice: convertToolChoice(data.tool_choice),
    parallelToolCalls: data.parallel_tool_calls ?? undefined,
    maxTokens: data.max_completion_tokens ?? data.max_tokens ?? undefined,
    temperature: data.temperature ?? undefined,
    topP: data.top_p ?? undefined,
    stopSequences: stop === undefined ? undefined : typeof stop === "string" ? [stop] : stop,
    seed: data.seed ?? undefined,
    presencePenalty: data.presence_penalty ?? undefined,
    frequencyPenalty: data.frequency_penalty ?? undefined,
    responseFormat: convertResponseFormat(data.response_format, warnings),
    reasoning,
    stream: data.stream === true,
    user: data.user ?? data.safety_identifier ?? undefined,
  });
  return { request, warnings };
}

/**
 * Whether a Chat Completions body asked for a usage chunk at the end of a stream (`stream_options.include_usage`).
 * The pipeline passes this to `createStreamEncoder(model, {includeUsage})`; malformed bodies give `false`.
 */
export function chatStreamIncludesUsage(body: unknown): boolean {
  if (!isPlainObject(body) || !isPlainObject(body.stream_options)) return false;
  return body.stream_options.include_usage === true;
}
