/**
 * The built-in `mock` provider: canned, deterministic answers in OpenAI's exact Chat Completions wire format
 * (JSON, or SSE ending with a usage chunk when `stream_options.include_usage` is set, then `[DONE]`). Lets the
 * whole platform run end to end with no provider key. Answers: "Hello from Clawfleet's mock model. You said: …".
 */
import type { ChatCompletionCall, ProviderAdapter, UpstreamResponse } from "../../contracts/provider.js";

const INTERNAL_CONTEXT_MARKER = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT";

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) => (typeof part === "object" && part !== null && typeof (part as { text?: unknown }).text === "string" ? (part as { text: string }).text : ""))
      .join(" ");
  }
  return "";
}

/** The last user message that is not OpenClaw's appended internal-context message. */
export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return "";
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message: unknown = messages[index];
    if (typeof message !== "object" || message === null) continue;
    const { role, content } = message as { role?: unknown; content?: unknown };
    const text = textOf(content);
    if (role === "user" && !text.trimStart().startsWith(INTERNAL_CONTEXT_MARKER)) return text;
  }
  return "";
}

/** Rough token count for canned usage: one token per four characters, at least one. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

export class MockAdapter implements ProviderAdapter {
  readonly kind = "mock";
  constructor(readonly id: string) {}

  async chatCompletions(call: ChatCompletionCall): Promise<UpstreamResponse> {
    const said = lastUserText(call.body.messages).split("\n", 1)[0]?.slice(0, 200) ?? "";
    const text = `Hello from Clawfleet's mock model. You said: ${said}`;
    const model = typeof call.body.model === "string" ? call.body.model : "mock-1";
    const id = `chatcmpl-mock-${call.requestId}`;
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = estimateTokens(JSON.stringify(call.body.messages ?? []));
    const completionTokens = estimateTokens(text);
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    if (!call.stream) {
      const body = { id, object: "chat.completion", created, model, choices: [{ index: 0, message: { role: "assistant", content: text }, logprobs: null, finish_reason: "stop" }], usage };
      return { status: 200, headers: { "content-type": "application/json" }, body: once(Buffer.from(JSON.stringify(body))) };
    }
    const includeUsage = (call.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
    const words = text.split(/(?<= )/);
    const events = [chunk({ role: "assistant", content: "" }, null), ...words.map((word) => chunk({ content: word }, null)), chunk({}, "stop")];
    if (includeUsage) events.push(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n`);
    events.push("data: [DONE]\n\n");
    return { status: 200, headers: { "content-type": "text/event-stream; charset=utf-8" }, body: once(Buffer.from(events.join(""))) };
  }

  async close(): Promise<void> {}
}
