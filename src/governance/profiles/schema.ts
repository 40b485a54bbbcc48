/**
 * Validation of permission profiles (`PermissionProfileInput`), at the admin API and in the profile service.
 * Structure comes from a closed zod schema; the rules that need the tool catalog (known groups, always-blocked
 * tools, reserved preset names) run on the parsed value. Every problem is collected and reported at once as
 * ClawfleetError `CF_PROFILE_INVALID` with `details.problems: [{path, message}]`.
 */
import { z } from "zod";
import { ClawfleetError } from "../../contracts/errors.js";
import type { PermissionProfileInput } from "../../contracts/governance.js";
import { PRESET_PROFILES } from "./presets.js";
import { ALWAYS_BLOCKED_TOOLS, canonicalToolName, TOOL_GROUPS } from "./tool-catalog.js";

/** Profile names: like tenant ids (`^[a-z0-9][a-z0-9-]{0,62}$`). */
export const PROFILE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A tool entry: `*`, `group:<name>` or a tool name (OpenClaw tools, plugin and MCP tools such as `outlook__send_mail`). */
const TOOL_ENTRY_PATTERN = /^(\*|group:[a-z0-9_-]{1,63}|[a-z0-9_][a-z0-9_.-]{0,127})$/;

/** Most entries in any one list of a profile. */
const MAX_ENTRIES = 256;
/** Longest exec pattern, in characters. */
const MAX_PATTERN_LENGTH = 256;

/** The workspace root placeholder in `paths.roots`. */
export const WORKSPACE_ROOT = "~workspace";

const toolEntries = z
  .array(z.string().trim().toLowerCase().regex(TOOL_ENTRY_PATTERN, "a tool name, group:<name> or *"))
  .max(MAX_ENTRIES)
  .default([]);

const execPatterns = z.array(z.string().trim()).max(MAX_ENTRIES).default([]);

/** The body of a profile as the admin API and the CLI send it (closed; `name` from the body or the URL). */
export const permissionProfileInputSchema = z
  .object({
    name: z.string().regex(PROFILE_NAME_PATTERN, "profile name must match ^[a-z0-9][a-z0-9-]{0,62}$"),
    description: z.string().max(1000).default(""),
    tools: z.object({ allow: toolEntries, deny: toolEntries, approval: toolEntries }).strict().prefault({}),
    paths: z.object({ roots: z.array(z.string()).max(MAX_ENTRIES).default([WORKSPACE_ROOT]) }).strict().prefault({}),
    exec: z
      .object({ allow: execPatterns, deny: execPatterns, defaultAction: z.enum(["allow", "deny", "approval"]).default("deny") })
      .strict()
      .prefault({}),
    injection: z.object({ action: z.enum(["audit", "block"]).default("block") }).strict().prefault({}),
  })
  .strict();

/** One validation problem: where (`tools.allow[2]`) and what. */
export interface ProfileProblem {
  path: string;
  message: string;
}

function pathOf(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((text, segment) => (typeof segment === "number" ? `${text}[${segment}]` : text === "" ? String(segment) : `${text}.${String(segment)}`), "");
}

/** Characters that split an exec command line into parts (the contract's separators); a pattern holding one never matches. */
const COMMAND_SEPARATORS = /[;&|\n`]|\$\(/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function checkExecPatterns(patterns: readonly string[], where: string, problems: ProfileProblem[]): void {
  const seen = new Set<string>();
  patterns.forEach((pattern, index) => {
    const path = `${where}[${index}]`;
    if (pattern === "") problems.push({ path, message: "empty pattern" });
    else if (pattern.length > MAX_PATTERN_LENGTH) problems.push({ path, message: `longer than ${MAX_PATTERN_LENGTH} characters` });
    else if (CONTROL_CHARACTERS.test(pattern)) problems.push({ path, message: "contains a control character" });
    else if (COMMAND_SEPARATORS.test(pattern)) problems.push({ path, message: "contains a command separator (; & | ` $( or a newline): patterns match one command, never a chain" });
    else if (/^[*\s]+$/.test(pattern) && where === "exec.allow") problems.push({ path, message: 'a pattern of only "*" allows every command: use exec.defaultAction "allow" instead' });
    if (seen.has(pattern)) problems.push({ path, message: `duplicate pattern "${pattern}"` });
    seen.add(pattern);
  });
}

