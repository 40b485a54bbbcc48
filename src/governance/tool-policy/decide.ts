/**
 * The tool policy engine: a pure function from (profile, tool call, where it runs) to a verdict. No I/O.
 *
 * Order (src/contracts/governance.ts, `PermissionProfile`): the call is unwrapped first (`tool_call {id,
 * args}` → the effective tool and arguments, see meta-tools.ts; the meta-tool itself must be allowed too),
 * then: always-blocked → `tools.deny` → `tools.approval` → `tools.allow` (names, groups, `*`) → denied.
 * A call that passes the tool level has its arguments checked: file tools' paths against `paths.roots`
 * (paths.ts), command tools against `exec` (exec-rules.ts). Arguments that are not valid JSON are refused
 * (the runtime may repair them into something else). An argument check can only make a verdict stricter
 * (allow → approval → deny), never looser.
 */
import type { JsonValue } from "../../contracts/chat.js";
import type { DenyReason, PermissionProfile, RiskLevel, ToolDecision } from "../../contracts/governance.js";
import { ALWAYS_BLOCKED_TOOLS, COMMAND_TOOLS, FILE_TOOLS, META_TOOL_CALL, expandToolEntries } from "../profiles/tool-catalog.js";
import { checkCommand, deobfuscate, splitCommand } from "./exec-rules.js";
import { normalizeToolName, unwrapToolCall } from "./meta-tools.js";
import { canonicalizePath, isInsideRoots, pathsInArguments, type PathContext } from "./paths.js";

/** Where the call would run: the runtime's workspace and HOME, as the runtime sees them. */
export type DecisionContext = PathContext;

/** A call as the model produced it: the name it called and its arguments as JSON text. */
export interface ToolCallInput {
  name: string;
  /** JSON text exactly as the model produced it (`""` means no arguments). */
  arguments: string;
}

/** The verdict plus what it was decided on (the effective tool and arguments). */
export interface ReviewedCall {
  decision: ToolDecision;
  /** The effective tool (`exec` for `tool_call {id: "exec"}`), or the called name when unwrapping failed. */
  tool: string;
  /** The effective arguments (`{}` when none or unparsable). */
  arguments: JsonValue;
}

/** Expanded tool sets of one profile (computed once per profile object). */
interface CompiledProfile {
  allow: Set<string>;
  deny: Set<string>;
  approval: Set<string>;
  allowAll: boolean;
  denyAll: boolean;
  approvalAll: boolean;
}

const compiledProfiles = new WeakMap<PermissionProfile, CompiledProfile>();

function compile(profile: PermissionProfile): CompiledProfile {
  let compiled = compiledProfiles.get(profile);
  if (!compiled) {
    const allow = expandToolEntries(profile.tools.allow);
    const deny = expandToolEntries(profile.tools.deny);
    const approval = expandToolEntries(profile.tools.approval);
    compiled = { allow, deny, approval, allowAll: allow.has("*"), denyAll: deny.has("*"), approvalAll: approval.has("*") };
    compiledProfiles.set(profile, compiled);
  }
  return compiled;
}

const ALWAYS_BLOCKED = new Set(ALWAYS_BLOCKED_TOOLS);
const FILE_TOOL_SET = new Set(FILE_TOOLS);
const COMMAND_TOOL_SET = new Set(COMMAND_TOOLS);

/** The tool-level verdict on a (canonical) tool name alone, without arguments. */
export type ToolLevelVerdict = { kind: "allow" } | { kind: "approval" } | { kind: "deny"; reason: DenyReason };

/**
 * The tool-level verdict for a tool name as a model or a request names it (normalized here). Used to filter
 * the tools a request offers; a call is decided by {@link reviewToolCall}.
 */
export function toolLevelVerdict(profile: PermissionProfile, name: string): ToolLevelVerdict {
  const tool = normalizeToolName(name);
  const compiled = compile(profile);
  if (ALWAYS_BLOCKED.has(tool)) return { kind: "deny", reason: "always_blocked" };
  if (compiled.denyAll || compiled.deny.has(tool)) return { kind: "deny", reason: "denied_by_profile" };
  if (compiled.approvalAll || compiled.approval.has(tool)) return { kind: "approval" };
  if (compiled.allowAll || compiled.allow.has(tool)) return { kind: "allow" };
  return { kind: "deny", reason: "not_allowed_by_profile" };
}

