/**
 * File operations the platform (often root) performs inside a tenant's tree, which the tenant itself can
 * write: every path is checked for symlinks on the way, files are opened with `O_NOFOLLOW` (and `O_NONBLOCK`
 * for reads, so a FIFO cannot hang us), and the opened descriptor's real path is verified through
 * `/proc/self/fd` to lie inside the tenant root. Ownership changes use `lchown` and never descend symlinks.
 */
import { constants as fsConstants, promises as fs } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { ClawfleetError } from "../../../contracts/errors.js";
import { isPlainObject, type ConfigObject } from "../../openclaw-config.js";

/** Largest config file the driver reads back (bytes). */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** How much of each log file `tailFile` reads (bytes from the end). */
const MAX_TAIL_BYTES = 512 * 1024;
/** `runtime.log` is moved to `runtime.log.1` when it is bigger than this at start (bytes). */
export const MAX_RUNTIME_LOG_BYTES = 16 * 1024 * 1024;

/** Who should own the files the platform creates for a tenant (`null`: leave as the platform's user). */
export type FileOwner = { uid: number; gid: number } | null;

function isErrorWithCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

function unsafePath(root: string, target: string, reason: string): ClawfleetError {
  return new ClawfleetError("CF_INTERNAL", `refusing to use ${target}: ${reason}`, { details: { root, target } });
}

/**
 * Checks that every existing component between `root` (inclusive) and `target`'s parent is a real
 * directory, not a symlink.
 * @throws ClawfleetError `CF_INTERNAL` when `target` is outside `root` or a component is a symlink/non-directory
 */
export async function assertRealDirectories(root: string, target: string): Promise<void> {
  const relative = path.relative(root, target);
  if (relative.startsWith("..") || path.isAbsolute(relative)) throw unsafePath(root, target, "outside the tenant root");
  const components = path.dirname(relative) === "." ? [] : path.dirname(relative).split(path.sep);
  let current = root;
  for (const component of ["", ...components]) {
    current = component === "" ? current : path.join(current, component);
    const stat = await fs.lstat(current).catch((error: unknown) => {
      if (isErrorWithCode(error, "ENOENT")) return null;
      throw error;
    });
    if (stat === null) return;
    if (!stat.isDirectory()) throw unsafePath(root, target, `${current} is not a directory`);
  }
}

/** Verifies that an open descriptor really lives under `root` (no-op where /proc is unavailable). */
async function assertDescriptorInside(handle: fs.FileHandle, root: string, target: string): Promise<void> {
  let real: string;
  try {
    real = await fs.readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    return;
  }
  if (!real.startsWith(`${root}${path.sep}`)) throw unsafePath(root, target, `it resolves to ${real}`);
}

/**
 * Opens a file inside the tenant root without following symlinks.
 * @param flags `fs.constants.O_*` flags; `O_NOFOLLOW` is always added
 * @throws ClawfleetError `CF_INTERNAL` on symlink games; the underlying errno error otherwise (e.g. ENOENT, ELOOP)
 */
