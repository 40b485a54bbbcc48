/**
 * Anthropic Messages SSE stream → canonical stream events
 * (https://docs.anthropic.com/en/api/messages-streaming). Pure and incremental: feed body chunks as they arrive
 * (split anywhere), get events back.
 *
 * Wire: `message_start` (id, model, input usage), then per content block `content_block_start`,
 * `content_block_delta`s (`text_delta`, `input_json_delta`, `thinking_delta`, `signature_delta`) and
 * `content_block_stop`; then `message_delta` (stop reason, cumulative usage) and `message_stop`. `ping`s may come
 * anywhere; an `error` event may replace the rest (e.g. `overloaded_error`). Unknown event and delta types are
 * ignored, as Anthropic's versioning policy asks.
 *
 * Output: `start`; blocks renumbered from 0 in order (a text or thinking block opens with an empty delta so its
 * index exists even if no text follows; `signature_delta` becomes a `reasoning_delta` with `signature`;
 * blocks with no canonical form, like `redacted_thinking` or server tools, are skipped); `finish` at
 * `message_stop`. Failures become one `error` event: an upstream `error` (status from its type, 529 for
 * `overloaded_error`), data that is not JSON or not a known event's shape (502 `invalid_response`), and a
 * stream that ends before `message_stop` without a stop reason (502 `incomplete_stream`).
 */
import type { FinishReason, StreamEvent } from "../../contracts/chat.js";
import { type ServerSentEvent, ServerSentEventParser } from "../shared/server-sent-events.js";
import { decodeAnthropicStreamError } from "./errors.js";
import { decodeAnthropicStopReason } from "./finish-reason.js";
import { decodeAnthropicUsage, mergeAnthropicUsage } from "./usage.js";
import { type AnthropicStreamEvent, anthropicStreamEventSchema, type AnthropicUsage } from "./wire.js";

const KNOWN_EVENT_TYPES = new Set(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "ping", "error"]);

export class AnthropicStreamDecoder {
  private readonly parser = new ServerSentEventParser();
  private state: "waiting" | "streaming" | "done" = "waiting";
  /** Anthropic block index → canonical block index, for blocks that have a canonical form. */
  private readonly blocks = new Map<number, number>();
  private nextIndex = 0;
  private usage: AnthropicUsage | null = null;
  private stopReason: FinishReason | null = null;
  private stopSequence: string | null = null;

  /** @param createdAt seconds since the epoch, for the `start` event (Anthropic sends no time). */
  constructor(private readonly createdAt: number) {}

  /** Feeds one body chunk (bytes or text); returns the events it completes. */
  push(chunk: Uint8Array | string): StreamEvent[] {
    if (this.state === "done") return [];
    return this.handleEvents(typeof chunk === "string" ? this.parser.push(chunk) : this.parser.pushBytes(chunk));
  }

  /** The body ended: returns the last events (`finish`, or an `error` when the stream was cut short). */
  end(): StreamEvent[] {
    if (this.state === "done") return [];
    const events = this.handleEvents(this.parser.end());
    if (this.isDone()) return events;
    if (this.stopReason !== null) {
      this.finish(events);
      return events;
    }
    this.state = "done";
    events.push({ type: "error", status: 502, errorType: "incomplete_stream", message: "the upstream stream ended before the answer was complete" });
    return events;
  }

  private isDone(): boolean {
    return this.state === "done";
  }

  private handleEvents(serverEvents: ServerSentEvent[]): StreamEvent[] {
    const events: StreamEvent[] = [];
    for (const serverEvent of serverEvents) {
      if (this.state === "done") break;
      this.handleData(serverEvent.data, events);
    }
    return events;
  }

  private fail(events: StreamEvent[], message: string): void {
    this.state = "done";
    events.push({ type: "error", status: 502, errorType: "invalid_response", message });
  }

