/**
 * Bedrock ConverseStream events → canonical {@link StreamEvent}s. Pure and stateful per stream: feed every
 * decoded event to `translate`, then call `end()` when the upstream stream is over (or `fail()` on an error).
 *
 * Upstream event order (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html):
 * `messageStart {role}`, per content block an optional `contentBlockStart {contentBlockIndex, start}` (only tool
 * uses, images and tool results have one; text and reasoning blocks start with their first delta), any
 * `contentBlockDelta {contentBlockIndex, delta: {text} | {toolUse: {input}} | {reasoningContent: {text} |
 * {signature} | {redactedContent}}}`, `contentBlockStop {contentBlockIndex}`, then `messageStop {stopReason,
 * additionalModelResponseFields}` and last `metadata {usage, metrics}`.
 *
 * Canonical output: `start` (on `messageStart`), block events with canonical indexes numbered 0, 1, 2… in order
 * of appearance (Bedrock's indexes are mapped, never trusted to be dense), `block_end` per opened block, and
 * `finish` once both `messageStop` and `metadata` arrived (usage from `metadata`), or at `end()` with what
 * arrived. A stream that ends without `messageStop` ends with an `error` event (502: truncated answer).
 * Redacted reasoning, citations and image deltas have no canonical form and are skipped.
 */
import type { ConverseStreamOutput } from "@aws-sdk/client-bedrock-runtime";
import type { CanonicalUsage, StreamEvent } from "../../contracts/chat.js";
import { fromBedrockStopReason } from "./finish-reason.js";
import type { ResponseIdentity } from "./response.js";
import { stopSequenceOf } from "./response.js";
import { fromBedrockUsage } from "./usage.js";

type BlockKind = "text" | "reasoning" | "tool_call";

interface OpenBlock {
  index: number;
  kind: BlockKind;
  ended: boolean;
}

/** Translates one ConverseStream answer; create one per stream. */
export class ConverseStreamTranslator {
  private readonly blocks = new Map<number, OpenBlock>();
  private nextIndex = 0;
  private started = false;
  private done = false;
  private stopReason: string | undefined;
  private stopSequence: string | undefined;
  private sawMessageStop = false;
  private usage: CanonicalUsage | null = null;

  constructor(private readonly identity: ResponseIdentity) {}

  /** True once `finish` or `error` was emitted: later events are ignored. */
  get finished(): boolean {
    return this.done;
  }

  /** Canonical events for one upstream event (possibly none). */
  translate(event: ConverseStreamOutput): StreamEvent[] {
    if (this.done) return [];
    const out: StreamEvent[] = [];
    if (event.messageStart) {
      this.ensureStarted(out);
    } else if (event.contentBlockStart) {
      this.ensureStarted(out);
      const toolUse = event.contentBlockStart.start?.toolUse;
      const upstreamIndex = event.contentBlockStart.contentBlockIndex ?? 0;
      if (toolUse && !this.blocks.has(upstreamIndex)) {
        const block = this.open(upstreamIndex, "tool_call");
        out.push({ type: "tool_call_start", index: block.index, id: toolUse.toolUseId ?? "", name: toolUse.name ?? "" });
      }
    } else if (event.contentBlockDelta) {
      this.ensureStarted(out);
      this.translateDelta(event.contentBlockDelta, out);
    } else if (event.contentBlockStop) {
      const block = this.blocks.get(event.contentBlockStop.contentBlockIndex ?? 0);
      if (block && !block.ended) {
        block.ended = true;
        out.push({ type: "block_end", index: block.index });
      }
    } else if (event.messageStop) {
      this.ensureStarted(out);
      this.sawMessageStop = true;
      this.stopReason = event.messageStop.stopReason;
      this.stopSequence = stopSequenceOf(event.messageStop.additionalModelResponseFields);
      if (this.usage !== null) this.finish(out);
    } else if (event.metadata) {
      this.ensureStarted(out);
      this.usage = fromBedrockUsage(event.metadata.usage);
      if (this.sawMessageStop) this.finish(out);
    }
    return out;
  }

  /** Events owed when the upstream stream ended normally: `finish`, or an `error` when it was cut short. */
  end(): StreamEvent[] {
    if (this.done) return [];
    const out: StreamEvent[] = [];
    this.ensureStarted(out);
    if (this.sawMessageStop) this.finish(out);
    else this.fail({ type: "error", status: 502, message: "the Bedrock stream ended before messageStop (truncated answer)", errorType: "api_error" }, out);
    return out;
  }

  /** Ends the stream with `error` (after `start`, when none was sent yet). */
  fail(error: Extract<StreamEvent, { type: "error" }>, out: StreamEvent[] = []): StreamEvent[] {
    if (this.done) return out;
    this.ensureStarted(out);
    this.done = true;
    out.push(error);
    return out;
  }

  private translateDelta(event: NonNullable<ConverseStreamOutput["contentBlockDelta"]>, out: StreamEvent[]): void {
    const delta = event.delta;
    const upstreamIndex = event.contentBlockIndex ?? 0;
    if (!delta) return;
    if (typeof delta.text === "string") {
      if (delta.text === "") return;
      out.push({ type: "text_delta", index: this.blockFor(upstreamIndex, "text").index, text: delta.text });
    } else if (delta.toolUse) {
      const block = this.blocks.get(upstreamIndex);
      if (block?.kind === "tool_call" && typeof delta.toolUse.input === "string" && delta.toolUse.input !== "") {
        out.push({ type: "tool_call_delta", index: block.index, argumentsDelta: delta.toolUse.input });
      }
    } else if (delta.reasoningContent) {
      const { text, signature } = delta.reasoningContent;
      if (typeof text === "string" && text !== "") {
        out.push({ type: "reasoning_delta", index: this.blockFor(upstreamIndex, "reasoning").index, text });
      } else if (typeof signature === "string") {
        out.push({ type: "reasoning_delta", index: this.blockFor(upstreamIndex, "reasoning").index, text: "", signature });
      }
    }
  }

  private blockFor(upstreamIndex: number, kind: BlockKind): OpenBlock {
    return this.blocks.get(upstreamIndex) ?? this.open(upstreamIndex, kind);
  }

  private open(upstreamIndex: number, kind: BlockKind): OpenBlock {
    const block: OpenBlock = { index: this.nextIndex, kind, ended: false };
    this.nextIndex += 1;
    this.blocks.set(upstreamIndex, block);
    return block;
  }

  private ensureStarted(out: StreamEvent[]): void {
    if (this.started) return;
    this.started = true;
    out.push({ type: "start", id: this.identity.id, model: this.identity.model, createdAt: this.identity.createdAt });
  }

  private finish(out: StreamEvent[]): void {
    for (const block of this.blocks.values()) {
      if (block.ended) continue;
      block.ended = true;
      out.push({ type: "block_end", index: block.index });
    }
    this.done = true;
    const event: Extract<StreamEvent, { type: "finish" }> = { type: "finish", finishReason: fromBedrockStopReason(this.stopReason), usage: this.usage };
    if (this.stopReason === "stop_sequence" && this.stopSequence !== undefined) event.stopSequence = this.stopSequence;
    out.push(event);
  }
}