/** Destructive or exfiltrating programs: an approval for them is `critical`. */
const CRITICAL_PROGRAMS = /^(?:rm|dd|mkfs(?:\.\w+)?|shred|chmod|chown|sudo|su|curl|wget|nc|ncat|netcat|ssh|scp|sftp|rsync|ftp|telnet|kill|pkill|killall|reboot|shutdown|crontab|iptables|mount|umount)$/;
const MEDIUM_TOOLS = new Set(["write", "edit", "apply_patch", "file_write", "message", "sessions_send", "sessions_spawn", "conversations_send", "conversations_turn", "automations", "browser", "terminal"]);

/** Risk shown to approvers: commands are `high` (`critical` for destructive/network programs), writes and messages `medium`, the rest `low`. */
export function riskOf(tool: string, args: JsonValue): RiskLevel {
  if (COMMAND_TOOL_SET.has(tool)) {
    const command = commandOf(tool, args);
    if (command !== null) {
      for (const part of splitCommand(command)) {
        const program = deobfuscate(part).split(" ")[0] ?? "";
        if (CRITICAL_PROGRAMS.test(program)) return "critical";
      }
    }
    return "high";
  }
  if (MEDIUM_TOOLS.has(tool)) return "medium";
  return "low";
}

function objectArgs(args: JsonValue): Record<string, JsonValue> | null {
  return typeof args === "object" && args !== null && !Array.isArray(args) ? args : null;
}

/** Named keys `process send-keys` may send without being a command (anything else is checked as text). */
const NAMED_KEYS = /^(?:enter|return|tab|escape|esc|up|down|left|right|home|end|pageup|pagedown|backspace|delete|space|c-[a-z]|ctrl-[a-z]|ctrl\+[a-z]|f\d{1,2})$/i;

/**
 * The command text a command tool would run, or null when it runs none (e.g. `process poll`).
 * `exec`: `command`; `process` write/paste/submit/send-keys: `data`, `text`, `literal`, `hex` (decoded) and
 * non-named `keys`; `code_execution`: its code (as text; a command that matches no allow rule).
 */
function commandOf(tool: string, args: JsonValue): string | null {
  const object = objectArgs(args);
  if (!object) return null;
  if (tool === "exec") return typeof object.command === "string" ? object.command : null;
  if (tool === "process") {
    const texts: string[] = [];
    for (const key of ["data", "text", "literal"]) if (typeof object[key] === "string") texts.push(object[key] as string);
    if (Array.isArray(object.hex)) texts.push(Buffer.from(object.hex.map((byte) => (typeof byte === "string" ? byte : "")).join("").replace(/[^0-9a-f]/gi, ""), "hex").toString("utf8"));
    if (Array.isArray(object.keys)) for (const key of object.keys) if (typeof key === "string" && !NAMED_KEYS.test(key)) texts.push(key);
    return texts.length > 0 ? texts.join("\n") : null;
  }
  for (const key of ["code", "command", "script", "source", "input"]) if (typeof object[key] === "string") return object[key] as string;
  return "";
}

/** Environment overrides that change which program a command runs or what it loads. */
const DANGEROUS_ENVIRONMENT = /^(?:PATH|LD_\w+|DYLD_\w+|BASH_ENV|ENV|IFS|SHELLOPTS|BASHOPTS|PS4|PROMPT_COMMAND|NODE_OPTIONS|PYTHONPATH|PYTHONSTARTUP|PERL5OPT|RUBYOPT|GIT_\w+)$/i;

function checkCommandTool(profile: PermissionProfile, tool: string, args: JsonValue): ToolDecision {
  const object = objectArgs(args);
  if (tool === "exec" && (!object || typeof object.command !== "string")) return { kind: "deny", reason: "invalid_arguments", message: "exec needs a string `command`" };
  const unrestricted = profile.exec.defaultAction === "allow" && profile.exec.deny.length === 0;
  if (object && !unrestricted) {
    const environment = objectArgs(object.env ?? null);
    if (environment) for (const name of Object.keys(environment)) if (DANGEROUS_ENVIRONMENT.test(name)) return { kind: "deny", reason: "exec_command_denied", message: `the environment override ${name} is not permitted by this profile` };
    if (object.elevated === true) return { kind: "deny", reason: "exec_command_denied", message: "elevated execution is not permitted by this profile" };
  }
  if (tool === "code_execution") {
    // Code cannot be split into commands: it passes only where every command would (no deny rules, default allow).
    if (unrestricted) return { kind: "allow" };
    if (profile.exec.defaultAction === "approval") return { kind: "approval", risk: "high", message: "code execution cannot be checked against the exec rules and needs approval" };
    return { kind: "deny", reason: "exec_command_denied", message: "code execution cannot be checked against this profile's exec rules" };
  }
  const command = commandOf(tool, args);
  if (command === null) return { kind: "allow" };
  const verdict = checkCommand(command, profile.exec);
  if (verdict.kind === "allow") return { kind: "allow" };
  if (verdict.kind === "approval") return { kind: "approval", risk: riskOf(tool, args), message: `the command \`${clip(verdict.part)}\` needs approval` };
  const why = verdict.pattern !== null ? `matches the deny rule \`${verdict.pattern}\`` : verdict.part === "" ? "is empty" : "matches no allow rule";
  return { kind: "deny", reason: "exec_command_denied", message: `the command \`${clip(verdict.part)}\` ${why}` };
}

