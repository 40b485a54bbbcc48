/**
 * Anthropic Messages request → canonical request (https://docs.anthropic.com/en/api/messages).
 *
 * - `system` (string or text blocks) becomes the first canonical `system` message.
 * - Content blocks map one to one: text, image (base64 or URL), `tool_use` → tool call (input serialised to JSON
 *   text), `tool_result` → tool result inside the user message (nested text/image content, `is_error`),
 *   `thinking` → reasoning with its signature.
 * - `cache_control` on a text block (also in `system`) sets `cacheBreakpoint`; on a `tool_result` it is put on the
 *   result's last text part. Breakpoints the canonical form cannot hold (on tools, images, tool calls, a TTL) are
 *   warnings.
 * - `max_tokens` is required (CF_VALIDATION_FAILED when missing); `thinking.budget_tokens` → reasoning budget;
 *   `output_config.effort` → reasoning effort; `metadata.user_id` → user; `tool_choice.disable_parallel_tool_use`
 *   → `parallelToolCalls: false`.
 */
import type { CanonicalMessage, CanonicalRequest, CanonicalTool, ContentPart, ImagePart, TextPart, ToolChoice, TranslationWarning } from "../../contracts/chat.js";
import type { DecodedRequest } from "../../contracts/client-api.js";
import { dropUndefined } from "../shared/json.js";
import { validateRequestBody, validationError } from "../shared/validation.js";
import { customToolSchema, messagesRequestSchema, type AnthropicMessage, type ContentBlock, type MessagesRequestBody } from "./schema.js";

type CacheControl = { type: "ephemeral"; ttl?: "5m" | "1h" | undefined } | null | undefined;
type TextBlock = Extract<ContentBlock, { type: "text" }>;
type ImageBlock = Extract<ContentBlock, { type: "image" }>;

/** Whether a block sets a breakpoint; a 1-hour TTL cannot be carried and is a warning. */
function hasBreakpoint(cacheControl: CacheControl, parameter: string, warnings: TranslationWarning[]): boolean {
  if (!cacheControl) return false;
  if (cacheControl.ttl === "1h") warnings.push({ parameter: `${parameter}.cache_control.ttl`, message: "the cache TTL is not carried; the provider's default (5 minutes) applies" });
  return true;
}

function convertText(block: TextBlock, parameter: string, warnings: TranslationWarning[]): TextPart {
  if (block.citations && block.citations.length > 0) warnings.push({ parameter: `${parameter}.citations`, message: "citations are not carried; ignored" });
  return hasBreakpoint(block.cache_control, parameter, warnings) ? { type: "text", text: block.text, cacheBreakpoint: true } : { type: "text", text: block.text };
}

function convertImage(block: ImageBlock, parameter: string, warnings: TranslationWarning[]): ImagePart {
  if (block.cache_control) warnings.push({ parameter: `${parameter}.cache_control`, message: "cache breakpoints on images are not carried; ignored" });
  switch (block.source.type) {
    case "base64":
      return { type: "image", source: { kind: "base64", mediaType: block.source.media_type, data: block.source.data } };
    case "url":
      return { type: "image", source: { kind: "url", url: block.source.url } };
    case "file":
      throw validationError(`${parameter}.source.file_id`, `Invalid value for '${parameter}.source.file_id': file ids are not supported; send the image as base64 or url.`);
  }
}

function convertBlock(block: ContentBlock, role: AnthropicMessage["role"], parameter: string, toolNames: Map<string, string>, warnings: TranslationWarning[]): ContentPart | null {
  const misplaced = () => validationError(`${parameter}.type`, `Invalid value for '${parameter}.type': a ${block.type} block is not allowed in a ${role} message.`);
  switch (block.type) {
    case "text":
      return convertText(block, parameter, warnings);
    case "image":
      if (role !== "user") throw misplaced();
      return convertImage(block, parameter, warnings);
    case "tool_use":
      if (role !== "assistant") throw misplaced();
      if (block.cache_control) warnings.push({ parameter: `${parameter}.cache_control`, message: "cache breakpoints on tool_use blocks are not carried; ignored" });
      if (block.caller !== undefined) warnings.push({ parameter: `${parameter}.caller`, message: "programmatic tool callers are not supported; ignored" });
      toolNames.set(block.id, block.name);
      return { type: "tool_call", id: block.id, name: block.name, arguments: JSON.stringify(block.input) };
    case "tool_result": {
      if (role !== "user") throw misplaced();
      const raw = block.content ?? [];
      const content: Array<TextPart | ImagePart> =
        typeof raw === "string"
          ? [{ type: "text", text: raw }]
          : raw.map((inner, index) => (inner.type === "text" ? convertText(inner, `${parameter}.content[${index}]`, warnings) : convertImage(inner, `${parameter}.content[${index}]`, warnings)));
      if (hasBreakpoint(block.cache_control, parameter, warnings)) {
        const lastText = content.findLast((part): part is TextPart => part.type === "text");
        if (lastText && content.at(-1) === lastText) lastText.cacheBreakpoint = true;
        else warnings.push({ parameter: `${parameter}.cache_control`, message: "a cache breakpoint after a tool result that does not end with text is not carried; ignored" });
      }
      return dropUndefined({ type: "tool_result" as const, toolCallId: block.tool_use_id, toolName: toolNames.get(block.tool_use_id), content, isError: block.is_error });
    }
    case "thinking":
      if (role !== "assistant") throw misplaced();
      return { type: "reasoning", text: block.thinking, signature: block.signature };
    case "redacted_thinking":
      warnings.push({ parameter, message: "redacted thinking blocks cannot be carried; dropped from the conversation" });
      return null;
  }
}

