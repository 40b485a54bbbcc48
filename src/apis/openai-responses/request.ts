/**
 * OpenAI Responses request → canonical request (https://platform.openai.com/docs/api-reference/responses/create).
 *
 * - `instructions` becomes the first canonical `system` message; `system`/`developer` message items become
 *   `system` messages; a string `input` is one user message.
 * - Assistant-side items (assistant messages, `function_call`, `reasoning`) that follow each other are merged into
 *   one canonical assistant message, so a turn's tool calls sit together before their results.
 * - `function_call_output` becomes a canonical `tool` message (its `toolName` looked up from the call).
 * - `reasoning` items are replayed as reasoning parts: their text, and `encrypted_content` as the signature
 *   (the gateway puts an Anthropic thinking signature there when it answers).
 * - The gateway is stateless: `previous_response_id`, `conversation`, `item_reference`, `background` and stored
 *   `prompt`s are CF_VALIDATION_FAILED errors; `store: true` and built-in tools are warnings.
 */
import type { CanonicalMessage, CanonicalRequest, CanonicalTool, ContentPart, ImagePart, ResponseFormat, TextPart, ToolChoice, TranslationWarning } from "../../contracts/chat.js";
import type { DecodedRequest } from "../../contracts/client-api.js";
import { imageSourceFromUrl } from "../shared/images.js";
import { dropUndefined } from "../shared/json.js";
import { canonicalReasoningEffort } from "../shared/reasoning-effort.js";
import { validateRequestBody, validationError } from "../shared/validation.js";
import { functionToolChoiceSchema, functionToolSchema, responsesRequestSchema, type InputItem, type ResponsesRequestBody } from "./schema.js";

const STATELESS = "this gateway is stateless and stores no responses or conversations; send the whole conversation in `input`";

type MessageItem = Extract<InputItem, { type: "message" }>;
type MessageContentPart = Exclude<MessageItem["content"], string>[number];

function convertImage(part: { image_url?: string | null | undefined; file_id?: string | null | undefined; detail?: string | undefined }, parameter: string, warnings: TranslationWarning[]): ImagePart {
  if (!part.image_url) {
    if (part.file_id) throw validationError(`${parameter}.file_id`, `Invalid value for '${parameter}.file_id': file ids are not supported (${STATELESS}); send the image as image_url.`);
    throw validationError(`${parameter}.image_url`, `Missing required parameter: '${parameter}.image_url'.`);
  }
  if (part.detail !== undefined && part.detail !== "auto") warnings.push({ parameter: `${parameter}.detail`, message: "image detail is not carried; the provider's default applies" });
  return { type: "image", source: imageSourceFromUrl(part.image_url) };
}

function convertMessageContent(item: MessageItem, parameter: string, warnings: TranslationWarning[]): Array<TextPart | ImagePart> {
  if (typeof item.content === "string") return [{ type: "text", text: item.content }];
  return item.content.map((part: MessageContentPart, index): TextPart | ImagePart => {
    const partParameter = `${parameter}.content[${index}]`;
    switch (part.type) {
      case "input_text":
      case "output_text":
        return { type: "text", text: part.text };
      case "refusal":
        return { type: "text", text: part.refusal };
      case "input_image":
        if (item.role !== "user") throw validationError(`${partParameter}.type`, `Invalid value for '${partParameter}.type': only user messages may carry images.`);
        return convertImage(part, partParameter, warnings);
    }
  });
}

/** Appends assistant-side parts to the last message when it is an assistant message, else starts one. */
function appendAssistant(messages: CanonicalMessage[], parts: ContentPart[]): void {
  const last = messages.at(-1);
  if (last?.role === "assistant") last.content.push(...parts);
  else messages.push({ role: "assistant", content: parts });
}

