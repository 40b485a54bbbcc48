/**
 * Creates (idempotently) everything a tenant runtime needs on disk before it starts: the tenant tree owned
 * by the tenant uid, the platform-owned run dir with the socket directories, and the generated
 * passwd/group files; checks that a tenant uid can reach what bwrap binds.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { ClawfleetError } from "../../../contracts/errors.js";
import type { RuntimeInstall } from "./launch.js";
import { tenantDirectories, type TenantLayout } from "./layout.js";
import { sandboxGroup, sandboxPasswd } from "./sandbox.js";
import { firstUntraversableDirectory } from "./sandbox-support.js";
import { chownTree, ensureDirectories } from "./tenant-files.js";

/** Who owns a tenant's files and runs its processes (`null`: the platform's own user). */
export type TenantOwner = { uid: number; gid: number } | null;

/** Inputs of {@link prepareTenantFiles}. */
export interface PrepareTenantFilesInput {
  layout: TenantLayout;
  owner: TenantOwner;
  sandboxed: boolean;
  install: RuntimeInstall;
  /** `lchown -R` the whole tenant tree to the owner (provision); start only fixes the top directories. */
  recursiveChown: boolean;
  logger: Logger;
}

/** Directory modes: traversable but not listable by tenant uids (bwrap runs as them and opens bind sources). */
const SHARED_DIRECTORY_MODE = 0o711;

async function ensurePlatformDirectory(directory: string, mode: number): Promise<void> {
  await fs.mkdir(directory, { recursive: true, mode });
  const stat = await fs.lstat(directory);
  if (!stat.isDirectory()) throw new ClawfleetError("CF_INTERNAL", `${directory} is not a directory`);
}

/** Adds `o+x` to a platform directory that lacks it (tenant uids must traverse it to reach their binds). */
async function allowTraversal(directory: string, logger: Logger): Promise<void> {
  const stat = await fs.stat(directory);
  if ((stat.mode & 0o001) !== 0) return;
  await fs.chmod(directory, (stat.mode & 0o7777) | 0o001);
  logger.info({ directory }, "added o+x so tenant uids can reach their runtime directories");
}

/**
 * Checks that a tenant uid can reach the bind sources outside the data dir.
 * @throws ClawfleetError `CF_CONFIG_INVALID` naming the first directory without `o+x`
 */
function assertReachable(install: RuntimeInstall): void {
  for (const target of [install.nodeDir, install.openclawDir, path.dirname(install.launcherPath)]) {
    const blocked = firstUntraversableDirectory(target);
    if (blocked !== null) {
      throw new ClawfleetError("CF_CONFIG_INVALID", `tenant uids cannot reach ${target}: ${blocked} is not traversable by others (chmod o+x it, or install the runtime elsewhere)`);
    }
  }
}

/** Creates the tenant's directories, run dir and generated files; see the module docstring. */
export async function prepareTenantFiles(input: PrepareTenantFilesInput): Promise<void> {
  const { layout, owner, logger } = input;
  const tenantsDir = path.dirname(layout.tenantRoot);
  const runRoot = path.dirname(layout.runDir);
  const dataDir = path.dirname(tenantsDir);
  await ensurePlatformDirectory(tenantsDir, SHARED_DIRECTORY_MODE);
  await ensurePlatformDirectory(runRoot, SHARED_DIRECTORY_MODE);
  await ensurePlatformDirectory(layout.runDir, SHARED_DIRECTORY_MODE);
  if (owner !== null) {
    for (const directory of [dataDir, tenantsDir, runRoot, layout.runDir]) await allowTraversal(directory, logger);
    const blocked = firstUntraversableDirectory(dataDir);
    if (blocked !== null) {
      throw new ClawfleetError("CF_CONFIG_INVALID", `tenant uids cannot reach the data dir ${dataDir}: ${blocked} is not traversable by others (chmod o+x it or move runtime.dataDir)`);
    }
    assertReachable(input.install);
  }

  await ensureDirectories(layout.tenantRoot, tenantDirectories(layout), owner);
  if (owner !== null) {
    if (input.recursiveChown) await chownTree(layout.tenantRoot, owner);
    else for (const directory of tenantDirectories(layout)) await fs.lchown(directory, owner.uid, owner.gid);
  }

  if (!input.sandboxed) return;
  for (const directory of [layout.gatewaySocketDir, layout.modelSocketDir]) {
    await ensurePlatformDirectory(directory, 0o700);
    await fs.chmod(directory, 0o700);
    if (owner !== null) await fs.lchown(directory, owner.uid, owner.gid);
  }
  await ensurePlatformDirectory(layout.etcDir, 0o755);
  const sandboxUid = owner?.uid ?? (typeof process.getuid === "function" ? process.getuid() : 0);
  const sandboxGid = owner?.gid ?? (typeof process.getgid === "function" ? process.getgid() : 0);
  await fs.writeFile(layout.passwdPath, sandboxPasswd(sandboxUid), { mode: 0o644 });
  await fs.writeFile(layout.groupPath, sandboxGroup(sandboxGid), { mode: 0o644 });
}
