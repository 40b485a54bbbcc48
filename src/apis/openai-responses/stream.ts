/**
 * Canonical stream events → Responses server-sent events
 * (https://platform.openai.com/docs/api-reference/responses-streaming), each `event: <type>\ndata: <json>\n\n`
 * with a `sequence_number` counting from 0.
 *
 * - `start` → `response.created`, `response.in_progress` (both with the in-progress response, `output: []`).
 * - A text block → `response.output_item.added` (message), `response.content_part.added` (output_text), one
 *   `response.output_text.delta` per delta; when it ends `response.output_text.done`, `response.content_part.done`,
 *   `response.output_item.done`.
 * - A reasoning block → the same with `reasoning` items and `response.reasoning_summary_part.added` /
 *   `response.reasoning_summary_text.delta` / `.done` / `response.reasoning_summary_part.done`; a signature becomes the
 *   item's `encrypted_content`.
 * - A tool call → `response.output_item.added` (function_call), `response.function_call_arguments.delta`…, then
 *   `response.function_call_arguments.done`, `response.output_item.done`.
 * - `finish` → closes open items, then `response.completed`, `response.incomplete` or `response.failed` carrying
 *   the whole response with usage.
 * - `error` → `response.failed` (or, before `start`, an `error` event); nothing after it.
 *
 * Blocks are expected one after another: a block that starts closes any block still open.
 */
import type { JsonObject, StreamEvent } from "../../contracts/chat.js";
import type { StreamEncoder } from "../../contracts/client-api.js";
import { sseEvent } from "../shared/sse.js";
import { failedResponseError, streamErrorEventPayload } from "./errors.js";
import { responseOutcome } from "./finish-reason.js";
import { outputItemId, outputItemJson, outputTextPart, responseObject, responsesId, type OutputItemState, type ResponseObjectFields } from "./response.js";
import { encodeResponsesUsage } from "./usage.js";

export class ResponsesStreamEncoder implements StreamEncoder {
  private sequenceNumber = 0;
  private id = "";
  private createdAt = 0;
  private started = false;
  private ended = false;
  private readonly items: OutputItemState[] = [];
  /** Canonical block index → output index. */
  private readonly outputIndexes = new Map<number, number>();

  /** @param model the model id reported in the response (the one the caller asked for) */
  constructor(private readonly model: string) {}

  private event(type: string, fields: JsonObject): string {
    const text = sseEvent(type, { type, sequence_number: this.sequenceNumber, ...fields });
    this.sequenceNumber += 1;
    return text;
  }

  private response(fields: Pick<ResponseObjectFields, "status" | "usage" | "incompleteDetails" | "error">): JsonObject {
    return responseObject({ id: this.id, createdAt: this.createdAt, model: this.model, output: this.items.map(outputItemJson), ...fields });
  }

  /** Closes every open item except the one at `keepOutputIndex`. */
  private closeOpenItems(keepOutputIndex = -1): string {
    let text = "";
    this.items.forEach((item, outputIndex) => {
      if (!item.done && outputIndex !== keepOutputIndex) text += this.closeItem(item, outputIndex);
    });
    return text;
  }

  private closeItem(item: OutputItemState, outputIndex: number): string {
    item.done = true;
    const where = { item_id: item.id, output_index: outputIndex };
    let text = "";
    switch (item.kind) {
      case "message":
        text += this.event("response.output_text.done", { ...where, content_index: 0, text: item.text, logprobs: [] });
        text += this.event("response.content_part.done", { ...where, content_index: 0, part: outputTextPart(item.text) });
        break;
      case "reasoning":
        text += this.event("response.reasoning_summary_text.done", { ...where, summary_index: 0, text: item.text });
        text += this.event("response.reasoning_summary_part.done", { ...where, summary_index: 0, part: { type: "summary_text", text: item.text } });
        break;
      case "function_call":
        text += this.event("response.function_call_arguments.done", { ...where, name: item.name, arguments: item.arguments });
        break;
    }
    return text + this.event("response.output_item.done", { output_index: outputIndex, item: outputItemJson(item) });
  }

