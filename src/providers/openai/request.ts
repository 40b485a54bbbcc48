/**
 * Canonical request → OpenAI Chat Completions request body
 * (https://platform.openai.com/docs/api-reference/chat/create). Pure.
 *
 * Mapping notes:
 * - Tool results inside a user message (how Anthropic callers send them) become `role: "tool"` messages placed
 *   before the rest of that user message, since OpenAI wants them right after the assistant's tool calls.
 * - `stream_options: {include_usage: true}` is sent with every streamed request, and never otherwise (OpenAI
 *   rejects `stream_options` without `stream`).
 * - Not expressible in Chat Completions, so reported as warnings: reasoning text in the history, a reasoning
 *   budget in tokens, cache breakpoints (OpenAI caches prompts automatically), images inside tool results, the
 *   error flag of a tool result, and `top_k` unless the server supports it (`supportsTopK`, e.g. vLLM).
 */
import type { CanonicalMessage, CanonicalRequest, ContentPart, ImageSource, ToolResultPart, TranslationWarning } from "../../contracts/chat.js";
import { WarningList } from "../shared/warnings.js";
import type { OpenAIChatRequestBody, OpenAIContentPart, OpenAIMessage, OpenAIToolCall, OpenAIToolChoice } from "./wire.js";

/** What an OpenAI-compatible server accepts beyond the common subset. */
export interface OpenAIRequestOptions {
  /**
   * Field for the output limit: `max_completion_tokens` (OpenAI's current name, required by its reasoning
   * models; default) or `max_tokens` (older compatible servers).
   */
  maxTokensField?: "max_tokens" | "max_completion_tokens";
  /** The server accepts `top_k` (vLLM, Together do; OpenAI does not). Default false. */
  supportsTopK?: boolean;
}

function imageUrl(source: ImageSource): string {
  return source.kind === "url" ? source.url : `data:${source.mediaType};base64,${source.data}`;
}

function toolMessage(part: ToolResultPart, warnings: WarningList): OpenAIMessage {
  const texts: string[] = [];
  for (const item of part.content) {
    if (item.type === "text") texts.push(item.text);
    else warnings.add("tool_result.image", "OpenAI tool messages carry text only; images in tool results were not sent");
    if (item.type === "text" && item.cacheBreakpoint === true) warnings.add("cache_control", "OpenAI caches prompts automatically; cache breakpoints were ignored");
  }
  if (part.isError === true) warnings.add("tool_result.is_error", "OpenAI tool messages have no error flag; the result was sent as plain content");
  return { role: "tool", tool_call_id: part.toolCallId, content: texts.join("\n") };
}

function userMessages(content: ContentPart[], warnings: WarningList): OpenAIMessage[] {
  const messages: OpenAIMessage[] = [];
  const parts: OpenAIContentPart[] = [];
  for (const part of content) {
    switch (part.type) {
      case "text":
        if (part.cacheBreakpoint === true) warnings.add("cache_control", "OpenAI caches prompts automatically; cache breakpoints were ignored");
        parts.push({ type: "text", text: part.text });
        break;
      case "image":
        parts.push({ type: "image_url", image_url: { url: imageUrl(part.source) } });
        break;
      case "tool_result":
        messages.push(toolMessage(part, warnings));
        break;
      default:
        warnings.add(`user.${part.type}`, `a ${part.type} part cannot appear in an OpenAI user message and was not sent`);
    }
  }
  if (parts.length > 0) {
    const onlyText = parts.every((part) => part.type === "text");
    messages.push({ role: "user", content: onlyText ? parts.map((part) => (part.type === "text" ? part.text : "")).join("\n") : parts });
  }
  return messages;
}

function assistantMessage(content: ContentPart[], warnings: WarningList): OpenAIMessage {
  const texts: string[] = [];
  const toolCalls: OpenAIToolCall[] = [];
  for (const part of content) {
    switch (part.type) {
      case "text":
        if (part.cacheBreakpoint === true) warnings.add("cache_control", "OpenAI caches prompts automatically; cache breakpoints were ignored");
        texts.push(part.text);
        break;
      case "tool_call":
        toolCalls.push({ id: part.id, type: "function", function: { name: part.name, arguments: part.arguments } });
        break;
      case "reasoning":
        warnings.add("reasoning_content", "OpenAI Chat Completions takes no reasoning in the history; it was not sent");
        break;
      default:
        warnings.add(`assistant.${part.type}`, `a ${part.type} part cannot appear in an OpenAI assistant message and was not sent`);
    }
  }
  const message: OpenAIMessage = { role: "assistant", content: texts.length === 0 ? null : texts.join("") };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

function encodeMessage(message: CanonicalMessage, warnings: WarningList): OpenAIMessage[] {
  switch (message.role) {
    case "system": {
      const texts: string[] = [];
      for (const part of message.content) {
        if (part.type !== "text") continue;
        if (part.cacheBreakpoint === true) warnings.add("cache_control", "OpenAI caches prompts automatically; cache breakpoints were ignored");
        texts.push(part.text);
      }
      return [{ role: "system", content: texts.join("\n") }];
    }
    case "user":
      return userMessages(message.content, warnings);
    case "tool":
      return message.content.flatMap((part) => (part.type === "tool_result" ? [toolMessage(part, warnings)] : []));
    case "assistant":
      return [assistantMessage(message.content, warnings)];
  }
}

function encodeToolChoice(choice: NonNullable<CanonicalRequest["toolChoice"]>): OpenAIToolChoice {
  return choice.type === "tool" ? { type: "function", function: { name: choice.name } } : choice.type;
}

/**
 * Builds the Chat Completions body for `request` (whose `model` is already the provider's model id).
 * Never throws; parameters it cannot express come back as warnings.
 */
export function encodeChatRequest(request: CanonicalRequest, options: OpenAIRequestOptions = {}): { body: OpenAIChatRequestBody; warnings: TranslationWarning[] } {
  const warnings = new WarningList();
  const body: OpenAIChatRequestBody = { model: request.model, messages: request.messages.flatMap((message) => encodeMessage(message, warnings)) };
  if (request.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      function: { name: tool.name, ...(tool.description === undefined ? {} : { description: tool.description }), parameters: tool.parameters },
    }));
  }
  if (request.toolChoice !== undefined) body.tool_choice = encodeToolChoice(request.toolChoice);
  if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  if (request.maxTokens !== undefined) body[options.maxTokensField ?? "max_completion_tokens"] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.topK !== undefined) {
    if (options.supportsTopK === true) body.top_k = request.topK;
    else warnings.add("top_k", "this OpenAI-compatible provider does not support top_k; it was not sent");
  }
  if (request.stopSequences !== undefined && request.stopSequences.length > 0) body.stop = request.stopSequences;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.presencePenalty !== undefined) body.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) body.frequency_penalty = request.frequencyPenalty;
  if (request.responseFormat !== undefined) {
    const format = request.responseFormat;
    body.response_format =
      format.type === "json_schema"
        ? { type: "json_schema", json_schema: { name: format.name, schema: format.schema, ...(format.strict === undefined ? {} : { strict: format.strict }) } }
        : { type: format.type };
  }
  if (request.reasoning !== undefined) {
    if (request.reasoning.effort !== undefined) body.reasoning_effort = request.reasoning.effort;
    if (request.reasoning.budgetTokens !== undefined) {
      warnings.add("thinking.budget_tokens", "OpenAI takes a reasoning effort, not a token budget; the budget was not sent");
    }
  }
  if (request.user !== undefined) body.user = request.user;
  return { body, warnings: warnings.toArray() };
}
