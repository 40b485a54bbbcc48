/**
 * Canonical request → Ollama `POST /api/chat` body
 * (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion). Pure.
 *
 * Mapping notes:
 * - Message content is one string (text parts joined by "\n"); images go in `images` as bare base64 (a
 *   `data:` URL is unwrapped; an http(s) URL cannot be sent, so it is dropped with a warning).
 * - Tool results become `role: "tool"` messages with `tool_name` (Ollama has no call ids): the name is the
 *   result's own, else the one of the matching call in the history.
 * - Tool-call arguments (JSON text) become objects; text that is not a JSON object is sent as `{}` with a warning.
 * - Sampling goes in `options` (`temperature`, `top_p`, `top_k`, `seed`, `stop`, `num_predict`,
 *   `presence_penalty`, `frequency_penalty`); `json_object` → `format: "json"`, `json_schema` → `format: <schema>`.
 * - `toolChoice: none` is honoured by offering no tools; `required` / a named tool / `parallelToolCalls: false`
 *   cannot be, so they are warnings. Reasoning becomes `think: true` (an effort or budget is reported, since
 *   Ollama's switch is on/off). Also warnings: `user`, cache breakpoints, images or the error flag in tool results.
 */
import type { CanonicalMessage, CanonicalRequest, ContentPart, ImageSource, ToolResultPart, TranslationWarning } from "../../contracts/chat.js";
import { parseDataUrl, parseToolArguments } from "../shared/content.js";
import { WarningList } from "../shared/warnings.js";
import type { OllamaChatRequestBody, OllamaMessage, OllamaOptions, OllamaToolCall } from "./wire.js";

function imageData(source: ImageSource, warnings: WarningList): string | null {
  if (source.kind === "base64") return source.data;
  const inline = parseDataUrl(source.url);
  if (inline !== null) return inline.data;
  warnings.add("image_url", "Ollama takes base64 images only; an image given by URL was not sent");
  return null;
}

function noteCacheBreakpoints(parts: readonly ContentPart[], warnings: WarningList): void {
  for (const part of parts) {
    if (part.type === "text" && part.cacheBreakpoint === true) warnings.add("cache_control", "Ollama has no prompt-cache breakpoints; they were ignored");
  }
}

/** Tool name of every tool call in the history, by call id (the latest call wins when ids repeat). */
function toolNamesById(messages: readonly CanonicalMessage[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const message of messages) {
    for (const part of message.content) if (part.type === "tool_call") names.set(part.id, part.name);
  }
  return names;
}

function toolMessage(part: ToolResultPart, toolNames: Map<string, string>, warnings: WarningList): OllamaMessage {
  noteCacheBreakpoints(part.content, warnings);
  const texts: string[] = [];
  for (const item of part.content) {
    if (item.type === "text") texts.push(item.text);
    else warnings.add("tool_result.image", "Ollama tool messages carry text only; images in tool results were not sent");
  }
  if (part.isError === true) warnings.add("tool_result.is_error", "Ollama tool messages have no error flag; the result was sent as plain content");
  const message: OllamaMessage = { role: "tool", content: texts.join("\n") };
  const name = part.toolName ?? toolNames.get(part.toolCallId);
  if (name !== undefined) message.tool_name = name;
  return message;
}

function encodeMessage(message: CanonicalMessage, toolNames: Map<string, string>, warnings: WarningList): OllamaMessage[] {
  noteCacheBreakpoints(message.content, warnings);
  const texts: string[] = [];
  const images: string[] = [];
  const thinking: string[] = [];
  const toolCalls: OllamaToolCall[] = [];
  const toolResults: OllamaMessage[] = [];
  for (const part of message.content) {
    switch (part.type) {
      case "text":
        texts.push(part.text);
        break;
      case "image": {
        const data = imageData(part.source, warnings);
        if (data !== null) images.push(data);
        break;
      }
      case "tool_result":
        toolResults.push(toolMessage(part, toolNames, warnings));
        break;
      case "reasoning":
        thinking.push(part.text);
        break;
      case "tool_call": {
        const parsed = parseToolArguments(part.arguments);
        if (!parsed.ok) warnings.add("tool_calls.arguments", "tool-call arguments that are not a JSON object were sent to Ollama as {}");
        toolCalls.push({ function: { name: part.name, arguments: parsed.value } });
        break;
      }
    }
  }
  if (message.role === "tool") return toolResults;
  const encoded: OllamaMessage = { role: message.role, content: texts.join("\n") };
  if (images.length > 0) encoded.images = images;
  if (message.role === "assistant") {
    if (thinking.length > 0) encoded.thinking = thinking.join("\n");
    if (toolCalls.length > 0) encoded.tool_calls = toolCalls;
  }
  const hasContent = texts.length > 0 || images.length > 0 || thinking.length > 0 || toolCalls.length > 0;
  return hasContent || toolResults.length === 0 ? [...toolResults, encoded] : toolResults;
}

/**
 * Builds the `/api/chat` body for `request` (whose `model` is already the provider's model id).
 * Never throws; parameters it cannot honour come back as warnings.
 */
export function encodeOllamaChatRequest(request: CanonicalRequest): { body: OllamaChatRequestBody; warnings: TranslationWarning[] } {
  const warnings = new WarningList();
  const toolNames = toolNamesById(request.messages);
  const body: OllamaChatRequestBody = {
    model: request.model,
    messages: request.messages.flatMap((message) => encodeMessage(message, toolNames, warnings)),
    stream: request.stream,
  };
  const offerTools = request.tools !== undefined && request.tools.length > 0 && request.toolChoice?.type !== "none";
  if (offerTools && request.tools !== undefined) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      function: { name: tool.name, ...(tool.description === undefined ? {} : { description: tool.description }), parameters: tool.parameters },
    }));
    if (request.toolChoice?.type === "required" || request.toolChoice?.type === "tool") {
      warnings.add("tool_choice", "Ollama cannot force tool use; the model may answer without calling a tool");
    }
    if (request.parallelToolCalls === false) warnings.add("parallel_tool_calls", "Ollama cannot limit the model to one tool call per turn");
  }
  const options: OllamaOptions = {};
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.topP !== undefined) options.top_p = request.topP;
  if (request.topK !== undefined) options.top_k = request.topK;
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.stopSequences !== undefined && request.stopSequences.length > 0) options.stop = request.stopSequences;
  if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;
  if (request.presencePenalty !== undefined) options.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) options.frequency_penalty = request.frequencyPenalty;
  if (Object.keys(options).length > 0) body.options = options;
  if (request.responseFormat?.type === "json_object") body.format = "json";
  else if (request.responseFormat?.type === "json_schema") body.format = request.responseFormat.schema;
  if (request.reasoning !== undefined) {
    body.think = true;
    if (request.reasoning.effort !== undefined || request.reasoning.budgetTokens !== undefined) {
      warnings.add("reasoning_effort", "Ollama's thinking is on or off; it was turned on, without an effort or budget");
    }
  }
  if (request.user !== undefined) warnings.add("user", "Ollama takes no end-user id; it was not sent");
  return { body, warnings: warnings.toArray() };
}
