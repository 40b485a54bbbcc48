/**
 * Canonical response → Chat Completions `chat.completion` object
 * (https://platform.openai.com/docs/api-reference/chat/object).
 *
 * Text parts are joined into `message.content` (null when the answer is only tool calls); tool calls become
 * `message.tool_calls`. Reasoning has no field in OpenAI's API: it is returned as `message.reasoning_content`, the
 * field DeepSeek, vLLM and LiteLLM use, which OpenAI's SDK passes through untouched.
 */
import type { CanonicalResponse, JsonObject } from "../../contracts/chat.js";
import { encodeChatFinishReason } from "./finish-reason.js";
import { encodeChatUsage } from "./usage.js";

/** The `chat.completion` body; `model` is the model id the caller asked for. */
export function encodeChatResponse(response: CanonicalResponse, model: string): JsonObject {
  let text = "";
  let reasoning = "";
  const toolCalls: JsonObject[] = [];
  for (const part of response.content) {
    if (part.type === "text") text += part.text;
    else if (part.type === "reasoning") reasoning += part.text;
    else toolCalls.push({ id: part.id, type: "function", function: { name: part.name, arguments: part.arguments } });
  }
  const message: JsonObject = { role: "assistant", content: text.length === 0 && toolCalls.length > 0 ? null : text, refusal: null, annotations: [] };
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: response.id,
    object: "chat.completion",
    created: response.createdAt,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: encodeChatFinishReason(response.finishReason) }],
    usage: encodeChatUsage(response.usage),
  };
}
