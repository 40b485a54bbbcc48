/**
 * Server-sent events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html): every event ends
 * with a blank line; JSON payloads are single-line, so one `data:` line each.
 */
import type { JsonValue } from "../../contracts/chat.js";

/** `data: <payload>\n\n` (OpenAI Chat Completions chunks; a string payload such as `[DONE]` is sent verbatim). */
export function sseData(payload: JsonValue): string {
  return `data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`;
}

/** `event: <name>\ndata: <json>\n\n` (OpenAI Responses and Anthropic Messages named events). */
export function sseEvent(name: string, payload: JsonValue): string {
  return `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}
