/**
 * Exec command rules of a permission profile (see `PermissionProfile.exec` in src/contracts/governance.ts).
 *
 * A command line is normalized (NFKC, whitespace runs → one space) and split on the command separators `;`,
 * `&` (so `&&`), `|` (so `||`), newline, backtick, `$(`, and the process substitutions `<(` / `>(`; every part
 * must pass, and one denied part denies the whole command (deny wins over allow). Patterns match a whole part:
 * `*` matches any run of characters (parts contain no separators, so it cannot cross one); a pattern ending in
 * ` *` also matches the bare command (`ls *` matches `ls`).
 *
 * Allow rules are matched against the part as written (after stripping the grouping characters `(`, `)`, `{`,
 * `}` around it), so quoting or escaping can only make a command fail an allow rule. Deny rules are a best
 * effort against obfuscation: they are matched against the part as written AND against a de-obfuscated form
 * (quotes and backslashes removed, shell keywords and wrappers such as `then`, `do`, `sudo`, `env`, `command`,
 * `nohup`, `xargs` stripped from the front, the program's directory dropped: `then /bin/r''m -rf x` → `rm -rf x`).
 * A shell can always hide a program from a deny list (`sh -c "$(printf …)"`, variables); allow lists are the
 * hard control, deny lists narrow what an allowed or approval-gated command may be.
 */
import type { ExecDefaultAction } from "../../contracts/governance.js";

/** The verdict of the exec rules on one command line. */
export type ExecVerdict =
  | { kind: "allow" }
  | { kind: "deny"; part: string; pattern: string | null }
  | { kind: "approval"; part: string };

/** The profile's exec rules (`PermissionProfile.exec`). */
export interface ExecRules {
  allow: readonly string[];
  deny: readonly string[];
  defaultAction: ExecDefaultAction;
}

const SEPARATORS = /\$\(|<\(|>\(|;|&|\||\n|\r|`/;
const SEPARATORS_GLOBAL = /\$\(|<\(|>\(|;|&|\||\n|\r|`/g;

/** Words that run the rest of the line as a command (stripped before deny matching). */
const PREFIX_WORDS = new Set([
  "then", "do", "else", "elif", "if", "while", "until", "!", "time", "exec", "command", "builtin", "eval", "env", "nohup",
  "nice", "ionice", "sudo", "doas", "xargs", "timeout", "stdbuf", "setsid", "chroot", "unbuffer", "busybox", "su",
]);

/** Splits a command line into its parts (trimmed, grouping characters stripped, empty parts dropped). */
export function splitCommand(command: string): string[] {
  const normalized = command.normalize("NFKC").replace(/[\t\f\v ]+/g, " ");
  const parts: string[] = [];
  for (const raw of normalized.split(SEPARATORS_GLOBAL)) {
    const part = raw.replace(/^[\s({]+/, "").replace(/[\s)}]+$/, "").trim();
    if (part.length > 0) parts.push(part);
  }
  return parts;
}

/** True when the command contains any separator (for callers that want to know it was compound). */
export function isCompound(command: string): boolean {
  return SEPARATORS.test(command);
}

const patternCache = new Map<string, RegExp>();

/** Compiles a rule pattern: literal text, `*` = any run of characters, trailing ` *` optional. Cached. */
export function compilePattern(pattern: string): RegExp {
  let compiled = patternCache.get(pattern);
  if (compiled) return compiled;
  const normalized = pattern.normalize("NFKC").replace(/\s+/g, " ").trim();
  const optionalTail = normalized.endsWith(" *");
  const body = optionalTail ? normalized.slice(0, -2) : normalized;
  const source = body.split("*").map((literal) => literal.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")).join(".*");
  compiled = new RegExp(`^${source}${optionalTail ? "(?: .*)?" : ""}$`, "s");
  if (patternCache.size < 10_000) patternCache.set(pattern, compiled);
  return compiled;
}

/** The de-obfuscated form of one part used for deny matching (see the module docs). */
export function deobfuscate(part: string): string {
  let words = part.replace(/\\(.)/g, "$1").replace(/["']/g, "").split(" ").filter((word) => word.length > 0);
  for (;;) {
    const first = words[0];
    if (first === undefined) break;
    const lower = first.toLowerCase();
    if (PREFIX_WORDS.has(lower) || PREFIX_WORDS.has(lower.replace(/^.*\//, ""))) {
      words = words.slice(1);
      // Options and assignments of the wrapper (`env -i A=1 rm`, `sudo -u root rm`, `timeout 5 rm`).
      while (words[0] !== undefined && (/^-/.test(words[0]) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]) || /^\d+[smhd]?$/.test(words[0]))) words = words.slice(1);
      continue;
    }
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(first)) {
      words = words.slice(1); // `A=1 rm …`
      continue;
    }
    break;
  }
  if (words[0] !== undefined) words[0] = words[0].replace(/^.*\//, "");
  return words.join(" ");
}

function matchesAny(text: string, patterns: readonly string[]): string | null {
  for (const pattern of patterns) if (compilePattern(pattern).test(text)) return pattern;
  return null;
}

/**
 * Checks one command line against the rules. An empty command (no parts) is denied (the runtime would fail;
 * nothing to allow). Order per part: deny (as written or de-obfuscated) → allow (as written) → default action.
 */
export function checkCommand(command: string, rules: ExecRules): ExecVerdict {
  const parts = splitCommand(command);
  if (parts.length === 0) return { kind: "deny", part: "", pattern: null };
  let pending: string | null = null;
  for (const part of parts) {
    const denied = matchesAny(part, rules.deny) ?? matchesAny(deobfuscate(part), rules.deny);
    if (denied !== null) return { kind: "deny", part, pattern: denied };
    if (matchesAny(part, rules.allow) !== null) continue;
    if (rules.defaultAction === "deny") return { kind: "deny", part, pattern: null };
    if (rules.defaultAction === "approval") pending ??= part;
  }
  return pending === null ? { kind: "allow" } : { kind: "approval", part: pending };
}
