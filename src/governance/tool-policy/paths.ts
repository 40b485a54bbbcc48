/**
 * Path arguments of file tools, canonicalized the way an attacker would hope the gateway does not: before a
 * path is compared with a profile's roots it is decoded (percent-encoding, repeatedly, so `%252e%252e` is
 * `..`), Unicode-normalized (NFKC: fullwidth `．．／` → `../`), stripped of look-alike slashes (U+2215, U+2044,
 * U+29F8, U+FF3C…) and backslashes (→ `/`), resolved against the workspace (relative paths, `.`, `..`) and
 * only then checked. A NUL byte, a control character, a `~user` home, a URL scheme other than `file:`, or an
 * encoding that does not settle after a few rounds is refused (the runtime might read it differently).
 *
 * Sources: RFC 3986 §2.1 (percent-encoding), Unicode UAX #15 (NFKC), POSIX path resolution (`path.posix`).
 */
import path from "node:path";

/** Where paths are resolved. All absolute POSIX paths as the runtime sees them (inside its sandbox). */
export interface PathContext {
  /** The runtime's workspace (`~workspace`; relative paths resolve here), e.g. `/srv/tenant/workspace`. */
  workspaceDir: string;
  /** The runtime's HOME (`~` and `~/x` resolve here), e.g. `/srv/tenant/home`. */
  homeDir: string;
}

/**
 * The absolute paths a raw value can mean — decoded and normalized (`path`) and taken literally as the runtime's
 * file system would (`literal`); a decision must hold for both — or why the raw value cannot be trusted.
 */
export type CanonicalPath = { ok: true; path: string; literal: string } | { ok: false; problem: string };

/** Rounds of percent-decoding before a value that keeps changing is refused. */
const MAX_DECODE_ROUNDS = 4;

/** Slash look-alikes NFKC keeps as they are (division slash, fraction slash, big solidus, fullwidth/small reverse solidus…). */
const SLASH_LOOKALIKES = /[\u2215\u2044\u29f8\u29f9\u2216\ufe68\uff3c\u29f5\u2571\u2572\u3033]/g;
/** Dot look-alikes NFKC keeps (one-dot leader is folded by NFKC; these are not). */
const DOT_LOOKALIKES = /[\u2e2e\u00b7\u0387\u2219\u22c5\u30fb\uff65\u2027]/g;
/** Invisible characters that would make two spellings of one path differ (zero-width, bidi, BOM, soft hyphen). */
const INVISIBLES = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\u034f\u180e]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function percentDecodeFully(value: string): string | null {
  let current = value;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round += 1) {
    if (!current.includes("%")) return current;
    let decoded: string;
    try {
      decoded = decodeURIComponent(current);
    } catch {
      // A stray `%` that is not an escape: keep it literally (the runtime's fs would too) but decode the valid ones.
      decoded = current.replace(/%[0-9a-fA-F]{2}/g, (escape) => String.fromCharCode(Number.parseInt(escape.slice(1), 16)));
    }
    if (decoded === current) return current;
    current = decoded;
  }
  return current.includes("%") && /%[0-9a-fA-F]{2}/.test(current) ? null : current;
}

/**
 * Canonicalizes one raw path argument into an absolute POSIX path. Never throws.
 * Steps: NFKC → look-alikes and invisibles → percent-decoding (until stable, ≤ 4 rounds, NFKC again) →
 * `file:` URL prefix removed → backslashes → `/` → `~`/`~/…` → HOME, relative → workspace → `path.posix.resolve`.
 */
