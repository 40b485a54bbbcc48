/**
 * Ollama `/api/chat` answer (`stream: false`) → canonical response. Pure. Content order: reasoning
 * (`message.thinking`), text, tool calls. Ollama's tool calls have no ids (newer servers may send one, which is
 * kept); the others get stable ids `call_<n>`, n counting the answer's tool calls from 0. Ollama sends no answer
 * id, so the caller passes `id`; `createdAt` comes from `created_at` (ISO 8601), else the caller's `now`.
 */
import type { CanonicalResponse, ToolCallPart } from "../../contracts/chat.js";
import { decodeOllamaDoneReason } from "./finish-reason.js";
import { decodeOllamaUsage } from "./usage.js";
import { type OllamaChatResponse, ollamaChatResponseSchema } from "./wire.js";

/** Why a body could not be read; the adapter turns it into `CF_UPSTREAM_ERROR`. */
export class OllamaResponseFormatError extends Error {
  override readonly name = "OllamaResponseFormatError";
}

type OllamaToolCalls = NonNullable<NonNullable<OllamaChatResponse["message"]>["tool_calls"]>;

/** Canonical tool calls; `firstNumber` numbers the generated ids (`call_<n>`). */
export function decodeOllamaToolCalls(calls: OllamaToolCalls, firstNumber: number): ToolCallPart[] {
  return calls.map((call, position) => {
    const argumentsValue = call.function.arguments;
    const argumentsText = typeof argumentsValue === "string" ? argumentsValue : JSON.stringify(argumentsValue ?? {});
    return { type: "tool_call", id: call.id ?? `call_${firstNumber + position}`, name: call.function.name, arguments: argumentsText };
  });
}

/** Seconds since the epoch from Ollama's `created_at`, or `fallback` when absent or unparseable. */
export function decodeCreatedAt(createdAt: string | null | undefined, fallback: number): number {
  const milliseconds = createdAt == null ? Number.NaN : Date.parse(createdAt);
  return Number.isNaN(milliseconds) ? fallback : Math.floor(milliseconds / 1000);
}

/**
 * Decodes a parsed answer. `identity.createdAt`: seconds since the epoch, used when `created_at` is missing.
 * @throws OllamaResponseFormatError when the body is not a chat answer.
 */
export function decodeOllamaChatResponse(body: unknown, identity: { id: string; createdAt: number }): CanonicalResponse {
  const parsed = ollamaChatResponseSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OllamaResponseFormatError(`not a chat answer (${issue?.path.join(".") ?? "body"}: ${issue?.message ?? "invalid"})`);
  }
  const answer = parsed.data;
  const content: CanonicalResponse["content"] = [];
  const thinking = answer.message?.thinking;
  if (typeof thinking === "string" && thinking !== "") content.push({ type: "reasoning", text: thinking });
  const text = answer.message?.content;
  if (typeof text === "string" && text !== "") content.push({ type: "text", text });
  const toolCalls = decodeOllamaToolCalls(answer.message?.tool_calls ?? [], 0);
  content.push(...toolCalls);
  return {
    id: identity.id,
    model: answer.model,
    content,
    finishReason: decodeOllamaDoneReason(answer.done_reason, toolCalls.length > 0),
    usage: decodeOllamaUsage(answer),
    createdAt: decodeCreatedAt(answer.created_at, identity.createdAt),
  };
}
