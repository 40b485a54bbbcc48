/**
 * Builds the bubblewrap command line that runs one tenant runtime with no network of its own. Pure: the
 * caller decides which host files exist and passes them in, so the result is unit-testable.
 *
 * Shape (verified in /work/shared/openclaw/SANDBOX.md, bubblewrap 0.8):
 * - new pid/ipc/uts/net namespaces, `--cap-drop ALL`, `--die-with-parent`, `--new-session`;
 * - narrow read-only binds (/usr and its merged-usr symlinks, a few /etc files, Node, OpenClaw, the
 *   launcher), generated two-line passwd/group, private /proc, /dev and a 256 MB /tmp;
 * - the tenant root (→ /srv/tenant) and the inbound socket directory (→ /run/oc/gw) are the only writable
 *   binds; the outbound socket directory (→ /run/oc/model) is read-only;
 * - `--remount-ro /` last, so the sandbox's own root (and /srv, /opt, /run in it) is not writable either;
 * - with a per-tenant uid: `setpriv --reuid=U --regid=U --clear-groups` runs bwrap itself unprivileged, with
 *   `--unshare-user --disable-userns` (CapEff/CapBnd 0, no nested user namespaces).
 * Inside, the launcher bridges `/run/oc/gw/gw.sock` → the gateway's loopback port and a loopback port →
 * `/run/oc/model/model.sock`, then runs `openclaw gateway run`.
 */
import { SANDBOX_PATHS } from "./layout.js";

/** Gateway port inside the sandbox (its own network namespace, so every tenant can use the same one). */
export const SANDBOX_GATEWAY_PORT = 18789;
/** Loopback port inside the sandbox that the launcher bridges to the model socket. */
export const SANDBOX_MODEL_BRIDGE_PORT = 19100;
/** Size of the private /tmp (bytes). */
export const SANDBOX_TMPFS_BYTES = 256 * 1024 * 1024;

/** Host files bound read-only at the same path when they exist (the caller filters by existence). */
export const SANDBOX_ETC_FILES = [
  "/etc/hosts",
  "/etc/nsswitch.conf",
  "/etc/alternatives",
  "/etc/ssl",
  "/etc/ca-certificates",
  "/etc/ld.so.cache",
  "/etc/localtime",
] as const;

/** Merged-usr symlinks recreated inside (`/bin -> usr/bin`…), when the host has them. */
export const SANDBOX_USR_SYMLINKS = [
  { link: "/bin", target: "usr/bin" },
  { link: "/lib", target: "usr/lib" },
  { link: "/lib64", target: "usr/lib64" },
  { link: "/sbin", target: "usr/sbin" },
] as const;

/** Everything the argv builder needs. Host paths are absolute. */
export interface SandboxPlan {
  tenantId: string;
  bwrapPath: string;
  setprivPath: string;
  /** Host folder containing `bin/node` (Node >= 24.16). */
  nodeDir: string;
  /** Host folder containing `node_modules/openclaw`. */
  openclawDir: string;
  /** Host path of `launcher.mjs`. */
  launcherPath: string;
  tenantRoot: string;
  gatewaySocketDir: string;
  modelSocketDir: string;
  /** Generated passwd/group files bound over /etc/passwd and /etc/group. */
  passwdPath: string;
  groupPath: string;
  /**
   * Host system paths bound read-only at the same place: the subset of {@link SANDBOX_ETC_FILES} that exists,
   * plus /bin, /lib… on hosts where they are real directories rather than merged-usr symlinks.
   */
  readOnlySystemPaths: readonly string[];
  /** Merged-usr symlinks to recreate (those that exist on the host). */
  usrSymlinks: ReadonlyArray<{ link: string; target: string }>;
  /** Per-tenant uid (and gid): bwrap is started through setpriv as that uid. Requires running as root. */
  uid: number | null;
  /** Add `--unshare-user --disable-userns` without a uid switch (bwrap started by a non-root platform). */
  unprivileged: boolean;
  /** File descriptor bwrap writes its `{"child-pid": …}` JSON to, or null. */
  infoFd: number | null;
  /** Extra environment variables set inside (after the fixed ones). */
  extraEnvironment: Readonly<Record<string, string>>;
}

/** A command ready for `child_process.spawn(command, args)`. */
export interface SandboxCommand {
  command: string;
  args: string[];
}

/** `oc-<tenant>`, trimmed to the 63 characters of a DNS label (the kernel allows 64). */
export function sandboxHostname(tenantId: string): string {
  return `oc-${tenantId}`.slice(0, 63).replace(/-+$/, "");
}

/** Environment inside the sandbox (bwrap `--clearenv` first). */
export function sandboxEnvironment(extra: Readonly<Record<string, string>>): Array<[string, string]> {
  return [
    ["PATH", `${SANDBOX_PATHS.nodeDir}/bin:/usr/bin:/bin`],
    ["HOME", SANDBOX_PATHS.homeDir],
    ["TMPDIR", "/tmp"],
    ["LANG", "C.UTF-8"],
    ["NO_COLOR", "1"],
    ["OPENCLAW_STATE_DIR", SANDBOX_PATHS.stateDir],
    ["OPENCLAW_CONFIG_PATH", SANDBOX_PATHS.configPath],
    // The platform renders the config at every start; the runtime (its `gateway` tool, its CLI) must not rewrite it.
    ["OPENCLAW_CONFIG_READONLY", "1"],
    ...Object.entries(extra),
  ];
}

