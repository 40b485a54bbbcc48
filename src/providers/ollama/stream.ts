/**
 * Ollama NDJSON stream → canonical stream events
 * (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion). Pure and incremental:
 * feed body chunks as they arrive (split anywhere, even inside a UTF-8 character), get events back.
 *
 * Wire: one JSON object per line, each shaped like a whole answer with a fragment of it: `message.content`
 * and `message.thinking` pieces, and tool calls that arrive whole (`message.tool_calls`); the last line has
 * `done: true`, `done_reason` and the token counts. An error mid-stream is a line `{"error": "…"}`.
 *
 * Output: `start` (Ollama sends no id: the caller passes one), blocks numbered in order (each tool call is a
 * block of its own: `tool_call_start` with a stable id `call_<n>`, its whole arguments as one
 * `tool_call_delta`, `block_end`), then `finish` at `done: true`. Failures become one `error` event: an
 * `{"error"}` line (500 `api_error`), a line that is not JSON or not an answer's shape (502 `invalid_response`),
 * and a stream that ends before `done: true` (502 `incomplete_stream`).
 */
import type { StreamEvent } from "../../contracts/chat.js";
import { decodeOllamaStreamError } from "./errors.js";
import { decodeOllamaDoneReason } from "./finish-reason.js";
import { decodeCreatedAt, decodeOllamaToolCalls } from "./response.js";
import { decodeOllamaUsage } from "./usage.js";
import { type OllamaChatResponse, ollamaChatResponseSchema, ollamaErrorBodySchema } from "./wire.js";

export class OllamaStreamDecoder {
  private readonly decoder = new TextDecoder("utf-8");
  private buffer = "";
  private state: "waiting" | "streaming" | "done" = "waiting";
  private openBlock: { index: number; kind: "text" | "reasoning" } | null = null;
  private nextIndex = 0;
  private toolCallCount = 0;

  /** @param identity the answer id to report and the creation time (seconds) used when `created_at` is missing. */
  constructor(private readonly identity: { id: string; createdAt: number }) {}

  /** Feeds one body chunk (bytes or text); returns the events it completes. */
  push(chunk: Uint8Array | string): StreamEvent[] {
    if (this.state === "done") return [];
    this.buffer += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    const events: StreamEvent[] = [];
    let newline = this.buffer.indexOf("\n");
    while (newline !== -1 && !this.isDone()) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.handleLine(line, events);
      newline = this.buffer.indexOf("\n");
    }
    return events;
  }

  /** The body ended: returns the last events (a final line without its newline is still read). */
  end(): StreamEvent[] {
    if (this.state === "done") return [];
    const events = this.push(this.decoder.decode());
    const rest = this.buffer;
    this.buffer = "";
    if (!this.isDone() && rest.trim() !== "") this.handleLine(rest, events);
    if (!this.isDone()) {
      this.state = "done";
      events.push({ type: "error", status: 502, errorType: "incomplete_stream", message: "the upstream stream ended before the answer was complete" });
    }
    return events;
  }

  private isDone(): boolean {
    return this.state === "done";
  }

  private fail(events: StreamEvent[], message: string): void {
    this.state = "done";
    events.push({ type: "error", status: 502, errorType: "invalid_response", message });
  }

  private handleLine(rawLine: string, events: StreamEvent[]): void {
    const line = rawLine.trim();
    if (line === "") return;
    let payload: unknown;
    try {
      payload = JSON.parse(line) as unknown;
    } catch {
      this.fail(events, `the upstream sent a stream line that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    const error = ollamaErrorBodySchema.safeParse(payload);
    if (error.success) {
      this.state = "done";
      events.push(decodeOllamaStreamError(error.data.error));
      return;
    }
    const parsed = ollamaChatResponseSchema.safeParse(payload);
    if (!parsed.success) {
      this.fail(events, `the upstream sent a stream line of an unknown shape: ${line.slice(0, 200)}`);
      return;
    }
    this.handleAnswer(parsed.data, events);
  }

  private handleAnswer(answer: OllamaChatResponse, events: StreamEvent[]): void {
    if (this.state === "waiting") {
      this.state = "streaming";
      events.push({ type: "start", id: this.identity.id, model: answer.model, createdAt: decodeCreatedAt(answer.created_at, this.identity.createdAt) });
    }
    const message = answer.message;
    if (typeof message?.thinking === "string" && message.thinking !== "") {
      events.push({ type: "reasoning_delta", index: this.blockFor("reasoning", events), text: message.thinking });
    }
    if (typeof message?.content === "string" && message.content !== "") {
      events.push({ type: "text_delta", index: this.blockFor("text", events), text: message.content });
    }
    for (const call of decodeOllamaToolCalls(message?.tool_calls ?? [], this.toolCallCount)) {
      this.toolCallCount += 1;
      this.closeOpenBlock(events);
      const index = this.nextIndex;
      this.nextIndex += 1;
      events.push({ type: "tool_call_start", index, id: call.id, name: call.name });
      events.push({ type: "tool_call_delta", index, argumentsDelta: call.arguments });
      events.push({ type: "block_end", index });
    }
    if (answer.done) {
      this.closeOpenBlock(events);
      this.state = "done";
      events.push({ type: "finish", finishReason: decodeOllamaDoneReason(answer.done_reason, this.toolCallCount > 0), usage: decodeOllamaUsage(answer) });
    }
  }

  private blockFor(kind: "text" | "reasoning", events: StreamEvent[]): number {
    if (this.openBlock !== null && this.openBlock.kind === kind) return this.openBlock.index;
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
}
