/**
 * Canonical request → Anthropic Messages request body (https://docs.anthropic.com/en/api/messages). Pure.
 *
 * Mapping notes:
 * - System messages are hoisted into `system` (text blocks, keeping cache breakpoints); one that came after
 *   the conversation started is reported, since its position is lost.
 * - `tool` messages become `tool_result` blocks in a user message; consecutive user-side messages (tool results
 *   and user text) merge into one user message, and consecutive assistant messages into one.
 * - Tool-call arguments (JSON text) become `tool_use.input` objects; text that is not a JSON object is sent
 *   as `{}` with a warning.
 * - `max_tokens` is required: without one, 4096 is sent (raised above a thinking budget) with a warning.
 * - Reasoning: a token budget (or an effort: minimal/low 1024, medium 2048, high 4096 tokens, as LiteLLM maps
 *   it) becomes `thinking: {type: "enabled", budget_tokens}` (≥ 1024, < max_tokens). With thinking on,
 *   Anthropic refuses `temperature` ≠ 1, `top_k`, `top_p` < 0.95 and forced tool use, so those are dropped
 *   (or relaxed to `auto`) with warnings (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking).
 * - `parallelToolCalls: false` → `tool_choice.disable_parallel_tool_use: true`.
 * - Cannot be honoured, so warnings: seed, presence/frequency penalty, JSON response formats, temperature above
 *   1 (clamped), reasoning text without a signature (Anthropic rejects unsigned thinking blocks).
 * - Images: http(s) URLs are sent as URL sources, `data:` URLs and base64 as base64 sources; inline images
 *   other than JPEG, PNG, GIF or WebP (the types Anthropic takes) are left out with a warning.
 * - Tool `input_schema` always has `type: "object"` (Anthropic requires it; OpenAI tools may omit it).
 * - Empty text parts and messages left empty are left out (Anthropic rejects empty text blocks).
 */
import type { CanonicalMessage, CanonicalRequest, ImageSource, TextPart, ToolResultPart, TranslationWarning } from "../../contracts/chat.js";
import { parseDataUrl, parseToolArguments } from "../shared/content.js";
import { WarningList } from "../shared/warnings.js";
import {
  ANTHROPIC_IMAGE_MEDIA_TYPES,
  type AnthropicAssistantBlock,
  type AnthropicImageBlock,
  type AnthropicImageMediaType,
  type AnthropicMessage,
  type AnthropicMessagesRequestBody,
  type AnthropicTextBlock,
  type AnthropicToolChoice,
  type AnthropicToolResultBlock,
  type AnthropicUserBlock,
} from "./wire.js";

/** `max_tokens` sent when the caller gave none. */
export const DEFAULT_MAX_TOKENS = 4096;
/** Anthropic's smallest thinking budget. */
export const MINIMUM_THINKING_BUDGET = 1024;

const EFFORT_BUDGETS = { minimal: 1024, low: 1024, medium: 2048, high: 4096 } as const;

function textBlock(part: TextPart): AnthropicTextBlock {
  const block: AnthropicTextBlock = { type: "text", text: part.text };
  if (part.cacheBreakpoint === true) block.cache_control = { type: "ephemeral" };
  return block;
}

/** Anthropic's name for an inline image's media type (`image/jpg` → `image/jpeg`), or null when it takes none such. */
function imageMediaType(mediaType: string): AnthropicImageMediaType | null {
  const normalized = mediaType.toLowerCase() === "image/jpg" ? "image/jpeg" : mediaType.toLowerCase();
  return ANTHROPIC_IMAGE_MEDIA_TYPES.find((candidate) => candidate === normalized) ?? null;
}

/** An image block, or null (and a warning) for an inline image of a type Anthropic refuses. */
function imageBlock(source: ImageSource, warnings: WarningList): AnthropicImageBlock | null {
  let inline: { mediaType: string; data: string } | null;
  if (source.kind === "base64") {
    inline = { mediaType: source.mediaType, data: source.data };
  } else {
    inline = parseDataUrl(source.url);
    if (inline === null) return { type: "image", source: { type: "url", url: source.url } };
  }
  const mediaType = imageMediaType(inline.mediaType);
  if (mediaType === null) {
    warnings.add("image", `Anthropic takes JPEG, PNG, GIF and WebP images only; an ${inline.mediaType} image was not sent`);
    return null;
  }
  return { type: "image", source: { type: "base64", media_type: mediaType, data: inline.data } };
}