/** The launcher command line run as the sandbox's first process. */
export function sandboxLauncherCommand(): string[] {
  return [
    SANDBOX_PATHS.nodeBinary,
    SANDBOX_PATHS.launcherPath,
    "--map",
    `unix:${SANDBOX_PATHS.gatewaySocketPath}=tcp:127.0.0.1:${SANDBOX_GATEWAY_PORT}`,
    "--map",
    `tcp:127.0.0.1:${SANDBOX_MODEL_BRIDGE_PORT}=unix:${SANDBOX_PATHS.modelSocketPath}`,
    "--",
    SANDBOX_PATHS.nodeBinary,
    SANDBOX_PATHS.openclawEntry,
    "gateway",
    "run",
    "--port",
    String(SANDBOX_GATEWAY_PORT),
  ];
}

/** The host path of the runtime's config file: {@link SANDBOX_PATHS}.configPath moved from the sandbox's tenant root to `tenantRoot`. */
function hostConfigPath(tenantRoot: string): string {
  return `${tenantRoot}${SANDBOX_PATHS.configPath.slice(SANDBOX_PATHS.tenantRoot.length)}`;
}

/**
 * Builds the full command (`setpriv … bwrap …` or `bwrap …`).
 * @throws Error when a host path is not absolute or the uid is not a non-negative integer
 */
export function buildSandboxCommand(plan: SandboxPlan): SandboxCommand {
  const hostPaths = [plan.bwrapPath, plan.setprivPath, plan.nodeDir, plan.openclawDir, plan.launcherPath, plan.tenantRoot, plan.gatewaySocketDir, plan.modelSocketDir, plan.passwdPath, plan.groupPath, ...plan.readOnlySystemPaths];
  for (const hostPath of hostPaths) {
    if (!hostPath.startsWith("/")) throw new Error(`sandbox host path must be absolute: ${hostPath}`);
  }
  if (plan.uid !== null && (!Number.isInteger(plan.uid) || plan.uid < 0)) throw new Error(`invalid sandbox uid ${plan.uid}`);

  const bwrap: string[] = [];
  if (plan.infoFd !== null) bwrap.push("--info-fd", String(plan.infoFd));
  bwrap.push("--die-with-parent", "--new-session", "--cap-drop", "ALL");
  if (plan.uid !== null || plan.unprivileged) bwrap.push("--unshare-user", "--disable-userns");
  bwrap.push("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--hostname", sandboxHostname(plan.tenantId));
  bwrap.push("--ro-bind", "/usr", "/usr");
  for (const symlink of plan.usrSymlinks) bwrap.push("--symlink", symlink.target, symlink.link);
  for (const systemPath of plan.readOnlySystemPaths) bwrap.push("--ro-bind", systemPath, systemPath);
  bwrap.push("--ro-bind", plan.passwdPath, "/etc/passwd", "--ro-bind", plan.groupPath, "/etc/group");
  bwrap.push("--proc", "/proc", "--dev", "/dev");
  bwrap.push("--size", String(SANDBOX_TMPFS_BYTES), "--tmpfs", "/tmp");
  bwrap.push("--ro-bind", plan.nodeDir, SANDBOX_PATHS.nodeDir);
  bwrap.push("--ro-bind", plan.openclawDir, SANDBOX_PATHS.openclawDir);
  bwrap.push("--ro-bind", plan.launcherPath, SANDBOX_PATHS.launcherPath);
  bwrap.push("--bind", plan.tenantRoot, SANDBOX_PATHS.tenantRoot);
  // The platform-rendered config, read-only on top of the writable tenant root: OpenClaw hot-reloads this file, so
  // a runtime able to write it could change its own gateway auth and tool settings. (`OPENCLAW_CONFIG_READONLY`
  // only stops OpenClaw's own config writers.) The platform rewrites it in place (see live-config.ts).
  bwrap.push("--ro-bind", hostConfigPath(plan.tenantRoot), SANDBOX_PATHS.configPath);
  bwrap.push("--bind", plan.gatewaySocketDir, SANDBOX_PATHS.gatewaySocketDir);
  bwrap.push("--ro-bind", plan.modelSocketDir, SANDBOX_PATHS.modelSocketDir);
  bwrap.push("--remount-ro", "/");
  bwrap.push("--clearenv");
  for (const [name, value] of sandboxEnvironment(plan.extraEnvironment)) bwrap.push("--setenv", name, value);
  bwrap.push("--chdir", SANDBOX_PATHS.tenantRoot);
  bwrap.push("--", ...sandboxLauncherCommand());

  if (plan.uid === null) return { command: plan.bwrapPath, args: bwrap };
  const uid = String(plan.uid);
  return {
    command: plan.setprivPath,
    args: [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--", plan.bwrapPath, ...bwrap],
  };
}

/** Contents of the generated /etc/passwd (two lines: root, and the runtime's own user). */
export function sandboxPasswd(uid: number): string {
  const lines = ["root:x:0:0:root:/root:/usr/sbin/nologin"];
  if (uid !== 0) lines.push(`tenant:x:${uid}:${uid}:tenant:${SANDBOX_PATHS.homeDir}:/bin/sh`);
  return `${lines.join("\n")}\n`;
}

/** Contents of the generated /etc/group (two lines: root, and the runtime's own group). */
export function sandboxGroup(gid: number): string {
  const lines = ["root:x:0:"];
  if (gid !== 0) lines.push(`tenant:x:${gid}:`);
  return `${lines.join("\n")}\n`;
}
