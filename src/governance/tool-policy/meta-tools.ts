/**
 * Unwrapping OpenClaw's meta-tool `tool_call`, exactly as OpenClaw 2026.9.6 reads its arguments
 * (`dist/local-model-lean-*.mjs`: `readToolSearchCallArgs`, `prepareToolSearchDispatcherArguments`,
 * `TOOL_SEARCH_SELECTOR_KEYS`, `makeCatalogId`), so the gateway decides on the tool and arguments the runtime
 * would really run:
 * - the target is named by `id`, `toolId` or `name` (first present wins); when none is at the top level but
 *   `args`/`input` is an object that has one, that object is the call (`{args: {id: "exec", command}}`);
 * - a catalog id is `<source>:<sourceName>:<tool>` (`openclaw:core:exec`); a name is the tool itself;
 * - the input is `args` (or `input`) when it is a non-empty object (or not an object at all), merged over
 *   dotted `args.<key>` entries; otherwise the remaining top-level keys (flattened form).
 * When several selectors name DIFFERENT tools the call is refused (OpenClaw may resolve either). A `tool_call`
 * whose target is itself `tool_call` is unwrapped again, up to {@link MAX_META_DEPTH} levels.
 */
import type { JsonObject, JsonValue } from "../../contracts/chat.js";
import { META_TOOL_CALL, canonicalToolName } from "../profiles/tool-catalog.js";

/** Nesting levels of `tool_call` → `tool_call` unwrapped before the call is refused. */
export const MAX_META_DEPTH = 4;

const SELECTOR_KEYS = ["id", "toolId", "name"] as const;

/** The effective call behind a (possibly meta) call, or why it cannot be determined. */
export type UnwrappedCall = { ok: true; tool: string; arguments: JsonValue; depth: number } | { ok: false; problem: string };

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Canonical tool name for a name as a model wrote it: Unicode NFKC, invisible characters removed, trimmed,
 * lower-cased (OpenClaw matches exact names; lower-casing only makes more spellings reach the same verdict),
 * a catalog-id prefix (`source:sourceName:`) dropped, aliases resolved (`bash` → `exec`).
 */
export function normalizeToolName(raw: string): string {
  const cleaned = raw.normalize("NFKC").replace(/[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]/g, "").trim();
  const colon = cleaned.lastIndexOf(":");
  return canonicalToolName(colon >= 0 ? cleaned.slice(colon + 1) : cleaned);
}

function selectorsOf(params: JsonObject): string[] {
  const found: string[] = [];
  for (const key of SELECTOR_KEYS) {
    const value = params[key];
    if (typeof value === "string" && value.trim().length > 0) found.push(value);
  }
  return found;
}

/** One level: `tool_call` arguments → target name and input. */
function unwrapOnce(args: JsonValue): { ok: true; name: string; input: JsonValue } | { ok: false; problem: string } {
  if (!isObject(args)) return { ok: false, problem: "tool_call arguments must be an object" };
  let params = args;
  if (selectorsOf(params).length === 0) {
    const nested = params.args ?? params.input;
    if (isObject(nested) && selectorsOf(nested).length > 0) {
      const { args: _args, input: _input, ...outer } = params;
      params = { ...outer, ...nested };
    }
  }
  const selectors = selectorsOf(params);
  if (selectors.length === 0) return { ok: false, problem: "tool_call names no tool (id, toolId or name)" };
  const targets = new Set(selectors.map(normalizeToolName));
  if (targets.size > 1) return { ok: false, problem: `tool_call names several tools (${[...targets].join(", ")})` };
  const dotted: JsonObject = {};
  for (const [key, value] of Object.entries(params)) if (key.startsWith("args.") && key.length > 5) dotted[key.slice(5)] = value;
  const nested = params.args ?? params.input;
  const nestedIsEmpty = isObject(nested) && Object.keys(nested).length === 0;
  let input: JsonValue;
  if (nested !== undefined && nested !== null && !nestedIsEmpty) {
    input = isObject(nested) ? { ...dotted, ...nested } : nested;
  } else {
    const flattened: JsonObject = { ...dotted };
    for (const [key, value] of Object.entries(params)) {
      if (key === "args" || key === "input" || (SELECTOR_KEYS as readonly string[]).includes(key) || key.startsWith("args.")) continue;
      flattened[key] = value;
    }
    input = flattened;
  }
  return { ok: true, name: selectors[0] as string, input };
}

/**
 * The effective tool and arguments of a call named `calledName` with parsed `args`: itself for an ordinary
 * tool, the target for `tool_call` (recursively). Never throws.
 */
export function unwrapToolCall(calledName: string, args: JsonValue): UnwrappedCall {
  let tool = normalizeToolName(calledName);
  let input = args;
  let depth = 0;
  while (tool === META_TOOL_CALL) {
    if (depth >= MAX_META_DEPTH) return { ok: false, problem: `tool_call nested more than ${MAX_META_DEPTH} levels` };
    const once = unwrapOnce(input);
    if (!once.ok) return once;
    tool = normalizeToolName(once.name);
    input = once.input;
    depth += 1;
  }
  return { ok: true, tool, arguments: input, depth };
}
