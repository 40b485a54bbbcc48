/**
 * Which grant covers which call. A grant covers a call when tenant and tool are equal, it is not revoked,
 * not expired and not used up, and each of its optional bindings matches: the session, the exact arguments
 * hash, the argument pattern.
 *
 * An argument pattern is matched against the call's *subject*: the `command` string for shell tools
 * (`exec`, `bash`, `process`), else the first string among `path`, `file_path`, `url`, else the canonical
 * JSON of the arguments. In a pattern `*` matches any run of characters and `?` one character, EXCEPT shell
 * metacharacters (`; & | ( ) < > $` backtick, newline, carriage return), so a grant for `ls *` never covers
 * `ls; rm -rf ~`. Everything else is literal; the whole subject must match.
 */
import type { JsonValue } from "../../contracts/chat.js";
import type { GrantRecord } from "../../contracts/approvals.js";
import { canonicalJson } from "./canonical.js";

/** Characters a wildcard never matches (command separators, substitutions, redirections). */
const SHELL_METACHARACTERS = ";&|()<>$`\n\r";
const SHELL_TOOLS = new Set(["exec", "bash", "process"]);

/** Longest accepted argument pattern (characters). */
export const MAX_PATTERN_LENGTH = 1000;

/** The string an argument pattern is matched against (see the module comment). */
export function subjectOf(tool: string, args: JsonValue): string {
  if (typeof args === "object" && args !== null && !Array.isArray(args)) {
    if (SHELL_TOOLS.has(tool) && typeof args.command === "string") return args.command;
    for (const key of ["path", "file_path", "url"]) {
      const value = args[key];
      if (typeof value === "string") return value;
    }
  }
  return canonicalJson(args);
}

/** Escapes a regular-expression syntax character. `-` is not escaped: outside a class it is literal, and the `u` flag refuses `\-` there. */
function escapeRegExp(character: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(character) ? `\\${character}` : character;
}

const WILDCARD_CLASS = `[^${[...SHELL_METACHARACTERS].map((character) => (character === "\n" ? "\\n" : character === "\r" ? "\\r" : escapeRegExp(character))).join("")}]`;

/** Compiles an argument pattern to an anchored regular expression (linear: no nested quantifiers). */
export function compilePattern(pattern: string): RegExp {
  let source = "";
  for (const character of pattern) {
    if (character === "*") source += `${WILDCARD_CLASS}*`;
    else if (character === "?") source += WILDCARD_CLASS;
    else source += escapeRegExp(character);
  }
  return new RegExp(`^${source}$`, "su");
}

/** True when `pattern` matches the call's subject. */
export function patternMatches(pattern: string, tool: string, args: JsonValue): boolean {
  return compilePattern(pattern).test(subjectOf(tool, args));
}

/** The call a grant is checked against. */
export interface CallIdentity {
  tenantId: string;
  sessionId: string;
  tool: string;
  arguments: JsonValue;
  argumentsHash: string;
}

/** True when `grant` covers `call` at `nowMs` (see the module comment). */
export function grantCovers(grant: GrantRecord, call: CallIdentity, nowMs: number): boolean {
  if (grant.tenantId !== call.tenantId || grant.tool !== call.tool) return false;
  if (grant.revokedAtMs !== null) return false;
  if (grant.expiresAtMs !== null && grant.expiresAtMs <= nowMs) return false;
  if (grant.maxUses !== null && grant.uses >= grant.maxUses) return false;
  if (grant.sessionId !== null && grant.sessionId !== call.sessionId) return false;
  if (grant.argumentsHash !== null && grant.argumentsHash !== call.argumentsHash) return false;
  if (grant.argumentsPattern !== null && !patternMatches(grant.argumentsPattern, call.tool, call.arguments)) return false;
  return true;
}
