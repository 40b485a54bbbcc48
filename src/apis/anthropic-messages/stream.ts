/**
 * Canonical stream events → Anthropic Messages server-sent events
 * (https://docs.anthropic.com/en/api/messages-streaming), each `event: <type>\ndata: <json>\n\n`.
 *
 * - `start` → `message_start` (empty content, zero usage: the real counts come with `message_delta`).
 * - A block → `content_block_start` (`text` / `thinking` / `tool_use` with `input: {}`), then
 *   `content_block_delta`s (`text_delta`, `thinking_delta` + `signature_delta`, `input_json_delta`), then
 *   `content_block_stop`. Anthropic block indexes count from 0 in order of appearance.
 * - `finish` → closes open blocks, `message_delta` (`stop_reason`, `stop_sequence`, cumulative `usage` with
 *   `input_tokens` excluding cache reads/writes, the cache fields and `output_tokens`), `message_stop`.
 * - `error` → `event: error` with `{type: "error", error: {type, message}}`; nothing after it.
 *
 * Blocks are expected one after another: a block that starts closes any block still open.
 */
import { EMPTY_USAGE, type JsonObject, type StreamEvent } from "../../contracts/chat.js";
import type { StreamEncoder } from "../../contracts/client-api.js";
import { sseEvent } from "../shared/sse.js";
import { anthropicStreamErrorPayload } from "./errors.js";
import { encodeAnthropicStopReason } from "./finish-reason.js";
import { encodeAnthropicUsage } from "./usage.js";

type BlockKind = "text" | "thinking" | "tool_use";

export class MessagesStreamEncoder implements StreamEncoder {
  /** Canonical block index → Anthropic block index and kind. */
  private readonly blocks = new Map<number, { index: number; kind: BlockKind }>();
  private readonly openBlocks = new Set<number>();
  private ended = false;

  /** @param model the model id reported in `message_start` (the one the caller asked for) */
  constructor(private readonly model: string) {}

  private closeBlocks(except?: number): string {
    let text = "";
    for (const index of [...this.openBlocks]) {
      if (index === except) continue;
      this.openBlocks.delete(index);
      text += sseEvent("content_block_stop", { type: "content_block_stop", index });
    }
    return text;
  }

  /** The Anthropic index for canonical block `canonicalIndex`, starting the block (and closing others) if new. */
  private ensureBlock(canonicalIndex: number, kind: BlockKind, contentBlock: JsonObject): { index: number; kind: BlockKind; text: string } {
    const known = this.blocks.get(canonicalIndex);
    if (known) return { index: known.index, kind: known.kind, text: "" };
    const index = this.blocks.size;
    this.blocks.set(canonicalIndex, { index, kind });
    const text = this.closeBlocks() + sseEvent("content_block_start", { type: "content_block_start", index, content_block: contentBlock });
    this.openBlocks.add(index);
    return { index, kind, text };
  }

  private delta(index: number, delta: JsonObject): string {
    return sseEvent("content_block_delta", { type: "content_block_delta", index, delta });
  }

  /** The SSE text for one event ("" when the event has no wire form, or after the stream ended). */
  encode(event: StreamEvent): string {
    if (this.ended) return "";
    switch (event.type) {
      case "start":
        return sseEvent("message_start", {
          type: "message_start",
          message: {
            id: event.id,
            type: "message",
            role: "assistant",
            model: this.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: encodeAnthropicUsage(EMPTY_USAGE),
          },
        });
      case "text_delta": {
        const block = this.ensureBlock(event.index, "text", { type: "text", text: "" });
        if (block.kind !== "text" || event.text.length === 0) return block.text;
        return block.text + this.delta(block.index, { type: "text_delta", text: event.text });
      }
      case "reasoning_delta": {
        const block = this.ensureBlock(event.index, "thinking", { type: "thinking", thinking: "", signature: "" });
        let text = block.text;
        if (block.kind !== "thinking") return text;
        if (event.text.length > 0) text += this.delta(block.index, { type: "thinking_delta", thinking: event.text });
        if (event.signature !== undefined) text += this.delta(block.index, { type: "signature_delta", signature: event.signature });
        return text;
      }
      case "tool_call_start":
        return this.ensureBlock(event.index, "tool_use", { type: "tool_use", id: event.id, name: event.name, input: {} }).text;
      case "tool_call_delta": {
        const block = this.blocks.get(event.index);
        if (!block || block.kind !== "tool_use" || event.argumentsDelta.length === 0) return "";
        return this.delta(block.index, { type: "input_json_delta", partial_json: event.argumentsDelta });
      }
      case "block_end": {
        const block = this.blocks.get(event.index);
        if (!block || !this.openBlocks.has(block.index)) return "";
        this.openBlocks.delete(block.index);
        return sseEvent("content_block_stop", { type: "content_block_stop", index: block.index });
      }
      case "finish": {
        this.ended = true;
        const stopReason = encodeAnthropicStopReason(event.finishReason, event.stopSequence);
        return (
          this.closeBlocks() +
          sseEvent("message_delta", {
            type: "message_delta",
            delta: { stop_reason: stopReason, stop_sequence: stopReason === "stop_sequence" ? (event.stopSequence ?? null) : null },
            usage: encodeAnthropicUsage(event.usage ?? EMPTY_USAGE),
          }) +
          sseEvent("message_stop", { type: "message_stop" })
        );
      }
      case "error":
        this.ended = true;
        return sseEvent("error", anthropicStreamErrorPayload(event));
    }
  }
}
