/**
 * Canonical stream events → Chat Completions `chat.completion.chunk` server-sent events
 * (https://platform.openai.com/docs/api-reference/chat-streaming/streaming).
 *
 * Wire sequence, one `data: <json>\n\n` per chunk:
 * 1. `start` → a chunk with `delta: {role: "assistant", content: ""}`;
 * 2. `text_delta` → `delta: {content}`; `reasoning_delta` → `delta: {reasoning_content}` (DeepSeek/vLLM's field);
 *    `tool_call_start` → `delta: {tool_calls: [{index, id, type: "function", function: {name, arguments: ""}}]}`,
 *    `tool_call_delta` → `delta: {tool_calls: [{index, function: {arguments}}]}` where `index` counts tool calls
 *    (0, 1, …), not canonical blocks; `block_end` writes nothing;
 * 3. `finish` → a chunk with `delta: {}` and `finish_reason`; then, only when the caller asked for
 *    `stream_options.include_usage`, a chunk with `choices: []` and `usage` (every earlier chunk then carries
 *    `usage: null`, as OpenAI does); then `data: [DONE]`;
 * 4. `error` → one `data: {"error": {…}}` chunk and nothing after it (no `[DONE]`).
 */
import { EMPTY_USAGE, type JsonObject, type StreamEvent } from "../../contracts/chat.js";
import type { StreamEncoder } from "../../contracts/client-api.js";
import { sseData } from "../shared/sse.js";
import { chatStreamErrorPayload } from "./errors.js";
import { encodeChatFinishReason } from "./finish-reason.js";
import { encodeChatUsage } from "./usage.js";

export class ChatStreamEncoder implements StreamEncoder {
  private id = "";
  private createdAt = 0;
  /** Canonical block index → position among the answer's tool calls. */
  private readonly toolCallPositions = new Map<number, number>();
  private ended = false;

  /**
   * @param model the model id reported in every chunk (the one the caller asked for)
   * @param includeUsage whether to send the usage chunk (`stream_options.include_usage`)
   */
  constructor(
    private readonly model: string,
    private readonly includeUsage: boolean,
  ) {}

  private chunk(delta: JsonObject, finishReason: string | null = null): string {
    const payload: JsonObject = {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.createdAt,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (this.includeUsage) payload.usage = null;
    return sseData(payload);
  }

  private toolCallPosition(index: number): number {
    let position = this.toolCallPositions.get(index);
    if (position === undefined) {
      position = this.toolCallPositions.size;
      this.toolCallPositions.set(index, position);
    }
    return position;
  }

  /** The SSE text for one event ("" when the event has no wire form, or after the stream ended). */
  encode(event: StreamEvent): string {
    if (this.ended) return "";
    switch (event.type) {
      case "start":
        this.id = event.id;
        this.createdAt = event.createdAt;
        return this.chunk({ role: "assistant", content: "", refusal: null });
      case "text_delta":
        return event.text.length === 0 ? "" : this.chunk({ content: event.text });
      case "reasoning_delta":
        return event.text.length === 0 ? "" : this.chunk({ reasoning_content: event.text });
      case "tool_call_start":
        return this.chunk({ tool_calls: [{ index: this.toolCallPosition(event.index), id: event.id, type: "function", function: { name: event.name, arguments: "" } }] });
      case "tool_call_delta":
        return event.argumentsDelta.length === 0 ? "" : this.chunk({ tool_calls: [{ index: this.toolCallPosition(event.index), function: { arguments: event.argumentsDelta } }] });
      case "block_end":
        return "";
      case "finish": {
        this.ended = true;
        let text = this.chunk({}, encodeChatFinishReason(event.finishReason));
        if (this.includeUsage) {
          text += sseData({ id: this.id, object: "chat.completion.chunk", created: this.createdAt, model: this.model, choices: [], usage: encodeChatUsage(event.usage ?? EMPTY_USAGE) });
        }
        return text + sseData("[DONE]");
      }
      case "error":
        this.ended = true;
        return sseData(chatStreamErrorPayload(event));
    }
  }
}
