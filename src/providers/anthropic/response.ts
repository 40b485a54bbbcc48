/**
 * Anthropic Messages response body → canonical response (https://docs.anthropic.com/en/api/messages). Pure.
 * Content blocks: `text` → text, `thinking` → reasoning (with its signature), `tool_use` → a tool call whose
 * arguments are `input` as JSON text. `redacted_thinking` and server-tool blocks have no canonical form and are
 * left out (a same-API caller gets them through pass-through). Anthropic sends no creation time: the caller
 * passes `createdAt`.
 */
import type { CanonicalResponse } from "../../contracts/chat.js";
import { decodeAnthropicStopReason } from "./finish-reason.js";
import { decodeAnthropicUsage } from "./usage.js";
import { type AnthropicContentBlock, anthropicMessageSchema } from "./wire.js";

/** Why a body could not be read; the adapter turns it into `CF_UPSTREAM_ERROR`. */
export class AnthropicResponseFormatError extends Error {
  override readonly name = "AnthropicResponseFormatError";
}

/** A response content block in canonical form, or null for block types with none. */
export function decodeContentBlock(block: AnthropicContentBlock): CanonicalResponse["content"][number] | null {
  switch (block.type) {
    case "text":
      return { type: "text", text: block.text ?? "" };
    case "thinking":
      return block.signature == null ? { type: "reasoning", text: block.thinking ?? "" } : { type: "reasoning", text: block.thinking ?? "", signature: block.signature };
    case "tool_use":
      return { type: "tool_call", id: block.id ?? "", name: block.name ?? "", arguments: JSON.stringify(block.input ?? {}) };
    default:
      return null;
  }
}

/**
 * Decodes a parsed Messages response. `createdAt`: seconds since the epoch.
 * @throws AnthropicResponseFormatError when the body is not a message.
 */
export function decodeMessagesResponse(body: unknown, createdAt: number): CanonicalResponse {
  const parsed = anthropicMessageSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AnthropicResponseFormatError(`not a message (${issue?.path.join(".") ?? "body"}: ${issue?.message ?? "invalid"})`);
  }
  const message = parsed.data;
  const content: CanonicalResponse["content"] = [];
  for (const block of message.content) {
    const decoded = decodeContentBlock(block);
    if (decoded !== null) content.push(decoded);
  }
  const response: CanonicalResponse = {
    id: message.id,
    model: message.model,
    content,
    finishReason: decodeAnthropicStopReason(message.stop_reason),
    usage: decodeAnthropicUsage(message.usage),
    createdAt,
  };
  if (message.stop_sequence != null) response.stopSequence = message.stop_sequence;
  return response;
}