export function canonicalizePath(raw: string, context: PathContext): CanonicalPath {
  if (raw.includes("\u0000")) return { ok: false, problem: "the path contains a NUL byte" };
  const literal = resolveHome(raw.trim(), context);
  if (literal === null) return { ok: false, problem: "the path names another user's home (~user)" };
  let value = raw.normalize("NFKC").replace(SLASH_LOOKALIKES, "/").replace(DOT_LOOKALIKES, ".").replace(INVISIBLES, "");
  const decoded = percentDecodeFully(value);
  if (decoded === null) return { ok: false, problem: "the path is percent-encoded too many times" };
  value = decoded.normalize("NFKC").replace(SLASH_LOOKALIKES, "/").replace(DOT_LOOKALIKES, ".").replace(INVISIBLES, "");
  if (CONTROL_CHARACTERS.test(value)) return { ok: false, problem: "the path contains a control character" };
  value = value.trim();
  if (value.length === 0) return { ok: true, path: path.posix.resolve(context.workspaceDir), literal };
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(value);
  if (scheme && scheme[1] !== undefined && scheme[1].length > 1) {
    if (scheme[1].toLowerCase() !== "file") return { ok: false, problem: `the path is a ${scheme[1]}: URL` };
    value = value.slice(scheme[0].length).replace(/^\/\/(localhost)?(?=\/)/i, "");
  }
  const resolved = resolveHome(value.replace(/\\/g, "/"), context);
  if (resolved === null) return { ok: false, problem: "the path names another user's home (~user)" };
  return { ok: true, path: resolved, literal };
}

/** `~`/`~/x` → HOME, relative → workspace, then resolved; null for `~user`. */
function resolveHome(value: string, context: PathContext): string | null {
  if (value === "~" || value.startsWith("~/")) return path.posix.resolve(context.homeDir + value.slice(1));
  if (value.startsWith("~")) return null;
  return path.posix.resolve(context.workspaceDir, value);
}

/** Expands a profile root: `~workspace` → the workspace, `~` → HOME, others as given (normalized). */
export function expandRoot(root: string, context: PathContext): string {
  if (root === "~workspace") return path.posix.resolve(context.workspaceDir);
  if (root === "~" || root === "~home") return path.posix.resolve(context.homeDir);
  return path.posix.resolve("/", root);
}

/** True when canonical `candidate` is one of `roots` or inside one (component-wise: `/ws2` is not inside `/ws`). */
export function isInsideRoots(candidate: string, roots: readonly string[], context: PathContext): boolean {
  for (const root of roots) {
    const expanded = expandRoot(root, context);
    if (expanded === "/") return true;
    if (candidate === expanded || candidate.startsWith(`${expanded}/`)) return true;
  }
  return false;
}

/** Argument keys that hold paths, in any tool (`path`, `file_path`, `filePath`, `paths`, `workdir`, `cwd`…). */
const PATH_KEY = /^(?:path|paths|file|files|file_?path|file_?paths|filename|dir|dirs|directory|directories|root|cwd|workdir|working_?dir(?:ectory)?|target|targets|source|sources|src|dest|destination|from|to|image|images|pdf|pdfs|old_?path|new_?path|output|output_?path)$/i;

function collectPathValues(value: unknown, key: string | null, found: string[], depth: number): void {
  if (depth > 6) return;
  if (typeof value === "string") {
    if (key !== null && PATH_KEY.test(key)) found.push(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collectPathValues(item, key, found, depth + 1);
    return;
  }
  if (typeof value === "object" && value !== null) {
    for (const [innerKey, inner] of Object.entries(value)) collectPathValues(inner, innerKey, found, depth + 1);
  }
}

/** File names in an OpenClaw/Codex patch (`*** Add File: p`, `*** Update File: p`, `*** Delete File: p`, `*** Move to: p`). */
const PATCH_HEADER = /^\*\*\* (?:Add File|Update File|Delete File|Move to|Move File):\s*(.+?)\s*$/gm;
/** Unified-diff headers (`--- a/p`, `+++ b/p`), in case a patch uses that format. */
const DIFF_HEADER = /^(?:\+\+\+|---) (?:[ab]\/)?(.+?)(?:\t.*)?$/gm;

/**
 * Every path a file tool's arguments name: values under path-like keys (nested objects and arrays too) and,
 * for `apply_patch`, the files its patch text adds, updates, deletes or moves.
 */
export function pathsInArguments(tool: string, args: unknown): string[] {
  const found: string[] = [];
  collectPathValues(args, null, found, 0);
  if (tool === "apply_patch" && typeof args === "object" && args !== null) {
    for (const value of Object.values(args)) {
      if (typeof value !== "string") continue;
      for (const match of value.matchAll(PATCH_HEADER)) found.push(match[1] as string);
      for (const match of value.matchAll(DIFF_HEADER)) if (match[1] !== "/dev/null") found.push(match[1] as string);
    }
  }
  return found;
}
