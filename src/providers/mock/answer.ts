/**
 * The mock provider's canned answer, pure: "Hello from Clawfleet's mock model. You said: <last real user text>",
 * where the user text is the first line (at most 200 characters) of the last user message that is not
 * OpenClaw's internal-context message (a user message starting with `<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT`).
 * Usage is estimated at one token per four characters (at least one).
 */
import type { CanonicalMessage, CanonicalRequest, CanonicalResponse, CanonicalUsage, StreamEvent } from "../../contracts/chat.js";

const INTERNAL_CONTEXT_MARKER = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT";
const MAXIMUM_ECHO_CHARACTERS = 200;

function messageText(message: CanonicalMessage): string {
  const texts: string[] = [];
  for (const part of message.content) if (part.type === "text") texts.push(part.text);
  return texts.join(" ");
}

/** Text of the last user message that is not OpenClaw's internal-context message; "" when there is none. */
export function lastRealUserText(messages: readonly CanonicalMessage[]): string {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message === undefined || message.role !== "user") continue;
    const text = messageText(message);
    if (!text.trimStart().startsWith(INTERNAL_CONTEXT_MARKER)) return text;
  }
  return "";
}

/** The canned answer text for `messages`. */
export function mockAnswerText(messages: readonly CanonicalMessage[]): string {
  const firstLine = lastRealUserText(messages).split("\n", 1)[0] ?? "";
  return `Hello from Clawfleet's mock model. You said: ${firstLine.slice(0, MAXIMUM_ECHO_CHARACTERS)}`;
}

/** Rough token count: one token per four characters, at least one. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Estimated usage: input from the whole conversation's text, output from the answer. */
export function estimateUsage(request: CanonicalRequest, answer: string): CanonicalUsage {
  const conversation = request.messages.map(messageText).join("\n");
  return { inputTokens: estimateTokens(conversation), outputTokens: estimateTokens(answer), cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
}

/** The answer split into words, each keeping its trailing space, so the pieces join back to the text. */
export function splitWords(text: string): string[] {
  return text.split(/(?<= )/).filter((word) => word !== "");
}

/** Identity of one mock answer (ids and times are passed in: this module has no clock). */
export interface MockAnswerIdentity {
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
}

/** The complete canned answer. */
export function mockResponse(request: CanonicalRequest, identity: MockAnswerIdentity): CanonicalResponse {
  const text = mockAnswerText(request.messages);
  return { id: identity.id, model: request.model, content: [{ type: "text", text }], finishReason: "stop", usage: estimateUsage(request, text), createdAt: identity.createdAt };
}

/** The canned answer as stream events: `start`, one `text_delta` per word, `block_end`, `finish` with usage. */
export function mockStreamEvents(request: CanonicalRequest, identity: MockAnswerIdentity): StreamEvent[] {
  const text = mockAnswerText(request.messages);
  return [
    { type: "start", id: identity.id, model: request.model, createdAt: identity.createdAt },
    ...splitWords(text).map((word): StreamEvent => ({ type: "text_delta", index: 0, text: word })),
    { type: "block_end", index: 0 },
    { type: "finish", finishReason: "stop", usage: estimateUsage(request, text) },
  ];
}