function convertMessages(messages: MessagesRequestBody["messages"], warnings: TranslationWarning[]): CanonicalMessage[] {
  const toolNames = new Map<string, string>();
  return messages.map((message, index): CanonicalMessage => {
    if (typeof message.content === "string") return { role: message.role, content: [{ type: "text", text: message.content }] };
    const content = message.content
      .map((block, blockIndex) => convertBlock(block, message.role, `messages[${index}].content[${blockIndex}]`, toolNames, warnings))
      .filter((part): part is ContentPart => part !== null);
    return { role: message.role, content };
  });
}

function convertSystem(system: MessagesRequestBody["system"], warnings: TranslationWarning[]): CanonicalMessage | null {
  if (system === undefined) return null;
  if (typeof system === "string") return system.length === 0 ? null : { role: "system", content: [{ type: "text", text: system }] };
  if (system.length === 0) return null;
  return { role: "system", content: system.map((block, index) => convertText(block, `system[${index}]`, warnings)) };
}

function convertTools(tools: MessagesRequestBody["tools"], warnings: TranslationWarning[]): CanonicalTool[] | undefined {
  if (!tools) return undefined;
  const converted: CanonicalTool[] = [];
  tools.forEach((tool, index) => {
    if (tool.type !== undefined && tool.type !== "custom") {
      warnings.push({ parameter: `tools[${index}]`, message: `server tool \`${tool.type}\` is not supported; ignored` });
      return;
    }
    const { data, warnings: toolWarnings } = validateRequestBody(customToolSchema, tool, ["tools", index]);
    warnings.push(...toolWarnings);
    if (data.cache_control) {
      warnings.push({ parameter: `tools[${index}].cache_control`, message: "cache breakpoints on tools are not carried (a breakpoint in system still caches the tool definitions); ignored" });
    }
    if (data.strict === true) warnings.push({ parameter: `tools[${index}].strict`, message: "strict tool schemas are not enforced; ignored" });
    converted.push(dropUndefined({ name: data.name, description: data.description, parameters: data.input_schema }));
  });
  return converted;
}

function convertToolChoice(choice: MessagesRequestBody["tool_choice"]): { toolChoice?: ToolChoice; parallelToolCalls?: boolean } {
  if (!choice) return {};
  const toolChoice: ToolChoice = choice.type === "any" ? { type: "required" } : choice.type === "tool" ? { type: "tool", name: choice.name } : { type: choice.type };
  const disable = choice.type === "none" ? undefined : choice.disable_parallel_tool_use;
  return disable === undefined ? { toolChoice } : { toolChoice, parallelToolCalls: !disable };
}

function convertReasoning(body: MessagesRequestBody, warnings: TranslationWarning[]): CanonicalRequest["reasoning"] {
  const reasoning: NonNullable<CanonicalRequest["reasoning"]> = {};
  if (body.thinking?.type === "enabled") reasoning.budgetTokens = body.thinking.budget_tokens;
  if (body.thinking?.type === "adaptive") warnings.push({ parameter: "thinking.type", message: "adaptive thinking cannot be expressed; use thinking.budget_tokens or output_config.effort" });
  if (body.thinking && "display" in body.thinking && body.thinking.display) warnings.push({ parameter: "thinking.display", message: "the thinking display mode is not carried; ignored" });
  const effort = body.output_config?.effort;
  if (effort === "xhigh" || effort === "max") {
    warnings.push({ parameter: "output_config.effort", message: `effort \`${effort}\` is sent as \`high\`, the highest effort every provider understands` });
    reasoning.effort = "high";
  } else if (effort) reasoning.effort = effort;
  return Object.keys(reasoning).length === 0 ? undefined : reasoning;
}

function unsupportedParameterWarnings(body: MessagesRequestBody): TranslationWarning[] {
  const warnings: TranslationWarning[] = [];
  const warn = (parameter: string, message: string) => warnings.push({ parameter, message });
  if (body.cache_control) warn("cache_control", "automatic prompt caching is not carried; set cache_control on blocks instead");
  if (body.service_tier !== undefined) warn("service_tier", "service tiers are chosen by the gateway's routing; ignored");
  if (body.container !== undefined) warn("container", "containers are not supported; ignored");
  if (body.mcp_servers !== undefined) warn("mcp_servers", "MCP servers are not supported; ignored");
  if (body.context_management !== undefined) warn("context_management", "context management is not supported; ignored");
  if (body.inference_geo !== undefined && body.inference_geo !== null) warn("inference_geo", "the inference region is chosen by the gateway's routing; ignored");
  if (body.speed !== undefined && body.speed !== null) warn("speed", "the speed mode is not carried; ignored");
  return warnings;
}

/**
 * Decodes and validates a Messages body.
 * @throws ClawfleetError CF_VALIDATION_FAILED with `details.param` naming the offending field (`max_tokens` when it
 *   is missing).
 */
export function decodeMessagesRequest(body: unknown): DecodedRequest {
  const { data, warnings } = validateRequestBody(messagesRequestSchema, body);
  warnings.push(...unsupportedParameterWarnings(data));
  const system = convertSystem(data.system, warnings);
  const messages = convertMessages(data.messages, warnings);
  const format = data.output_config?.format;
  const request: CanonicalRequest = dropUndefined({
    model: data.model,
    messages: system ? [system, ...messages] : messages,
    tools: convertTools(data.tools, warnings),
    ...convertToolChoice(data.tool_choice),
    maxTokens: data.max_tokens,
    temperature: data.temperature,
    topP: data.top_p,
    topK: data.top_k,
    stopSequences: data.stop_sequences,
    responseFormat: format ? { type: "json_schema" as const, name: "output", schema: format.schema } : undefined,
    reasoning: convertReasoning(data, warnings),
    stream: data.stream === true,
    user: data.metadata?.user_id ?? undefined,
  });
  return { request, warnings };
}