export async function openInsideRoot(root: string, target: string, flags: number, mode = 0o600): Promise<fs.FileHandle> {
  await assertRealDirectories(root, target);
  const handle = await fs.open(target, flags | fsConstants.O_NOFOLLOW, mode);
  try {
    await assertDescriptorInside(handle, root, target);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/**
 * Creates directories (mode 0700) that do not exist yet and gives new ones to `owner`.
 * @throws ClawfleetError `CF_INTERNAL` when an existing path is a symlink or not a directory
 */
export async function ensureDirectories(root: string, directories: readonly string[], owner: FileOwner, mode = 0o700): Promise<void> {
  for (const directory of directories) {
    if (directory !== root) await assertRealDirectories(root, directory);
    try {
      await fs.mkdir(directory, { mode });
      if (owner) await fs.lchown(directory, owner.uid, owner.gid);
    } catch (error) {
      if (!isErrorWithCode(error, "EEXIST")) throw error;
      const stat = await fs.lstat(directory);
      if (!stat.isDirectory()) throw unsafePath(root, directory, "exists and is not a directory");
    }
  }
}

/** Recursively `lchown`s a tree to `owner`, never following symlinks. */
export async function chownTree(directory: string, owner: { uid: number; gid: number }): Promise<void> {
  await fs.lchown(directory, owner.uid, owner.gid);
  const entries = await fs.readdir(directory, { withFileTypes: true });
  for (const entry of entries) {
    const entryPath = path.join(directory, entry.name);
    if (entry.isDirectory()) await chownTree(entryPath, owner);
    else await fs.lchown(entryPath, owner.uid, owner.gid);
  }
}

/** What {@link readExistingConfig} found on disk. */
export interface ExistingConfig {
  /** The parsed object, or `{}` when there was none or it was unusable. */
  config: ConfigObject;
  /** Where an unusable file was copied to (`openclaw.json.invalid-<epoch ms>`), if it was. */
  invalidCopyPath: string | null;
  /** Why the file was unusable, if it was. */
  problem: string | null;
}

/**
 * Reads `configPath` (inside `root`). A file that is not a JSON object, too large, or not a regular file is
 * ignored; its bytes are kept in `openclaw.json.invalid-<epoch ms>` (a symlink is moved aside instead).
 */
export async function readExistingConfig(root: string, configPath: string): Promise<ExistingConfig> {
  let handle: fs.FileHandle;
  try {
    handle = await openInsideRoot(root, configPath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    if (isErrorWithCode(error, "ENOENT")) return { config: {}, invalidCopyPath: null, problem: null };
    if (isErrorWithCode(error, "ELOOP")) {
      const aside = `${configPath}.invalid-${Date.now()}`;
      await fs.rename(configPath, aside);
      return { config: {}, invalidCopyPath: aside, problem: "config path was a symlink" };
    }
    throw error;
  }
  let text: string | null = null;
  let problem: string | null = null;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) problem = "not a regular file";
    else if (stat.size > MAX_CONFIG_BYTES) problem = `larger than ${MAX_CONFIG_BYTES} bytes`;
    else text = await handle.readFile({ encoding: "utf8" });
  } finally {
    await handle.close();
  }
  if (text !== null) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isPlainObject(parsed)) return { config: parsed, invalidCopyPath: null, problem: null };
      problem = "not a JSON object";
    } catch (error) {
      problem = `unparsable JSON: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const copyPath = `${configPath}.invalid-${Date.now()}`;
  if (text !== null) await writeFileInsideRoot(root, copyPath, text, null);
  else await fs.rename(configPath, copyPath);
  return { config: {}, invalidCopyPath: copyPath, problem };
}

/**
 * Writes a file atomically inside `root`: a fresh `O_EXCL` temp file (mode 0600, owned by `owner`), then
 * `rename` over `target`.
 */
export async function writeFileInsideRoot(root: string, target: string, content: string, owner: FileOwner): Promise<void> {
  const temporary = `${target}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
  const handle = await openInsideRoot(root, temporary, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  let written = false;
  try {
    await handle.writeFile(content, { encoding: "utf8" });
    if (owner) await handle.chown(owner.uid, owner.gid);
    await handle.sync();
    written = true;
  } finally {
    await handle.close();
    if (!written) await fs.rm(temporary, { force: true });
  }
  await fs.rename(temporary, target);
}

/**
 * Replaces the content of an existing file inside `root` in place (same inode, owner and mode): for a file the
 * sandbox sees through a read-only bind mount, which follows the inode (a temp file renamed over it would stay
 * invisible there). Truncate and write happen back to back; OpenClaw's config watcher debounces (300 ms default)
 * before it reads.
 * @throws ClawfleetError `CF_INTERNAL` on symlink games; the errno error when the file does not exist
 */
export async function overwriteFileInPlace(root: string, target: string, content: string): Promise<void> {
  const handle = await openInsideRoot(root, target, fsConstants.O_WRONLY);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ClawfleetError("CF_INTERNAL", `${target} is not a regular file`);
    await handle.truncate(0);
    await handle.write(content, 0, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Opens `runtime.log` for appending (created 0640), first moving it to `runtime.log.1` when it is larger
 * than {@link MAX_RUNTIME_LOG_BYTES}. The caller owns the returned handle.
 */
export async function openRuntimeLog(root: string, logPath: string): Promise<fs.FileHandle> {
  await assertRealDirectories(root, logPath);
  const stat = await fs.lstat(logPath).catch(() => null);
  if (stat !== null && (stat.isSymbolicLink() || !stat.isFile() || stat.size > MAX_RUNTIME_LOG_BYTES)) {
    await fs.rename(logPath, `${logPath}.1`);
  }
  return openInsideRoot(root, logPath, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o640);
}

/**
 * The last `lines` lines of a log file inside `root` (reads at most the last 512 KiB). Returns "" when the
 * file is missing, is not a regular file, or cannot be opened safely.
 */
export async function tailFile(root: string, filePath: string, lines: number): Promise<string> {
  let handle: fs.FileHandle;
  try {
    handle = await openInsideRoot(root, filePath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch {
    return "";
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size === 0) return "";
    const length = Math.min(stat.size, MAX_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, stat.size - length);
    const all = buffer.toString("utf8").split("\n");
    if (all[all.length - 1] === "") all.pop();
    if (length < stat.size) all.shift();
    return all.slice(-lines).join("\n");
  } finally {
    await handle.close();
  }
}
