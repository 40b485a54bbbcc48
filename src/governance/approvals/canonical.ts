/**
 * Canonical JSON of tool-call arguments and its SHA-256: the identity of "this exact call" for approve-once
 * grants and for finding the pending request of a repeated call.
 *
 * Canonical form: object keys sorted by UTF-16 code units (JavaScript's default sort, as in RFC 8785 JCS §3.2.3),
 * no whitespace, strings and numbers as `JSON.stringify` writes them (which JCS also prescribes for ECMAScript
 * numbers). `undefined` members are dropped like `JSON.stringify` does. So `{"b":1,"a":[2,{"d":3,"c":4}]}` and
 * `{"a":[2,{"c":4,"d":3}],"b":1}` hash the same, while array order matters.
 */
import { createHash } from "node:crypto";
import type { JsonValue } from "../../contracts/chat.js";

/** The canonical JSON text of `value` (see the module comment). */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(",")}]`;
  const keys = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as JsonValue)}`).join(",")}}`;
}

/** Hex SHA-256 of {@link canonicalJson}`(value)` (64 lowercase hex digits). */
export function argumentsHash(value: JsonValue): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}