function checkPaths(profile: PermissionProfile, tool: string, args: JsonValue, context: DecisionContext): ToolDecision {
  for (const raw of pathsInArguments(tool, args)) {
    const canonical = canonicalizePath(raw, context);
    if (!canonical.ok) return { kind: "deny", reason: "invalid_arguments", message: `the path \`${clip(raw)}\` is refused: ${canonical.problem}` };
    for (const candidate of [canonical.path, canonical.literal]) {
      if (!isInsideRoots(candidate, profile.paths.roots, context)) {
        return { kind: "deny", reason: "path_outside_roots", message: `the path \`${clip(raw)}\` resolves to ${clip(candidate)}, outside the allowed roots (${profile.paths.roots.join(", ") || "none"})` };
      }
    }
  }
  return { kind: "allow" };
}

function clip(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]/g, " ");
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

function parseArguments(text: string): { ok: true; value: JsonValue } | { ok: false } {
  if (text.trim().length === 0) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as JsonValue };
  } catch {
    return { ok: false };
  }
}

const STRICTNESS: Record<ToolDecision["kind"], number> = { allow: 0, approval: 1, deny: 2 };

/** The stricter of two decisions (the first one on a tie). */
function stricter(first: ToolDecision, second: ToolDecision): ToolDecision {
  return STRICTNESS[second.kind] > STRICTNESS[first.kind] ? second : first;
}

/**
 * Reviews one tool call against a profile. Pure and synchronous; never throws.
 * @returns the verdict with the effective tool and arguments it was decided on.
 */
export function reviewToolCall(profile: PermissionProfile, call: ToolCallInput, context: DecisionContext): ReviewedCall {
  const parsed = parseArguments(call.arguments);
  if (!parsed.ok) return { tool: normalizeToolName(call.name), arguments: {}, decision: { kind: "deny", reason: "invalid_arguments", message: `the arguments of ${clip(call.name)} are not valid JSON` } };
  const unwrapped = unwrapToolCall(call.name, parsed.value);
  if (!unwrapped.ok) return { tool: normalizeToolName(call.name), arguments: parsed.value, decision: { kind: "deny", reason: "invalid_arguments", message: unwrapped.problem } };
  const { tool, arguments: args } = unwrapped;
  const reviewed = (decision: ToolDecision): ReviewedCall => ({ tool, arguments: args, decision });
  if (unwrapped.depth > 0) {
    const meta = toolLevelVerdict(profile, META_TOOL_CALL);
    if (meta.kind === "deny") return reviewed({ kind: "deny", reason: meta.reason, message: `the tool ${META_TOOL_CALL} is not permitted by profile ${profile.name}` });
  }
  const level = toolLevelVerdict(profile, tool);
  if (level.kind === "deny") {
    const message = level.reason === "always_blocked" ? `the tool ${tool} is blocked for every profile` : `the tool ${tool} is not permitted by profile ${profile.name}`;
    return reviewed({ kind: "deny", reason: level.reason, message });
  }
  let decision: ToolDecision = level.kind === "approval" ? { kind: "approval", risk: riskOf(tool, args), message: `the tool ${tool} needs approval under profile ${profile.name}` } : { kind: "allow" };
  if (FILE_TOOL_SET.has(tool) || tool === "exec") decision = stricter(decision, checkPaths(profile, tool, args, context));
  if (COMMAND_TOOL_SET.has(tool)) decision = stricter(decision, checkCommandTool(profile, tool, args));
  return reviewed(decision);
}

/** `decide(profile, call, context) → ToolDecision` (the verdict alone; see {@link reviewToolCall}). */
export function decide(profile: PermissionProfile, call: ToolCallInput, context: DecisionContext): ToolDecision {
  return reviewToolCall(profile, call, context).decision;
}
