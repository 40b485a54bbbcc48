/** Pure helpers on canonical content shared by provider translators. */
import type { ContentPart, JsonObject, JsonValue } from "../../contracts/chat.js";

/**
 * Splits a base64 `data:` URL (RFC 2397) into media type and data; null for any other URL or a `data:` URL
 * that is not base64.
 */
export function parseDataUrl(url: string): { mediaType: string; data: string } | null {
  const match = /^data:([^;,]*)((?:;[^;,]*)*);base64,(.*)$/is.exec(url);
  if (match === null) return null;
  return { mediaType: match[1] === "" ? "application/octet-stream" : (match[1] as string), data: match[3] as string };
}

/** The text parts of `parts`, joined by `separator`. */
export function joinedText(parts: readonly ContentPart[], separator = "\n"): string {
  const texts: string[] = [];
  for (const part of parts) if (part.type === "text") texts.push(part.text);
  return texts.join(separator);
}

function isJsonObject(value: JsonValue): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Tool-call arguments (JSON text as the model wrote it) as an object. Empty text is `{}`. Returns
 * `ok: false` (and `{}`) when the text is not JSON or not an object.
 */
export function parseToolArguments(text: string): { value: JsonObject; ok: boolean } {
  if (text.trim() === "") return { value: {}, ok: true };
  try {
    const value = JSON.parse(text) as JsonValue;
    return isJsonObject(value) ? { value, ok: true } : { value: {}, ok: false };
  } catch {
    return { value: {}, ok: false };
  }
}
