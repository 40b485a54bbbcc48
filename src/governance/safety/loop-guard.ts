/**
 * Loop guard: stops an agent run that repeats itself, decided from the request's own history alone (stateless,
 * so it works the same on every replica and needs no storage on the hot path).
 *
 * The current run is every message after the last REAL user message. OpenClaw always ends its requests with an
 * internal-context user message (`<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>`, ../shared/openclaw/FACTS.md) and sends
 * tool results as `tool` messages (or, in Anthropic's API, as user messages holding only `tool_result` blocks):
 * neither starts a run. In the run, each assistant message is one model call already made; each tool call is
 * keyed by its name and its arguments as canonical JSON (keys sorted), so `{"a":1,"b":2}` and `{"b":2,"a":1}` are
 * the same call.
 *
 * Why no shared per-session counter: the history is the truth the model sees, it needs no session identity
 * (OpenClaw sends none to its provider) and costs no I/O. If OpenClaw compacts the history mid-run (it
 * summarises old turns when the context is full), the counts restart, so a looping run is stopped at most every
 * `maxModelCallsPerRun` calls per compaction cycle; tenant rate limits (`limits`) bound the rest.
 */
import type { CanonicalMessage, CanonicalRequest, JsonValue } from "../../contracts/chat.js";

/** `governance.loopGuard` (see src/config/schema.ts). */
export interface LoopGuardConfig {
  enabled: boolean;
  /** Stop once one tool call (name + arguments) was made this many times in the run. */
  maxIdenticalToolCalls: number;
  /** Stop when this many model calls were already made in the run (the current one would exceed it). */
  maxModelCallsPerRun: number;
}

/** The guard's verdict. `modelCalls` counts the model calls already made in the run (the current one excluded). */
export type LoopVerdict =
  | { kind: "continue"; modelCalls: number; mostRepeated: number }
  | { kind: "stop"; reason: "identical_tool_calls"; tool: string; count: number; limit: number; modelCalls: number; message: string }
  | { kind: "stop"; reason: "too_many_model_calls"; count: number; limit: number; modelCalls: number; message: string };

/** Start of OpenClaw's internal-context user message. */
export const OPENCLAW_INTERNAL_CONTEXT_MARKER = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT";

/** True for a user message a person wrote (not OpenClaw's internal context, not tool results). */
export function isRealUserMessage(message: CanonicalMessage): boolean {
  if (message.role !== "user") return false;
  let hasContent = false;
  for (const part of message.content) {
    if (part.type === "tool_result") return false;
    if (part.type === "text") {
      if (part.text.trimStart().startsWith(OPENCLAW_INTERNAL_CONTEXT_MARKER)) continue;
      hasContent = true;
    } else if (part.type === "image") hasContent = true;
  }
  return hasContent;
}

/** Index of the first message of the current run (0 when no real user message exists). */
export function runStartIndex(messages: readonly CanonicalMessage[]): number {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    if (isRealUserMessage(messages[index] as CanonicalMessage)) return index + 1;
  }
  return 0;
}

function sortKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const sorted: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key] as JsonValue);
    return sorted;
  }
  return value;
}

/** Arguments as canonical JSON (keys sorted, no spaces); text that is not JSON is compared trimmed. */
export function canonicalArguments(argumentsText: string): string {
  try {
    return JSON.stringify(sortKeys(JSON.parse(argumentsText) as JsonValue));
  } catch {
    return argumentsText.trim();
  }
}

/** Decides whether the run of `request` must stop. Pure; O(messages in the run). */
export function checkLoop(request: CanonicalRequest, config: LoopGuardConfig): LoopVerdict {
  const messages = request.messages;
  const counts = new Map<string, { tool: string; count: number }>();
  let modelCalls = 0;
  let worst: { tool: string; count: number } = { tool: "", count: 0 };
  for (let index = runStartIndex(messages); index < messages.length; index += 1) {
    const message = messages[index] as CanonicalMessage;
    if (message.role !== "assistant") continue;
    modelCalls += 1;
    for (const part of message.content) {
      if (part.type !== "tool_call") continue;
      const key = `${part.name}\u0000${canonicalArguments(part.arguments)}`;
      const entry = counts.get(key) ?? { tool: part.name, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
      if (entry.count > worst.count) worst = entry;
    }
  }
  if (!config.enabled) return { kind: "continue", modelCalls, mostRepeated: worst.count };
  if (worst.count >= config.maxIdenticalToolCalls) {
    return {
      kind: "stop",
      reason: "identical_tool_calls",
      tool: worst.tool,
      count: worst.count,
      limit: config.maxIdenticalToolCalls,
      modelCalls,
      message: `the agent called the tool \`${worst.tool}\` with the same arguments ${worst.count} times in this run without finishing, so Clawfleet's loop guard ended the run (limit ${config.maxIdenticalToolCalls} identical calls). Nothing else was run. Send a new message, ideally with more guidance, to continue`,
    };
  }
  if (modelCalls >= config.maxModelCallsPerRun) {
    return {
      kind: "stop",
      reason: "too_many_model_calls",
      count: modelCalls,
      limit: config.maxModelCallsPerRun,
      modelCalls,
      message: `the agent made ${modelCalls} model calls in this run without finishing, so Clawfleet's loop guard ended the run (limit ${config.maxModelCallsPerRun} model calls per run). Send a new message to continue`,
    };
  }
  return { kind: "continue", modelCalls, mostRepeated: worst.count };
}
