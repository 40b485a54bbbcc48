/**
 * The usage tap of passed-through answers (`src/gateway/passthrough-usage.ts`): usage and generated-text length read
 * off recorded SSE streams (OpenAI Chat Completions, Anthropic Messages) however the bytes are cut into chunks —
 * one chunk, every byte apart, and cuts inside multi-byte UTF-8 characters — and off whole JSON answers.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { UsageTap } from "../../../src/gateway/passthrough-usage.js";
import { anthropicSseFrame } from "../../support/fake-anthropic.js";

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), "utf8");

/** OpenAI's framing of a `.chunks.txt` fixture: `data: <line>\n\n` per line (the last line is `[DONE]`). */
const openaiStream = (path: string) => fixture(path).split("\n").filter((line) => line.trim() !== "").map((line) => `data: ${line}\n\n`).join("");
const anthropicStream = (path: string) => fixture(path).split("\n").filter((line) => line.trim() !== "").map(anthropicSseFrame).join("");

/** `bytes` cut into chunks of `size` bytes (cuts fall anywhere, inside UTF-8 sequences too). */
function cut(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += size) chunks.push(bytes.subarray(start, start + size));
  return chunks;
}

function tapStream(api: "openai-chat" | "anthropic-messages", chunks: Buffer[]): UsageTap {
  const tap = new UsageTap(api);
  for (const chunk of chunks) tap.feedStream(chunk);
  return tap;
}

/** Total length of the generated text of a stream's events, counted from the parsed events (the reference). */
function generatedLength(events: unknown[]): number {
  let total = 0;
  const visit = (value: unknown, key: string) => {
    if (typeof value === "string" && ["content", "text", "delta", "partial_json", "arguments"].includes(key)) total += JSON.stringify(value).length - 2;
    else if (typeof value === "object" && value !== null) for (const [name, inner] of Object.entries(value)) visit(inner, name);
  };
  for (const event of events) visit(event, "");
  return total;
}

const dataLines = (text: string) => text.split("\n").filter((line) => line.startsWith("data: ") && line !== "data: [DONE]").map((line) => JSON.parse(line.slice(6)) as unknown);

describe("UsageTap", () => {
  test("OpenAI Chat stream: usage of the final chunk (cached and reasoning tokens) whatever the chunk cuts", () => {
    const text = openaiStream("openai/text.chunks.txt");
    const bytes = Buffer.from(text);
    const expectedCharacters = generatedLength(dataLines(text));
    assert.ok(expectedCharacters > 0);
    for (const size of [bytes.length, 1, 3, 7, 64]) {
      const tap = tapStream("openai-chat", cut(bytes, size));
      assert.deepEqual(tap.result(), { inputTokens: 1240, outputTokens: 9, cacheReadTokens: 1024, cacheWriteTokens: 0, reasoningTokens: 0 }, `chunks of ${size} bytes`);
      assert.equal(tap.streamedTextCharacters, expectedCharacters, `chunks of ${size} bytes`);
    }
  });

  test("Anthropic stream: input from message_start (cache included), output from message_delta", () => {
    const text = anthropicStream("anthropic/text.chunks.txt");
    const bytes = Buffer.from(text);
    for (const size of [bytes.length, 1, 5, 100]) {
      const tap = tapStream("anthropic-messages", cut(bytes, size));
      assert.deepEqual(tap.result(), { inputTokens: 21 + 312 + 1824, outputTokens: 12, cacheReadTokens: 1824, cacheWriteTokens: 312, reasoningTokens: 0 }, `chunks of ${size} bytes`);
    }
  });

  test("multi-byte characters cut across chunks are counted once, as the whole text", () => {
    const line = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const words = ["héllo ", "wörld ", "日本語 ", "🙂"];
    const bytes = Buffer.from(words.map(line).join("") + `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } })}\n\ndata: [DONE]\n\n`);
    const expected = words.reduce((sum, word) => sum + word.length, 0);
    for (const size of [1, 2, 3, bytes.length]) {
      const tap = tapStream("openai-chat", cut(bytes, size));
      assert.equal(tap.streamedTextCharacters, expected, `chunks of ${size} bytes`);
      assert.deepEqual(tap.result(), { inputTokens: 3, outputTokens: 4, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
    }
  });

  test("a stream without usage, a line that is not JSON, and an unfinished last line give no usage", () => {
    const tap = tapStream("openai-chat", [Buffer.from('data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"usage": not json}\n\ndata: {"usage":{"prompt_tokens":1')]);
    assert.equal(tap.result(), null);
    assert.equal(tap.streamedTextCharacters, 2);
  });

  test("whole JSON answers: Chat Completions, Responses and Messages usage fields", () => {
    const chat = new UsageTap("openai-chat");
    chat.feedDocument(JSON.parse(fixture("openai/text.json")));
    assert.equal(chat.result()?.inputTokens, (JSON.parse(fixture("openai/text.json")) as { usage: { prompt_tokens: number } }).usage.prompt_tokens);
    const responses = new UsageTap("openai-responses");
    responses.feedDocument({ type: "response.completed", response: { usage: { input_tokens: 10, output_tokens: 5, input_tokens_details: { cached_tokens: 4 }, output_tokens_details: { reasoning_tokens: 2 } } } });
    assert.deepEqual(responses.result(), { inputTokens: 10, outputTokens: 5, cacheReadTokens: 4, cacheWriteTokens: 0, reasoningTokens: 2 });
    const messages = new UsageTap("anthropic-messages");
    messages.feedDocument(JSON.parse(fixture("anthropic/text.json")));
    assert.ok((messages.result()?.outputTokens ?? 0) > 0);
  });
});