function toolResultBlock(part: ToolResultPart, warnings: WarningList): AnthropicToolResultBlock {
  const content: Array<AnthropicTextBlock | AnthropicImageBlock> = [];
  for (const item of part.content) {
    if (item.type === "text") {
      if (item.text !== "") content.push(textBlock(item));
    } else {
      const image = imageBlock(item.source, warnings);
      if (image !== null) content.push(image);
    }
  }
  const block: AnthropicToolResultBlock = { type: "tool_result", tool_use_id: part.toolCallId };
  if (content.length > 0) block.content = content;
  if (part.isError === true) block.is_error = true;
  return block;
}

function userBlocks(message: CanonicalMessage, warnings: WarningList): AnthropicUserBlock[] {
  const blocks: AnthropicUserBlock[] = [];
  for (const part of message.content) {
    switch (part.type) {
      case "text":
        if (part.text !== "") blocks.push(textBlock(part));
        break;
      case "image": {
        const image = imageBlock(part.source, warnings);
        if (image !== null) blocks.push(image);
        break;
      }
      case "tool_result":
        blocks.push(toolResultBlock(part, warnings));
        break;
      default:
        warnings.add(`${message.role}.${part.type}`, `a ${part.type} part cannot appear in an Anthropic user message and was not sent`);
    }
  }
  return blocks;
}

function assistantBlocks(message: CanonicalMessage, warnings: WarningList): AnthropicAssistantBlock[] {
  const blocks: AnthropicAssistantBlock[] = [];
  for (const part of message.content) {
    switch (part.type) {
      case "text":
        if (part.text !== "") blocks.push(textBlock(part));
        break;
      case "reasoning":
        if (part.signature !== undefined && part.signature !== "") blocks.push({ type: "thinking", thinking: part.text, signature: part.signature });
        else warnings.add("reasoning", "Anthropic accepts only signed thinking blocks in the history; unsigned reasoning was not sent");
        break;
      case "tool_call": {
        const parsed = parseToolArguments(part.arguments);
        if (!parsed.ok) warnings.add("tool_calls.arguments", "tool-call arguments that are not a JSON object were sent to Anthropic as {}");
        blocks.push({ type: "tool_use", id: part.id, name: part.name, input: parsed.value });
        break;
      }
      default:
        warnings.add(`assistant.${part.type}`, `a ${part.type} part cannot appear in an Anthropic assistant message and was not sent`);
    }
  }
  return blocks;
}

/** System text blocks and the conversation, with same-role neighbours merged. */
function encodeConversation(messages: readonly CanonicalMessage[], warnings: WarningList): { system: AnthropicTextBlock[]; messages: AnthropicMessage[] } {
  const system: AnthropicTextBlock[] = [];
  const conversation: AnthropicMessage[] = [];
  let conversationStarted = false;
  for (const message of messages) {
    if (message.role === "system") {
      if (conversationStarted) warnings.add("messages.system", "Anthropic takes one system prompt; a system message from mid-conversation was moved into it");
      for (const part of message.content) if (part.type === "text" && part.text !== "") system.push(textBlock(part));
      continue;
    }
    conversationStarted = true;
    const previous = conversation[conversation.length - 1];
    if (message.role === "assistant") {
      const blocks = assistantBlocks(message, warnings);
      if (blocks.length === 0) continue;
      if (previous?.role === "assistant") previous.content.push(...blocks);
      else conversation.push({ role: "assistant", content: blocks });
    } else {
      const blocks = userBlocks(message, warnings);
      if (blocks.length === 0) continue;
      if (previous?.role === "user") previous.content.push(...blocks);
      else conversation.push({ role: "user", content: blocks });
    }
  }
  return { system, messages: conversation };
}

function encodeToolChoice(request: CanonicalRequest, thinking: boolean, warnings: WarningList): AnthropicToolChoice | undefined {
  let choice = request.toolChoice;
  if (thinking && (choice?.type === "required" || choice?.type === "tool")) {
    warnings.add("tool_choice", "Anthropic cannot force tool use while thinking; tool_choice was relaxed to auto");
    choice = { type: "auto" };
  }
  const disableParallel = request.parallelToolCalls === false;
  if (choice === undefined) return disableParallel ? { type: "auto", disable_parallel_tool_use: true } : undefined;
  switch (choice.type) {
    case "none":
      return { type: "none" };
    case "auto":
      return disableParallel ? { type: "auto", disable_parallel_tool_use: true } : { type: "auto" };
    case "required":
      return disableParallel ? { type: "any", disable_parallel_tool_use: true } : { type: "any" };
    case "tool":
      return disableParallel ? { type: "tool", name: choice.name, disable_parallel_tool_use: true } : { type: "tool", name: choice.name };
  }
}

