/**
 * Canonical response → Anthropic `message` object (https://docs.anthropic.com/en/api/messages#response).
 *
 * Text → `text` blocks, reasoning → `thinking` blocks (signature `""` when the provider gave none), tool calls →
 * `tool_use` blocks whose `input` is the parsed arguments (`{}` when the model's arguments are not a JSON object,
 * since Anthropic's `input` must be one).
 */
import type { CanonicalResponse, JsonObject } from "../../contracts/chat.js";
import { parseArgumentsObject } from "../shared/json.js";
import { encodeAnthropicStopReason } from "./finish-reason.js";
import { encodeAnthropicUsage } from "./usage.js";

/** The `message` body; `model` is the model id the caller asked for. */
export function encodeMessagesResponse(response: CanonicalResponse, model: string): JsonObject {
  const content = response.content.map((part): JsonObject => {
    switch (part.type) {
      case "text":
        return { type: "text", text: part.text };
      case "reasoning":
        return { type: "thinking", thinking: part.text, signature: part.signature ?? "" };
      case "tool_call":
        return { type: "tool_use", id: part.id, name: part.name, input: parseArgumentsObject(part.arguments) ?? {} };
    }
  });
  const stopReason = encodeAnthropicStopReason(response.finishReason, response.stopSequence);
  return {
    id: response.id,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === "stop_sequence" ? (response.stopSequence ?? null) : null,
    usage: encodeAnthropicUsage(response.usage),
  };
}