  /** Opens the item for canonical block `index` (closing others) and returns its added events. */
  private openItem(index: number, kind: OutputItemState["kind"], create: (id: string) => OutputItemState): { item: OutputItemState; outputIndex: number; text: string } {
    const existing = this.outputIndexes.get(index);
    if (existing !== undefined) {
      const item = this.items[existing] as OutputItemState;
      return { item, outputIndex: existing, text: "" };
    }
    let text = this.closeOpenItems();
    const outputIndex = this.items.length;
    const item = create(outputItemId(kind, this.id, outputIndex));
    this.items.push(item);
    this.outputIndexes.set(index, outputIndex);
    const added: JsonObject =
      item.kind === "message"
        ? { id: item.id, type: "message", status: "in_progress", content: [], role: "assistant" }
        : item.kind === "reasoning"
          ? { id: item.id, type: "reasoning", summary: [] }
          : { id: item.id, type: "function_call", status: "in_progress", arguments: "", call_id: item.callId, name: item.name };
    text += this.event("response.output_item.added", { output_index: outputIndex, item: added });
    const where = { item_id: item.id, output_index: outputIndex };
    if (item.kind === "message") text += this.event("response.content_part.added", { ...where, content_index: 0, part: outputTextPart("") });
    if (item.kind === "reasoning") text += this.event("response.reasoning_summary_part.added", { ...where, summary_index: 0, part: { type: "summary_text", text: "" } });
    return { item, outputIndex, text };
  }

  /** The SSE text for one event ("" when the event has no wire form, or after the stream ended). */
  encode(event: StreamEvent): string {
    if (this.ended) return "";
    switch (event.type) {
      case "start": {
        this.id = responsesId(event.id);
        this.createdAt = event.createdAt;
        this.started = true;
        const response = this.response({ status: "in_progress", usage: null, incompleteDetails: null, error: null });
        return this.event("response.created", { response }) + this.event("response.in_progress", { response });
      }
      case "text_delta": {
        const opened = this.openItem(event.index, "message", (id) => ({ kind: "message", id, text: "", done: false }));
        if (opened.item.kind !== "message" || event.text.length === 0) return opened.text;
        opened.item.text += event.text;
        return opened.text + this.event("response.output_text.delta", { item_id: opened.item.id, output_index: opened.outputIndex, content_index: 0, delta: event.text, logprobs: [] });
      }
      case "reasoning_delta": {
        const opened = this.openItem(event.index, "reasoning", (id) => ({ kind: "reasoning", id, text: "", signature: undefined, done: false }));
        if (opened.item.kind !== "reasoning") return opened.text;
        if (event.signature !== undefined) opened.item.signature = (opened.item.signature ?? "") + event.signature;
        if (event.text.length === 0) return opened.text;
        opened.item.text += event.text;
        return opened.text + this.event("response.reasoning_summary_text.delta", { item_id: opened.item.id, output_index: opened.outputIndex, summary_index: 0, delta: event.text });
      }
      case "tool_call_start":
        return this.openItem(event.index, "function_call", (id) => ({ kind: "function_call", id, callId: event.id, name: event.name, arguments: "", done: false })).text;
      case "tool_call_delta": {
        const outputIndex = this.outputIndexes.get(event.index);
        const item = outputIndex === undefined ? undefined : this.items[outputIndex];
        if (outputIndex === undefined || item?.kind !== "function_call" || event.argumentsDelta.length === 0) return "";
        item.arguments += event.argumentsDelta;
        return this.event("response.function_call_arguments.delta", { item_id: item.id, output_index: outputIndex, delta: event.argumentsDelta });
      }
      case "block_end": {
        const outputIndex = this.outputIndexes.get(event.index);
        const item = outputIndex === undefined ? undefined : this.items[outputIndex];
        return outputIndex === undefined || !item || item.done ? "" : this.closeItem(item, outputIndex);
      }
      case "finish": {
        this.ended = true;
        const text = this.closeOpenItems();
        const outcome = responseOutcome(event.finishReason);
        const usage = event.usage ? encodeResponsesUsage(event.usage) : null;
        const response = this.response({ status: outcome.status, usage, incompleteDetails: outcome.incompleteDetails, error: outcome.error });
        return text + this.event(`response.${outcome.status}`, { response });
      }
      case "error":
        this.ended = true;
        if (!this.started) return sseEvent("error", streamErrorEventPayload(event, this.sequenceNumber));
        return this.event("response.failed", { response: this.response({ status: "failed", usage: null, incompleteDetails: null, error: failedResponseError(event) }) });
    }
  }
}