/** The thinking budget asked for, in tokens, or undefined when the caller asked for no reasoning. */
function requestedThinkingBudget(request: CanonicalRequest, warnings: WarningList): number | undefined {
  const reasoning = request.reasoning;
  if (reasoning === undefined) return undefined;
  const budget = reasoning.budgetTokens ?? (reasoning.effort === undefined ? undefined : EFFORT_BUDGETS[reasoning.effort]);
  if (budget === undefined) return undefined;
  if (budget < MINIMUM_THINKING_BUDGET) {
    warnings.add("thinking.budget_tokens", `Anthropic's smallest thinking budget is ${MINIMUM_THINKING_BUDGET} tokens; it was raised`);
    return MINIMUM_THINKING_BUDGET;
  }
  return budget;
}

/**
 * Builds the Messages body for `request` (whose `model` is already the provider's model id).
 * Never throws; parameters it cannot honour come back as warnings.
 */
export function encodeMessagesRequest(request: CanonicalRequest): { body: AnthropicMessagesRequestBody; warnings: TranslationWarning[] } {
  const warnings = new WarningList();
  const { system, messages } = encodeConversation(request.messages, warnings);

  let thinkingBudget = requestedThinkingBudget(request, warnings);
  let maxTokens = request.maxTokens;
  if (maxTokens === undefined) {
    maxTokens = thinkingBudget !== undefined && thinkingBudget >= DEFAULT_MAX_TOKENS ? thinkingBudget + DEFAULT_MAX_TOKENS : DEFAULT_MAX_TOKENS;
    warnings.add("max_tokens", `Anthropic requires max_tokens; ${maxTokens} was sent`);
  } else if (thinkingBudget !== undefined && thinkingBudget >= maxTokens) {
    if (maxTokens - 1 >= MINIMUM_THINKING_BUDGET) {
      thinkingBudget = maxTokens - 1;
      warnings.add("thinking.budget_tokens", "Anthropic needs the thinking budget below max_tokens; it was lowered");
    } else {
      thinkingBudget = undefined;
      warnings.add("thinking", `max_tokens leaves no room for Anthropic's smallest thinking budget (${MINIMUM_THINKING_BUDGET}); thinking was not enabled`);
    }
  }
  const thinking = thinkingBudget !== undefined;

  const body: AnthropicMessagesRequestBody = { model: request.model, max_tokens: maxTokens, messages };
  if (system.length > 0) {
    const plain = system.length === 1 && system[0]?.cache_control === undefined;
    body.system = plain ? (system[0]?.text ?? "") : system;
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      input_schema: { ...tool.parameters, type: "object" },
    }));
    const toolChoice = encodeToolChoice(request, thinking, warnings);
    if (toolChoice !== undefined) body.tool_choice = toolChoice;
  } else if (request.toolChoice !== undefined && request.toolChoice.type !== "none" && request.toolChoice.type !== "auto") {
    warnings.add("tool_choice", "Anthropic takes tool_choice only with tools; without tools it was not sent");
  }
  if (thinkingBudget !== undefined) body.thinking = { type: "enabled", budget_tokens: thinkingBudget };

  if (request.temperature !== undefined) {
    if (thinking && request.temperature !== 1) {
      warnings.add("temperature", "Anthropic allows no temperature other than 1 with thinking; it was not sent");
    } else if (request.temperature > 1) {
      warnings.add("temperature", "Anthropic's temperature ranges from 0 to 1; it was clamped to 1");
      body.temperature = 1;
    } else {
      body.temperature = request.temperature;
    }
  }
  if (request.topP !== undefined) {
    if (thinking && request.topP < 0.95) warnings.add("top_p", "Anthropic allows top_p only from 0.95 to 1 with thinking; it was not sent");
    else body.top_p = request.topP;
  }
  if (request.topK !== undefined) {
    if (thinking) warnings.add("top_k", "Anthropic allows no top_k with thinking; it was not sent");
    else body.top_k = request.topK;
  }
  if (request.stopSequences !== undefined && request.stopSequences.length > 0) body.stop_sequences = request.stopSequences;
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  if (request.seed !== undefined) warnings.add("seed", "Anthropic has no seed; it was not sent");
  if (request.presencePenalty !== undefined) warnings.add("presence_penalty", "Anthropic has no presence penalty; it was not sent");
  if (request.frequencyPenalty !== undefined) warnings.add("frequency_penalty", "Anthropic has no frequency penalty; it was not sent");
  if (request.responseFormat !== undefined && request.responseFormat.type !== "text") {
    warnings.add("response_format", `Anthropic has no ${request.responseFormat.type} response format; it was not sent`);
  }
  if (request.stream) body.stream = true;
  return { body, warnings: warnings.toArray() };
}
