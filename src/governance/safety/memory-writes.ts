/**
 * Prompt-injection scan of memory writes: a tool call that writes into the files OpenClaw loads into future
 * sessions persists whatever it writes (memory poisoning). OpenClaw 2026.9.6 docs (`docs/concepts/memory.md`,
 * `docs/concepts/memory-architecture.md`): memory is plain Markdown in the agent's workspace — `MEMORY.md`
 * (long-term, loaded at session start), `USER.md` (user model, loaded at session start), `memory/YYYY-MM-DD*.md`
 * (daily notes, indexed for `memory_search`), `DREAMS.md`; the workspace bootstrap files `AGENTS.md`, `SOUL.md`,
 * `TOOLS.md`, `IDENTITY.md`, `HEARTBEAT.md` are injected into every system prompt. The memory tools themselves
 * (`memory_search`, `memory_get`) only read; `intent` creates standing intents. The agent writes memory with the
 * file tools (`write`, `edit`, `apply_patch`, deferred `file_write`) or with `exec` (`echo … >> MEMORY.md`).
 *
 * Called by the model gateway's tool guard (src/governance/tool-policy/guard.ts) on each tool call the profile
 * would allow or hold for approval (effective tool and arguments, after unwrapping `tool_call`): a detection is
 * audited as `injection_detected` with `source: "memory_write"`, and with the tenant's profile
 * `injection.action === "block"` the call is refused (deny reason `memory_injection`).
 */
import type { JsonValue } from "../../contracts/chat.js";
import { detectInjection, type InjectionFinding } from "./injection/detector.js";

/** Paths OpenClaw loads into later sessions (relative to the workspace, or absolute ending in them). */
const MEMORY_PATH = /(?:^|[\\/])(?:MEMORY\.md|USER\.md|DREAMS\.md|AGENTS\.md|SOUL\.md|TOOLS\.md|IDENTITY\.md|HEARTBEAT\.md|memory[\\/][^\\/]*\.md)$/i;
const MEMORY_MENTION = /(?:^|[\s"'`\\/=>])(?:MEMORY\.md|USER\.md|DREAMS\.md|AGENTS\.md|SOUL\.md|TOOLS\.md|IDENTITY\.md|HEARTBEAT\.md|memory\/[^\s"'`]*\.md)/i;
const FILE_WRITE_TOOLS = new Set(["write", "edit", "apply_patch", "file_write"]);
const COMMAND_TOOLS = new Set(["exec", "bash", "process", "code_execution"]);
const PATH_KEYS = ["path", "file_path", "filePath", "file", "filename", "target"];

/** A memory write found in a tool call, with the verdict on what it writes. */
export interface MemoryWriteFinding {
  /** The memory file written (as the call named it), or `intent` for standing intents. */
  target: string;
  finding: InjectionFinding;
}

function stringsOf(value: JsonValue, into: string[]): string[] {
  if (typeof value === "string") into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, into);
  else if (value !== null && typeof value === "object") for (const item of Object.values(value)) stringsOf(item, into);
  return into;
}

function pathArgument(args: { [key: string]: JsonValue }): string | null {
  for (const key of PATH_KEYS) {
    const value = args[key];
    if (typeof value === "string") return value;
  }
  return null;
}

/**
 * When `call` writes OpenClaw memory (or a bootstrap file), scans what it writes; else returns null.
 * `tool` is the effective tool name (after unwrapping `tool_call`); `arguments` the parsed arguments. Never throws.
 */
export function scanMemoryWrite(call: { tool: string; arguments: JsonValue }): MemoryWriteFinding | null {
  const tool = call.tool.trim().toLowerCase();
  const args = call.arguments !== null && typeof call.arguments === "object" && !Array.isArray(call.arguments) ? call.arguments : {};
  if (tool === "intent") return { target: "intent", finding: detectInjection(stringsOf(args, []).join("\n")) };
  if (FILE_WRITE_TOOLS.has(tool)) {
    const target = pathArgument(args);
    const texts = stringsOf(args, []);
    if (target !== null && MEMORY_PATH.test(target)) return { target, finding: detectInjection(texts.filter((text) => text !== target).join("\n")) };
    // apply_patch carries its file names inside the patch text.
    const mentioned = texts.find((text) => MEMORY_MENTION.test(text));
    if (tool === "apply_patch" && mentioned !== undefined) return { target: (MEMORY_MENTION.exec(mentioned)?.[0] ?? "memory").trim(), finding: detectInjection(texts.join("\n")) };
    return null;
  }
  if (COMMAND_TOOLS.has(tool)) {
    const command = stringsOf(args, []).join("\n");
    if (/>>?\s*\S*(?:MEMORY|USER|DREAMS|AGENTS|SOUL|TOOLS|IDENTITY|HEARTBEAT)\.md|>>?\s*\S*memory\/\S*\.md|tee\s+(?:-a\s+)?\S*(?:MEMORY|USER|AGENTS|SOUL)\.md/i.test(command)) {
      return { target: (MEMORY_MENTION.exec(command)?.[0] ?? "memory").trim(), finding: detectInjection(command) };
    }
  }
  return null;
}