function convertInput(input: ResponsesRequestBody["input"], warnings: TranslationWarning[]): CanonicalMessage[] {
  if (typeof input === "string") return [{ role: "user", content: [{ type: "text", text: input }] }];
  const messages: CanonicalMessage[] = [];
  const toolNames = new Map<string, string>();
  input.forEach((item, index) => {
    const parameter = `input[${index}]`;
    switch (item.type) {
      case "message": {
        const content = convertMessageContent(item, parameter, warnings);
        if (item.role === "assistant") appendAssistant(messages, content);
        else messages.push({ role: item.role === "user" ? "user" : "system", content });
        return;
      }
      case "function_call":
        toolNames.set(item.call_id, item.name);
        appendAssistant(messages, [{ type: "tool_call", id: item.call_id, name: item.name, arguments: item.arguments }]);
        return;
      case "reasoning": {
        const texts = item.content && item.content.length > 0 ? item.content.map((part) => part.text) : item.summary.map((part) => part.text);
        appendAssistant(messages, [dropUndefined({ type: "reasoning" as const, text: texts.join("\n\n"), signature: item.encrypted_content ?? undefined })]);
        return;
      }
      case "function_call_output": {
        const content =
          typeof item.output === "string"
            ? [{ type: "text" as const, text: item.output }]
            : item.output.map((part, partIndex): TextPart | ImagePart => (part.type === "input_text" ? { type: "text", text: part.text } : convertImage(part, `${parameter}.output[${partIndex}]`, warnings)));
        messages.push({ role: "tool", content: [dropUndefined({ type: "tool_result" as const, toolCallId: item.call_id, toolName: toolNames.get(item.call_id), content })] });
        return;
      }
      case "item_reference":
        throw validationError(`${parameter}.type`, `Invalid value for '${parameter}.type': item references are not supported (${STATELESS}).`);
    }
  });
  return messages;
}

function convertTools(tools: ResponsesRequestBody["tools"], warnings: TranslationWarning[]): CanonicalTool[] | undefined {
  if (!tools) return undefined;
  const converted: CanonicalTool[] = [];
  tools.forEach((tool, index) => {
    if (tool.type !== "function") {
      warnings.push({ parameter: `tools[${index}]`, message: `built-in tool \`${tool.type}\` is not supported; ignored` });
      return;
    }
    const { data, warnings: toolWarnings } = validateRequestBody(functionToolSchema, tool, ["tools", index]);
    warnings.push(...toolWarnings);
    if (data.strict === true) warnings.push({ parameter: `tools[${index}].strict`, message: "strict tool schemas are not enforced; ignored" });
    converted.push(dropUndefined({ name: data.name, description: data.description ?? undefined, parameters: data.parameters ?? { type: "object", properties: {} } }));
  });
  return converted;
}

function convertToolChoice(choice: ResponsesRequestBody["tool_choice"], warnings: TranslationWarning[]): ToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (typeof choice === "string") return { type: choice };
  if (choice.type === "function") {
    const { data, warnings: choiceWarnings } = validateRequestBody(functionToolChoiceSchema, choice, ["tool_choice"]);
    warnings.push(...choiceWarnings);
    return { type: "tool", name: data.name };
  }
  warnings.push({ parameter: "tool_choice", message: `tool_choice \`${choice.type}\` is not supported; the provider's default (auto) applies` });
  return undefined;
}

function convertTextFormat(text: ResponsesRequestBody["text"], warnings: TranslationWarning[]): ResponseFormat | undefined {
  if (text?.verbosity !== undefined && text.verbosity !== null) warnings.push({ parameter: "text.verbosity", message: "verbosity is not supported; ignored" });
  const format = text?.format;
  if (!format) return undefined;
  if (format.type !== "json_schema") return { type: format.type };
  if (format.description !== undefined) warnings.push({ parameter: "text.format.description", message: "schema descriptions are not carried; ignored" });
  return dropUndefined({ type: "json_schema" as const, name: format.name, schema: format.schema, strict: format.strict ?? undefined });
}

