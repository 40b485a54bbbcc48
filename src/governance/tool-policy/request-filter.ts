/**
 * Tool policy on the request: the tools a profile does not permit are removed from what the model is offered,
 * both from the request's tool list and from the lists OpenClaw writes into its system prompt (capture
 * ../shared/openclaw/captures/12-toolcall-gateway-turn1.json): the `## Tooling` list (`- exec: Run shell…`,
 * `- tool_call`) and the `Available deferred-schema tools:` list (`- gateway (core): Read gateway config…`),
 * whose tools are callable only through `tool_call`. Tools that need approval stay offered (the call is then
 * held for approval). This is hygiene, not the control: the response guard decides every call anyway.
 */
import type { CanonicalMessage, CanonicalRequest, CanonicalTool } from "../../contracts/chat.js";
import type { PermissionProfile } from "../../contracts/governance.js";
import { toolLevelVerdict } from "./decide.js";

/** What the filter removed (for logs and tests). */
export interface RequestFilterResult {
  request: CanonicalRequest;
  removedTools: string[];
  removedPromptEntries: string[];
}

/** A tool-list line of OpenClaw's system prompt: `- name`, `- name: text`, `- name (source): text`. */
const LIST_ENTRY = /^- ([A-Za-z0-9_.-]+)(?: \([^)\n]*\))?(?::.*)?$/;
/** Lines that open a tool list. */
const LIST_OPENERS = [/^## Tooling\s*$/, /^Available deferred-schema tools:\s*$/];
const LIST_OPENER_TEXTS = ["## Tooling", "Available deferred-schema tools:"];

function permitted(profile: PermissionProfile, name: string): boolean {
  return toolLevelVerdict(profile, name).kind !== "deny";
}

/**
 * Removes entries for tools the profile denies from OpenClaw's tool lists in one system prompt text.
 * Returns the same string when nothing changed.
 */
export function filterSystemPromptTools(text: string, profile: PermissionProfile, removed: string[]): string {
  const first = Math.min(...LIST_OPENER_TEXTS.map((opener) => text.indexOf(opener)).map((index) => (index === -1 ? Number.POSITIVE_INFINITY : index)));
  if (first === Number.POSITIVE_INFINITY) return text;
  // Only the lines from the first list on are scanned (the prompt is ~49 K characters; the lists are short).
  const lineStart = text.lastIndexOf("\n", first) + 1;
  const kept: string[] = [];
  let inList = false;
  let changed = false;
  let position = lineStart;
  while (position <= text.length) {
    const newline = text.indexOf("\n", position);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(position, end);
    let keep = true;
    if (LIST_OPENERS.some((opener) => opener.test(line))) {
      inList = true;
    } else if (inList) {
      const entry = LIST_ENTRY.exec(line);
      if (entry) {
        if (!permitted(profile, entry[1] as string)) {
          removed.push(entry[1] as string);
          changed = true;
          keep = false;
        }
      } else if (line.trim() === "" || (!line.startsWith("#") && !line.startsWith("Tools "))) {
        inList = false;
        // No further list after this point: the rest of the prompt is kept as it is.
        if (!LIST_OPENER_TEXTS.some((opener) => text.includes(opener, end))) {
          if (!changed) return text;
          kept.push(text.slice(position));
          return text.slice(0, lineStart) + kept.join("\n");
        }
      }
    }
    if (keep) kept.push(line);
    if (newline === -1) break;
    position = newline + 1;
  }
  return changed ? text.slice(0, lineStart) + kept.join("\n") : text;
}

function filterMessage(message: CanonicalMessage, profile: PermissionProfile, removed: string[]): CanonicalMessage {
  if (message.role !== "system") return message;
  let changed = false;
  const content = message.content.map((part) => {
    if (part.type !== "text") return part;
    const text = filterSystemPromptTools(part.text, profile, removed);
    if (text === part.text) return part;
    changed = true;
    return { ...part, text };
  });
  return changed ? { ...message, content } : message;
}

/**
 * The request as the profile lets the model see it. Does not mutate `request`; returns it unchanged (same
 * object) when nothing is removed. A `toolChoice` naming a removed tool becomes `auto` (or is dropped with the
 * last tool).
 */
export function filterRequestTools(request: CanonicalRequest, profile: PermissionProfile): RequestFilterResult {
  const removedTools: string[] = [];
  const removedPromptEntries: string[] = [];
  let tools: CanonicalTool[] | undefined = request.tools;
  if (tools && tools.length > 0) {
    const kept = tools.filter((tool) => {
      if (permitted(profile, tool.name)) return true;
      removedTools.push(tool.name);
      return false;
    });
    if (removedTools.length > 0) tools = kept;
  }
  let messages = request.messages;
  const filtered = messages.map((message) => filterMessage(message, profile, removedPromptEntries));
  if (filtered.some((message, index) => message !== messages[index])) messages = filtered;
  if (removedTools.length === 0 && messages === request.messages) return { request, removedTools, removedPromptEntries };
  const next: CanonicalRequest = { ...request, messages };
  if (tools !== request.tools) {
    if (tools && tools.length > 0) next.tools = tools;
    else delete next.tools;
    const choice = request.toolChoice;
    if (choice?.type === "tool" && removedTools.includes(choice.name)) {
      if (next.tools) next.toolChoice = { type: "auto" };
      else delete next.toolChoice;
    } else if (!next.tools && choice) {
      delete next.toolChoice;
    }
    if (!next.tools) delete next.parallelToolCalls;
  }
  return { request: next, removedTools, removedPromptEntries };
}
