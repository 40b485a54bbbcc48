/**
 * OpenAI Chat Completions response body → canonical response
 * (https://platform.openai.com/docs/api-reference/chat/object). Pure. Reads the first choice (the gateway
 * never asks for `n > 1`). Content order: reasoning (compatible servers' `reasoning_content` / `reasoning`),
 * text (a `refusal` is text too), then tool calls.
 */
import type { CanonicalResponse } from "../../contracts/chat.js";
import { EMPTY_USAGE } from "../../contracts/chat.js";
import { decodeOpenAIFinishReason } from "./finish-reason.js";
import { decodeOpenAIUsage } from "./usage.js";
import { openAIChatCompletionSchema } from "./wire.js";

/** Why a body could not be read; the adapter turns it into `CF_UPSTREAM_ERROR`. */
export class OpenAIResponseFormatError extends Error {
  override readonly name = "OpenAIResponseFormatError";
}

/**
 * Decodes a parsed response body.
 * @throws OpenAIResponseFormatError when the body is not a chat completion (no choices, wrong types).
 */
export function decodeChatCompletion(body: unknown): CanonicalResponse {
  const parsed = openAIChatCompletionSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OpenAIResponseFormatError(`not a chat completion (${issue?.path.join(".") ?? "body"}: ${issue?.message ?? "invalid"})`);
  }
  const completion = parsed.data;
  const choice = completion.choices[0];
  const message = choice?.message;
  const content: CanonicalResponse["content"] = [];
  const reasoning = message?.reasoning_content ?? message?.reasoning;
  if (typeof reasoning === "string" && reasoning !== "") content.push({ type: "reasoning", text: reasoning });
  const text = message?.content ?? message?.refusal;
  if (typeof text === "string" && text !== "") content.push({ type: "text", text });
  for (const call of message?.tool_calls ?? []) {
    content.push({ type: "tool_call", id: call.id, name: call.function.name, arguments: call.function.arguments ?? "" });
  }
  return {
    id: completion.id,
    model: completion.model,
    content,
    finishReason: decodeOpenAIFinishReason(choice?.finish_reason),
    usage: decodeOpenAIUsage(completion.usage) ?? { ...EMPTY_USAGE },
    createdAt: completion.created,
  };
}