/** Errors for state the gateway does not keep; warnings for accepted parameters it cannot honour. */
function checkUnsupportedParameters(body: ResponsesRequestBody, warnings: TranslationWarning[]): void {
  if (body.previous_response_id) {
    throw validationError("previous_response_id", `Invalid value for 'previous_response_id': previous_response_id is not supported because ${STATELESS}.`);
  }
  if (body.conversation !== undefined && body.conversation !== null) {
    throw validationError("conversation", `Invalid value for 'conversation': conversations are not supported because ${STATELESS}.`);
  }
  if (body.background === true) throw validationError("background", `Invalid value for 'background': background responses are not supported because ${STATELESS}.`);
  if (body.prompt !== undefined && body.prompt !== null) throw validationError("prompt", "Invalid value for 'prompt': stored prompt templates are not supported; send instructions and input.");
  const warn = (parameter: string, message: string) => warnings.push({ parameter, message });
  if (body.store === true) warn("store", "the gateway does not store responses (store is treated as false)");
  for (const value of body.include ?? []) {
    if (value !== "reasoning.encrypted_content") warn("include", `include \`${value}\` is not supported; ignored`);
  }
  if (body.metadata && Object.keys(body.metadata).length > 0) warn("metadata", "metadata is not forwarded; ignored");
  if (body.truncation === "auto") warn("truncation", "automatic truncation is not supported; a too-long input fails");
  if (body.service_tier !== undefined && body.service_tier !== null) warn("service_tier", "service tiers are chosen by the gateway's routing; ignored");
  if (body.top_logprobs !== undefined && body.top_logprobs !== null) warn("top_logprobs", "log probabilities are not returned");
  if (body.max_tool_calls !== undefined && body.max_tool_calls !== null) warn("max_tool_calls", "a limit on built-in tool calls does not apply; ignored");
  if (body.prompt_cache_key !== undefined && body.prompt_cache_key !== null) warn("prompt_cache_key", "prompt cache keys are not forwarded; ignored");
  if (body.prompt_cache_retention !== undefined && body.prompt_cache_retention !== null) warn("prompt_cache_retention", "prompt cache retention is not forwarded; ignored");
  if (body.stream_options?.include_obfuscation === true) warn("stream_options.include_obfuscation", "stream obfuscation is not supported; ignored");
  for (const key of ["summary", "generate_summary"] as const) {
    const value = body.reasoning?.[key];
    if (value !== undefined && value !== null && value !== "auto") warn(`reasoning.${key}`, "the reasoning summary level cannot be chosen; reasoning is returned as the provider gives it");
  }
  if (body.user !== undefined && body.safety_identifier) warn("safety_identifier", "both user and safety_identifier are set; user applies");
}

/**
 * Decodes and validates a Responses body.
 * @throws ClawfleetError CF_VALIDATION_FAILED with `details.param` naming the offending field (also for the
 *   stateful features listed above).
 */
export function decodeResponsesRequest(body: unknown): DecodedRequest {
  const { data, warnings } = validateRequestBody(responsesRequestSchema, body);
  checkUnsupportedParameters(data, warnings);
  const messages = convertInput(data.input, warnings);
  if (data.instructions) messages.unshift({ role: "system", content: [{ type: "text", text: data.instructions }] });
  if (messages.length === 0) throw validationError("input", "Invalid value for 'input': the input has no items.");
  const effort = data.reasoning?.effort;
  const request: CanonicalRequest = dropUndefined({
    model: data.model,
    messages,
    tools: convertTools(data.tools, warnings),
    toolChoice: convertToolChoice(data.tool_choice, warnings),
    parallelToolCalls: data.parallel_tool_calls ?? undefined,
    maxTokens: data.max_output_tokens ?? undefined,
    temperature: data.temperature ?? undefined,
    topP: data.top_p ?? undefined,
    responseFormat: convertTextFormat(data.text, warnings),
    reasoning: effort ? canonicalReasoningEffort(effort, "reasoning.effort", warnings) : undefined,
    stream: data.stream === true,
    user: data.user ?? data.safety_identifier ?? undefined,
  });
  return { request, warnings };
}
