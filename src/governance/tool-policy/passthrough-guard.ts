/**
 * The guard on a passed-through answer (bytes forwarded untouched, same schema on both sides). The gateway
 * passes a body through only when the request offered NO tools (requests that offer tools take the canonical
 * path, where every call is reviewed), so any tool call in such an answer is refused, whatever the profile:
 * - JSON: the body is held whole (the gateway reads it whole anyway) and, when it holds a tool call, replaced
 *   by an assistant message saying so (HTTP status unchanged);
 * - SSE: bytes are forwarded up to the last complete line only (a line is never split, so a marker cannot hide
 *   across chunks); a line that mentions a tool-call marker is parsed and checked structurally, and a real
 *   tool call stops the stream with an error event in the caller's format, before the line is forwarded.
 * Markers, per API reference: Chat Completions `tool_calls` / `function_call`; Responses `_call` (item types
 * `function_call`, `custom_tool_call`, `local_shell_call`… and `response.function_call_arguments.*` events);
 * Anthropic `tool_use` (`tool_use`, `server_tool_use`, `mcp_tool_use` blocks). Plain text that mentions a marker
 * is parsed and passes (JSON string content cannot contain the quoted key form, and the structure decides).
 */
import type { ClientApi, CanonicalUsage } from "../../contracts/chat.js";

const MARKERS: Record<ClientApi, Buffer[]> = {
  "openai-chat": [Buffer.from("tool_calls"), Buffer.from("function_call")],
  "openai-responses": [Buffer.from("_call")],
  "anthropic-messages": [Buffer.from("tool_use")],
};

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Any `type` value in `value` (depth ≤ 6) matching `pattern`. */
function hasTypeMatching(value: unknown, pattern: RegExp, depth = 0): boolean {
  if (depth > 6) return false;
  if (Array.isArray(value)) return value.some((item) => hasTypeMatching(item, pattern, depth + 1));
  if (!isObject(value)) return false;
  if (typeof value.type === "string" && pattern.test(value.type)) return true;
  for (const inner of Object.values(value)) if (typeof inner === "object" && inner !== null && hasTypeMatching(inner, pattern, depth + 1)) return true;
  return false;
}

/** True when a parsed answer body or stream event of `api` carries a tool call. */
export function documentHasToolCall(api: ClientApi, document: unknown): boolean {
  if (api === "openai-chat") {
    if (!isObject(document) || !Array.isArray(document.choices)) return false;
    return document.choices.some((choice: unknown) => {
      if (!isObject(choice)) return false;
      for (const holder of [choice.message, choice.delta]) {
        if (!isObject(holder)) continue;
        if (Array.isArray(holder.tool_calls) && holder.tool_calls.length > 0) return true;
        if (isObject(holder.function_call)) return true;
      }
      return false;
    });
  }
  if (api === "openai-responses") return hasTypeMatching(document, /_call(?:$|[._])/);
  return hasTypeMatching(document, /tool_use/);
}

function mentionsMarker(api: ClientApi, bytes: Uint8Array): boolean {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const marker of MARKERS[api]) if (buffer.indexOf(marker) !== -1) return true;
  return false;
}

/** True when a whole JSON answer body holds a tool call (parsed only when a marker appears). */
export function jsonBodyHasToolCall(api: ClientApi, body: Uint8Array): boolean {
  if (!mentionsMarker(api, body)) return false;
  try {
    return documentHasToolCall(api, JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8")));
  } catch {
    return false;
  }
}

function linesHaveToolCall(api: ClientApi, bytes: Buffer): boolean {
  if (!mentionsMarker(api, bytes)) return false;
  for (const line of bytes.toString("utf8").split("\n")) {
    if (!line.startsWith("data:")) continue;
    const payload = line.slice(5).trim();
    if (payload === "" || payload === "[DONE]") continue;
    try {
      if (documentHasToolCall(api, JSON.parse(payload))) return true;
    } catch {
      // not JSON: no structure to carry a call
    }
  }
  return false;
}

/** What the guard of one passed-through answer needs (see `passthroughGuardOptions` in gateway-hooks.ts). */
export interface PassthroughGuardOptions {
  api: ClientApi;
  /** The answer is SSE. */
  isStream: boolean;
  /** Usage of a parsed answer document (billed even when the answer is replaced). */
  readUsage: (document: unknown) => CanonicalUsage | null;
  /** The JSON answer that replaces one holding a tool call, in the caller's API. */
  refusalBody: (usage: CanonicalUsage | null) => Buffer;
  /** The SSE text that ends a stream that tripped. */
  refusalEvent: () => string;
  /** Told once, when the guard trips. */
  onTrip: () => void;
}

/**
 * Guards a whole JSON answer: returns `whole` itself (same bytes, no copy) when it holds no tool call, else the
 * refusal body (`options.refusalBody`, with the answer's usage when it can be read).
 */
export function guardPassthroughJson(whole: Uint8Array, options: PassthroughGuardOptions): Uint8Array {
  if (!jsonBodyHasToolCall(options.api, whole)) return whole;
  options.onTrip();
  let usage: CanonicalUsage | null = null;
  try {
    usage = options.readUsage(JSON.parse(Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength).toString("utf8")));
  } catch {
    usage = null;
  }
  return options.refusalBody(usage);
}

/**
 * Wraps a passed-through answer body (the module docstring says how each kind is checked). A JSON body
 * (`isStream` false) is collected and checked by {@link guardPassthroughJson}; the gateway itself reads JSON
 * answers whole and calls that directly.
 */
export async function* guardPassthroughBody(body: AsyncIterable<Uint8Array>, options: PassthroughGuardOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const { api } = options;
  if (!options.isStream) {
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of body) {
      chunks.push(chunk);
      length += chunk.byteLength;
    }
    yield guardPassthroughJson(chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, length), options);
    return;
  }
  let pending: Buffer | null = null;
  for await (const chunk of body) {
    const bytes: Buffer = pending ? Buffer.concat([pending, chunk]) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const cut = bytes.lastIndexOf(10);
    if (cut === -1) {
      pending = bytes;
      continue;
    }
    const complete = cut === bytes.length - 1 ? bytes : bytes.subarray(0, cut + 1);
    pending = cut === bytes.length - 1 ? null : bytes.subarray(cut + 1);
    if (linesHaveToolCall(api, complete)) {
      options.onTrip();
      yield Buffer.from(options.refusalEvent());
      return;
    }
    yield complete;
  }
  if (pending && pending.length > 0) {
    if (linesHaveToolCall(api, Buffer.concat([pending, Buffer.from("\n")]))) {
      options.onTrip();
      yield Buffer.from(options.refusalEvent());
      return;
    }
    yield pending;
  }
}
