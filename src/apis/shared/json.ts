/**
 * JSON helpers shared by the client-API codecs. Request bodies reach the codecs already parsed by
 * `JSON.parse`, so every plain object inside them is a JSON object; these helpers only check the shape.
 */
import { z } from "zod";
import type { JsonObject } from "../../contracts/chat.js";

/** True for a non-null, non-array object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A JSON object (tool parameter schemas, tool inputs). Its contents are not traversed: the body came from
 * `JSON.parse`, so they are JSON values by construction.
 */
export const jsonObjectSchema = z.custom<JsonObject>((value) => isPlainObject(value), { message: "expected a JSON object" });

/**
 * Parses tool-call arguments (JSON text as the model produced it) into an object, for APIs that carry tool input
 * as an object (Anthropic `tool_use.input`). Empty text is `{}`; text that is not a JSON object is `null`.
 */
export function parseArgumentsObject(text: string): JsonObject | null {
  if (text.trim().length === 0) return {};
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? (value as JsonObject) : null;
  } catch {
    return null;
  }
}

/** A copy of `value` without the keys whose value is `undefined` (canonical optional fields are absent, not undefined). */
export function dropUndefined<Value extends object>(value: Value): Value {
  // A plain loop: this runs on every decoded request, and entries/filter/fromEntries allocate an array per key.
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const entry = (value as Record<string, unknown>)[key];
    if (entry !== undefined) result[key] = entry;
  }
  return result as Value;
}
