/**
 * What this host offers for sandboxing: whether bubblewrap works (a quick self-test), whether it can run
 * under a per-tenant uid, and which system paths exist to be bound into a sandbox. Synchronous on purpose:
 * it runs once when the driver is built, so `driver.sandboxed` is known from the start.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants as fsConstants, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import path from "node:path";
import { SANDBOX_ETC_FILES, SANDBOX_USR_SYMLINKS } from "./sandbox.js";

/** Result of {@link detectSandboxSupport}. */
export interface SandboxSupport {
  /** bwrap ran an isolated `/usr/bin/true` successfully. */
  available: boolean;
  /** bwrap also ran under `setpriv` as an unprivileged uid with its own user namespace (needs root). */
  perTenantUid: boolean;
  /** Why `available` or `perTenantUid` is false (for the logs); null when both are true. */
  reason: string | null;
}

/** Default locations of the tools the driver runs. */
export const DEFAULT_BWRAP_PATH = "/usr/bin/bwrap";
export const DEFAULT_SETPRIV_PATH = "/usr/bin/setpriv";
const SELF_TEST_TIMEOUT_MS = 5_000;
/** uid used by the self-test of the per-tenant uid mode (`nobody`). */
const SELF_TEST_UID = 65534;

/** True when `filePath` exists and is executable by us. */
export function isExecutable(filePath: string): boolean {
  try {
    accessSync(filePath, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when the platform runs as root (uid switching possible). */
export function runningAsRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** System paths to bind read-only, and merged-usr symlinks to recreate, as this host has them. */
export interface HostSystemPaths {
  readOnlyPaths: string[];
  usrSymlinks: Array<{ link: string; target: string }>;
}

/**
 * Which of {@link SANDBOX_ETC_FILES} exist, and how /bin, /lib, /lib64 and /sbin look: symlinks are
 * recreated (`--symlink`), real directories (hosts without merged /usr) are bound read-only.
 */
export function hostSystemPaths(): HostSystemPaths {
  const readOnlyPaths: string[] = [];
  const usrSymlinks: Array<{ link: string; target: string }> = [];
  for (const candidate of SANDBOX_USR_SYMLINKS) {
    try {
      const stat = lstatSync(candidate.link);
      if (stat.isSymbolicLink()) usrSymlinks.push({ link: candidate.link, target: readlinkSync(candidate.link) });
      else if (stat.isDirectory()) readOnlyPaths.push(candidate.link);
    } catch {
      // absent on this host
    }
  }
  for (const etcFile of SANDBOX_ETC_FILES) {
    try {
      statSync(etcFile);
      readOnlyPaths.push(etcFile);
    } catch {
      // absent (or a dangling symlink)
    }
  }
  return { readOnlyPaths, usrSymlinks };
}

/** Minimal isolated bwrap argv running `/usr/bin/true`. */
function selfTestArguments(system: HostSystemPaths, ownUserNamespace: boolean): string[] {
  const args = ["--die-with-parent", "--new-session", "--cap-drop", "ALL"];
  if (ownUserNamespace) args.push("--unshare-user", "--disable-userns");
  args.push("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--ro-bind", "/usr", "/usr");
  for (const symlink of system.usrSymlinks) args.push("--symlink", symlink.target, symlink.link);
  for (const readOnlyPath of system.readOnlyPaths) args.push("--ro-bind", readOnlyPath, readOnlyPath);
  args.push("--proc", "/proc", "--dev", "/dev", "--remount-ro", "/", "--", "/usr/bin/true");
  return args;
}

function runSelfTest(command: string, args: string[]): string | null {
  const result = spawnSync(command, args, { stdio: ["ignore", "ignore", "pipe"], timeout: SELF_TEST_TIMEOUT_MS, encoding: "utf8" });
  if (result.error) return result.error.message;
  if (result.status === 0) return null;
  const stderr = result.stderr.trim().split("\n").slice(-2).join(" ");
  return `exit ${result.status ?? result.signal}: ${stderr}`;
}

/**
 * Runs bubblewrap's self-tests: an isolated `/usr/bin/true`, and (as root) the same under
 * `setpriv --reuid=65534` with its own user namespace, the shape used for per-tenant uids.
 */
export function detectSandboxSupport(bwrapPath: string, setprivPath: string): SandboxSupport {
  if (!path.isAbsolute(bwrapPath) || !isExecutable(bwrapPath)) {
    return { available: false, perTenantUid: false, reason: `bubblewrap not found at ${bwrapPath}` };
  }
  const system = hostSystemPaths();
  const asRoot = runningAsRoot();
  const plainFailure = runSelfTest(bwrapPath, selfTestArguments(system, !asRoot));
  if (plainFailure !== null) return { available: false, perTenantUid: false, reason: `bubblewrap self-test failed (${plainFailure})` };
  if (!asRoot) return { available: true, perTenantUid: false, reason: "not running as root: per-tenant uids unavailable" };
  if (!isExecutable(setprivPath)) return { available: true, perTenantUid: false, reason: `setpriv not found at ${setprivPath}` };
  const uid = String(SELF_TEST_UID);
  const uidFailure = runSelfTest(setprivPath, [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--", bwrapPath, ...selfTestArguments(system, true)]);
  if (uidFailure !== null) return { available: true, perTenantUid: false, reason: `per-tenant uid self-test failed (${uidFailure})` };
  return { available: true, perTenantUid: true, reason: null };
}

/**
 * The first directory on the way to `target` (inclusive of `target` when it is a directory) that other
 * users cannot traverse (no `o+x`), or null when all can. bwrap started as a tenant uid opens its bind
 * sources with that uid's permissions.
 */
export function firstUntraversableDirectory(target: string): string | null {
  let current = path.resolve(target);
  const chain: string[] = [];
  for (;;) {
    chain.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const directory of chain) {
    try {
      const stat = statSync(directory);
      if (stat.isDirectory() && (stat.mode & 0o001) === 0) return directory;
    } catch {
      return directory;
    }
  }
  return null;
}

/** `O_CLOEXEC` as reported in `/proc/self/fdinfo/<fd>` `flags:` (octal). */
const O_CLOEXEC_FLAG = 0o2000000;

/**
 * Descriptors above 2 that this process would pass on to every child (no close-on-exec flag), with what
 * they point to. Node opens its own descriptors close-on-exec, so these were inherited from whoever started
 * the platform; bwrap does not close them, so they would reach every sandbox. Empty where /proc is missing.
 */
export function inheritableDescriptors(): Array<{ fd: number; target: string }> {
  let entries: string[];
  try {
    entries = readdirSync("/proc/self/fdinfo");
  } catch {
    return [];
  }
  const found: Array<{ fd: number; target: string }> = [];
  for (const entry of entries) {
    const fd = Number(entry);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      const flags = /flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
      if (flags === undefined || (Number.parseInt(flags, 8) & O_CLOEXEC_FLAG) !== 0) continue;
      found.push({ fd, target: readlinkSync(`/proc/self/fd/${fd}`) });
    } catch {
      // closed meanwhile (e.g. the descriptor readdir itself used)
    }
  }
  return found;
}
