/**
 * The answer a tenant runtime gets when a limit or budget refuses its model call: a normal assistant message
 * (HTTP 200, finish reason `stop`) in the API the runtime speaks, JSON or stream, explaining the refusal.
 * OpenClaw retries a 429 for minutes and disables its provider key for 10 minutes on a 402 (FACTS.md), so the
 * runtime must never see those statuses; direct API callers do get them.
 */
import type { FastifyReply } from "fastify";
import { EMPTY_USAGE, type CanonicalResponse, type StreamEvent } from "../contracts/chat.js";
import type { ClientApiCodec } from "../contracts/client-api.js";
import type { ClawfleetError } from "../contracts/errors.js";

/** The explanation shown to the runtime's user. */
export function refusalText(error: ClawfleetError): string {
  const retry = error.retryAfterSeconds !== undefined ? ` Try again in about ${error.retryAfterSeconds} s.` : "";
  if (error.code === "CF_BUDGET_EXCEEDED") return `Clawfleet stopped this request: ${error.message}. Ask your administrator to raise the budget, or wait for the next period. [${error.code}]`;
  return `Clawfleet stopped this request: ${error.message}.${retry} [${error.code}]`;
}

export function sendRefusalCompletion(reply: FastifyReply, codec: ClientApiCodec, model: string, stream: boolean, error: ClawfleetError): void {
  const createdAt = Math.floor(Date.now() / 1000);
  const id = `clawfleet-refusal-${reply.request.id}`;
  const text = refusalText(error);
  reply.header("x-clawfleet-refusal", error.code);
  if (!stream) {
    const response: CanonicalResponse = { id, model, content: [{ type: "text", text }], finishReason: "stop", usage: EMPTY_USAGE, createdAt };
    void reply.code(200).send(codec.encodeResponse(response, model));
    return;
  }
  const encoder = codec.createStreamEncoder(model, { includeUsage: true });
  const events: StreamEvent[] = [
    { type: "start", id, model, createdAt },
    { type: "text_delta", index: 0, text },
    { type: "block_end", index: 0 },
    { type: "finish", finishReason: "stop", usage: EMPTY_USAGE },
  ];
  void reply.code(200).type("text/event-stream; charset=utf-8").header("cache-control", "no-cache").send(events.map((event) => encoder.encode(event)).join(""));
}
