/** Small helpers for provider adapter and translator tests. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CanonicalRequest, StreamEvent } from "../../src/contracts/chat.js";
import type { ProviderCallContext } from "../../src/contracts/provider.js";

/** Text of `test/fixtures/<provider>/<file>`. */
export function fixtureText(provider: string, file: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/${provider}/${file}`, import.meta.url)), "utf8");
}

/** Parsed JSON of `test/fixtures/<provider>/<file>`. */
export function fixtureJson(provider: string, file: string): unknown {
  return JSON.parse(fixtureText(provider, file)) as unknown;
}

/** Non-empty lines of a stream fixture. */
export function fixtureLines(provider: string, file: string): string[] {
  return fixtureText(provider, file)
    .split("\n")
    .filter((line) => line.trim() !== "");
}

/** A call context with generous limits unless overridden; `controller` aborts it. */
export function callContext(overrides: Partial<ProviderCallContext> = {}): ProviderCallContext & { controller: AbortController } {
  const controller = new AbortController();
  return { requestId: "req-test-1", signal: controller.signal, connectTimeoutMs: 2_000, firstByteTimeoutMs: 5_000, idleTimeoutMs: 5_000, ...overrides, controller };
}

/** A one-turn canonical request saying `text`. */
export function userRequest(text: string, overrides: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: "test-model", messages: [{ role: "user", content: [{ type: "text", text }] }], stream: false, ...overrides };
}

/** Every event of a stream, in order. */
export async function collectEvents(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const collected: StreamEvent[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

/** Feeds `text` as UTF-8 bytes in pieces of `size` bytes to a decoder, then ends it; returns every event. */
export function decodeInPieces(decoder: { push(chunk: Uint8Array): StreamEvent[]; end(): StreamEvent[] }, text: string, size: number): StreamEvent[] {
  const bytes = Buffer.from(text, "utf8");
  const events: StreamEvent[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) events.push(...decoder.push(bytes.subarray(offset, offset + size)));
  events.push(...decoder.end());
  return events;
}

/** Merges consecutive text/argument deltas per block, for comparing streams regardless of how they were split. */
export function mergeDeltas(events: readonly StreamEvent[]): StreamEvent[] {
  const merged: StreamEvent[] = [];
  for (const event of events) {
    const previous = merged[merged.length - 1];
    if (event.type === "text_delta" && previous?.type === "text_delta" && previous.index === event.index) {
      merged[merged.length - 1] = { ...previous, text: previous.text + event.text };
    } else if (event.type === "tool_call_delta" && previous?.type === "tool_call_delta" && previous.index === event.index) {
      merged[merged.length - 1] = { ...previous, argumentsDelta: previous.argumentsDelta + event.argumentsDelta };
    } else {
      merged.push(event);
    }
  }
  return merged;
}