  private handleData(data: string, events: StreamEvent[]): void {
    let payload: unknown;
    try {
      payload = JSON.parse(data) as unknown;
    } catch {
      this.fail(events, `the upstream sent a stream event that is not JSON: ${data.slice(0, 200)}`);
      return;
    }
    const type = typeof payload === "object" && payload !== null ? (payload as { type?: unknown }).type : undefined;
    if (typeof type === "string" && !KNOWN_EVENT_TYPES.has(type)) return;
    const parsed = anthropicStreamEventSchema.safeParse(payload);
    if (!parsed.success) {
      this.fail(events, `the upstream sent a stream event of an unknown shape: ${data.slice(0, 200)}`);
      return;
    }
    this.handleEvent(parsed.data, events);
  }

  private handleEvent(event: AnthropicStreamEvent, events: StreamEvent[]): void {
    switch (event.type) {
      case "message_start":
        if (this.state === "waiting") {
          this.state = "streaming";
          events.push({ type: "start", id: event.message.id, model: event.message.model, createdAt: this.createdAt });
        }
        this.usage = mergeAnthropicUsage(this.usage, event.message.usage);
        return;
      case "content_block_start":
        this.startBlock(event, events);
        return;
      case "content_block_delta":
        this.delta(event, events);
        return;
      case "content_block_stop": {
        const index = this.blocks.get(event.index);
        if (index !== undefined) events.push({ type: "block_end", index });
        return;
      }
      case "message_delta":
        if (event.delta.stop_reason != null) this.stopReason = decodeAnthropicStopReason(event.delta.stop_reason);
        if (event.delta.stop_sequence != null) this.stopSequence = event.delta.stop_sequence;
        this.usage = mergeAnthropicUsage(this.usage, event.usage);
        return;
      case "message_stop":
        this.finish(events);
        return;
      case "ping":
        return;
      case "error":
        this.state = "done";
        events.push(decodeAnthropicStreamError(event.error));
        return;
    }
  }

  private startBlock(event: Extract<AnthropicStreamEvent, { type: "content_block_start" }>, events: StreamEvent[]): void {
    const block = event.content_block;
    if (block.type !== "text" && block.type !== "thinking" && block.type !== "tool_use") return;
    const index = this.nextIndex;
    this.nextIndex += 1;
    this.blocks.set(event.index, index);
    if (block.type === "text") {
      events.push({ type: "text_delta", index, text: block.text ?? "" });
    } else if (block.type === "thinking") {
      events.push({ type: "reasoning_delta", index, text: block.thinking ?? "" });
    } else {
      events.push({ type: "tool_call_start", index, id: block.id ?? "", name: block.name ?? "" });
      const input = block.input;
      if (typeof input === "object" && input !== null && Object.keys(input).length > 0) {
        events.push({ type: "tool_call_delta", index, argumentsDelta: JSON.stringify(input) });
      }
    }
  }

  private delta(event: Extract<AnthropicStreamEvent, { type: "content_block_delta" }>, events: StreamEvent[]): void {
    const index = this.blocks.get(event.index);
    if (index === undefined) return;
    const delta = event.delta;
    switch (delta.type) {
      case "text_delta":
        events.push({ type: "text_delta", index, text: delta.text ?? "" });
        return;
      case "input_json_delta":
        if (delta.partial_json != null && delta.partial_json !== "") events.push({ type: "tool_call_delta", index, argumentsDelta: delta.partial_json });
        return;
      case "thinking_delta":
        events.push({ type: "reasoning_delta", index, text: delta.thinking ?? "" });
        return;
      case "signature_delta":
        events.push({ type: "reasoning_delta", index, text: "", signature: delta.signature ?? "" });
        return;
      default:
        return;
    }
  }

  private finish(events: StreamEvent[]): void {
    this.state = "done";
    const finish: Extract<StreamEvent, { type: "finish" }> = {
      type: "finish",
      finishReason: this.stopReason ?? "other",
      usage: this.usage === null ? null : decodeAnthropicUsage(this.usage),
    };
    if (this.stopSequence !== null) finish.stopSequence = this.stopSequence;
    events.push(finish);
  }
}