function checkRoots(roots: readonly string[], problems: ProfileProblem[]): void {
  roots.forEach((root, index) => {
    const path = `paths.roots[${index}]`;
    if (root === WORKSPACE_ROOT) return;
    if (!root.startsWith("/")) problems.push({ path, message: `must be an absolute path or ${WORKSPACE_ROOT}` });
    else if (root.split("/").some((segment) => segment === ".." || segment === ".")) problems.push({ path, message: "must not contain . or .. segments" });
    else if (root.length > 1 && root.endsWith("/")) problems.push({ path, message: "must not end with /" });
    else if (CONTROL_CHARACTERS.test(root)) problems.push({ path, message: "contains a control character" });
  });
}

/**
 * The rules beyond structure: the name is not a preset's; groups are known; always-blocked tools (and their
 * aliases) are not in `allow` or `approval`; an entry is in at most one list; exec patterns are sane; roots are
 * absolute or `~workspace`.
 */
function semanticProblems(profile: PermissionProfileInput): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  if (PRESET_PROFILES.has(profile.name)) problems.push({ path: "name", message: `"${profile.name}" is a built-in preset; choose another name` });
  const listedIn = new Map<string, string>();
  for (const list of ["allow", "deny", "approval"] as const) {
    profile.tools[list].forEach((entry, index) => {
      const path = `tools.${list}[${index}]`;
      if (entry.startsWith("group:") && TOOL_GROUPS[entry] === undefined) problems.push({ path, message: `unknown group "${entry}" (known: ${Object.keys(TOOL_GROUPS).join(", ")})` });
      const tool = entry.startsWith("group:") || entry === "*" ? entry : canonicalToolName(entry);
      if (list !== "deny" && ALWAYS_BLOCKED_TOOLS.includes(tool)) problems.push({ path, message: `"${entry}" is always blocked and cannot be ${list === "allow" ? "allowed" : "approval-listed"}` });
      if (list === "approval" && entry === "*") problems.push({ path, message: '"*" cannot be approval-listed: name the tools that need approval' });
      const previous = listedIn.get(tool);
      if (previous !== undefined) problems.push({ path, message: `"${entry}" is already listed in ${previous}` });
      else listedIn.set(tool, path);
    });
  }
  checkExecPatterns(profile.exec.allow, "exec.allow", problems);
  checkExecPatterns(profile.exec.deny, "exec.deny", problems);
  checkRoots(profile.paths.roots, problems);
  return problems;
}

function invalid(problems: readonly ProfileProblem[], name: unknown): ClawfleetError {
  const summary = problems.map((problem) => `${problem.path || "(body)"}: ${problem.message}`).join("; ");
  return new ClawfleetError("CF_PROFILE_INVALID", `invalid permission profile${typeof name === "string" ? ` "${name}"` : ""}: ${summary}`, { details: { problems } });
}

/**
 * Parses and validates a profile body (defaults applied, tool entries trimmed and lower-cased).
 * @returns the input without `updatedBy` (the service sets it from the actor)
 * @throws ClawfleetError CF_PROFILE_INVALID listing every problem found
 */
export function parsePermissionProfileInput(body: unknown): PermissionProfileInput {
  const parsed = permissionProfileInputSchema.safeParse(body);
  if (!parsed.success) {
    const name = typeof body === "object" && body !== null && "name" in body ? (body as { name: unknown }).name : undefined;
    throw invalid(parsed.error.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message })), name);
  }
  const profile: PermissionProfileInput = parsed.data;
  const problems = semanticProblems(profile);
  if (problems.length > 0) throw invalid(problems, profile.name);
  return profile;
}
