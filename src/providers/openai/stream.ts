/**
 * OpenAI Chat Completions SSE stream → canonical stream events
 * (https://platform.openai.com/docs/api-reference/chat-streaming). Pure and incremental: feed body chunks as
 * they arrive (split anywhere), get events back.
 *
 * Wire: `data: <chunk JSON>` events, then `data: [DONE]`. The first chunk carries the role; content, reasoning
 * (`reasoning_content` / `reasoning` on compatible servers) and tool-call fragments follow (`tool_calls[].index`
 * names the call; its first fragment has `id` and `function.name`); `finish_reason` arrives on a late chunk,
 * and with `stream_options.include_usage` a last chunk with `choices: []` carries `usage`. Comments (`: …`)
 * and other event names are ignored.
 *
 * Output: `start`; blocks numbered in order of appearance (a new block closes the previous one with
 * `block_end`); then `finish` at `[DONE]`. Failures become one `error` event and the decoder ignores the rest:
 * a payload that is not JSON or not a chunk (status 502, `invalid_response`), an in-stream `{"error": …}`
 * (status from its type), and a stream that ends with neither `[DONE]` nor a finish reason (502,
 * `incomplete_stream`). A stream that ends after a finish reason but without `[DONE]` still finishes normally.
 */
import type { CanonicalUsage, FinishReason, StreamEvent } from "../../contracts/chat.js";
import { type ServerSentEvent, ServerSentEventParser } from "../shared/server-sent-events.js";
import { decodeOpenAIStreamError } from "./errors.js";
import { decodeOpenAIFinishReason } from "./finish-reason.js";
import { decodeOpenAIUsage } from "./usage.js";
import { type OpenAIChunk, openAIChunkSchema } from "./wire.js";

type BlockKind = "text" | "reasoning" | "tool";

/** Values used when the first chunk lacks them (some compatible servers omit `id` or `created`). */
export interface StreamFallbacks {
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
  model: string;
}

export class OpenAIStreamDecoder {
  private readonly parser = new ServerSentEventParser();
  private state: "waiting" | "streaming" | "done" = "waiting";
  private openBlock: { index: number; kind: BlockKind } | null = null;
  private nextIndex = 0;
  private readonly toolBlocks = new Map<number, number>();
  private finishReason: FinishReason | null = null;
  private usage: CanonicalUsage | null = null;

  constructor(private readonly fallbacks: StreamFallbacks) {}

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
    if (this.finishReason !== null) {
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
      if (serverEvent.event !== "message" && serverEvent.event !== "error") continue;
      this.handleData(serverEvent.data, events);
    }
    return events;
  }

  private fail(events: StreamEvent[], message: string): void {
    this.state = "done";
    events.push({ type: "error", status: 502, errorType: "invalid_response", message });
  }

  private handleData(data: string, events: StreamEvent[]): void {
    if (data.trim() === "[DONE]") {
      this.finish(events);
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(data) as unknown;
    } catch {
      this.fail(events, `the upstream sent a stream line that is not JSON: ${data.slice(0, 200)}`);
      return;
    }
    if (typeof payload === "object" && payload !== null && "error" in payload && (payload as { error: unknown }).error != null) {
      this.state = "done";
      events.push(decodeOpenAIStreamError(payload));
      return;
    }
    const parsed = openAIChunkSchema.safeParse(payload);
    if (!parsed.success) {
      this.fail(events, `the upstream sent a stream chunk of an unknown shape: ${data.slice(0, 200)}`);
      return;
    }
    this.handleChunk(parsed.data, events);
  }

  private handleChunk(chunk: OpenAIChunk, events: StreamEvent[]): void {
    if (this.state === "waiting") {
      this.state = "streaming";
      events.push({
        type: "start",
        id: chunk.id ?? this.fallbacks.id,
        model: chunk.model ?? this.fallbacks.model,
        createdAt: chunk.created ?? this.fallbacks.createdAt,
      });
    }
    const choice = chunk.choices?.find((candidate) => (candidate.index ?? 0) === 0);
    const delta = choice?.delta;
    if (delta !== null && delta !== undefined) {
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === "string" && reasoning !== "") events.push({ type: "reasoning_delta", index: this.blockFor("reasoning", events), text: reasoning });
      const text = delta.content ?? delta.refusal;
      if (typeof text === "string" && text !== "") events.push({ type: "text_delta", index: this.blockFor("text", events), text });
      (delta.tool_calls ?? []).forEach((call, position) => {
        const toolIndex = call.index ?? position;
        let index = this.toolBlocks.get(toolIndex);
        if (index === undefined) {
          index = this.openNewBlock("tool", events);
          this.toolBlocks.set(toolIndex, index);
          events.push({ type: "tool_call_start", index, id: call.id ?? `call_${toolIndex}`, name: call.function?.name ?? "" });
        }
        const argumentsDelta = call.function?.arguments;
        if (typeof argumentsDelta === "string" && argumentsDelta !== "") events.push({ type: "tool_call_delta", index, argumentsDelta });
      });
    }
    if (choice?.finish_reason !== null && choice?.finish_reason !== undefined) this.finishReason = decodeOpenAIFinishReason(choice.finish_reason);
    const usage = decodeOpenAIUsage(chunk.usage);
    if (usage !== null) this.usage = usage;
  }

  /** Index of the open block of `kind`, opening one (and closing the previous block) when needed. */
  private blockFor(kind: "text" | "reasoning", events: StreamEvent[]): number {
    if (this.openBlock !== null && this.openBlock.kind === kind) return this.openBlock.index;
    return this.openNewBlock(kind, events);
  }

  private openNewBlock(kind: BlockKind, events: StreamEvent[]): number {
    this.closeOpenBlock(events);
    const index = this.nextIndex;
    this.nextIndex += 1;
    this.openBlock = { index, kind };
    return index;
  }

  private closeOpenBlock(events: StreamEvent[]): void {
    if (this.openBlock === null) return;
    events.push({ type: "block_end", index: this.openBlock.index });
    this.openBlock = null;
  }

  private finish(events: StreamEvent[]): void {
    if (this.state === "waiting") {
      events.push({ type: "start", id: this.fallbacks.id, model: this.fallbacks.model, createdAt: this.fallbacks.createdAt });
    }
    this.closeOpenBlock(events);
    this.state = "done";
    events.push({ type: "finish", finishReason: this.finishReason ?? "other", usage: this.usage });
  }
}
