/**
 * Host paths of one tenant runtime under the platform's data dir, and the fixed paths it sees inside its
 * sandbox. Pure functions, no I/O.
 *
 * ```
 * <dataDir>/tenants/<tenantId>/            tenant root (the only writable bind: /srv/tenant)
 *   home/  state/openclaw.json  workspace/  logs/openclaw.log  logs/runtime.log  tmp/ (fallback only)
 * <dataDir>/run/<tenantId>/
 *   gateway.sock      the endpoint the platform connects to: a hard link, made by the driver, to gw/gw.sock
 *   gw/gw.sock        inbound socket, created by the launcher inside the sandbox (/run/oc/gw, rw)
 *   model/model.sock  outbound socket, created by the platform's model gateway (/run/oc/model, ro)
 *   etc/passwd, etc/group   generated two-line files bound over /etc/passwd and /etc/group
 * ```
 */
import path from "node:path";
import { ClawfleetError } from "../../../contracts/errors.js";

/** Tenant ids accepted by the driver (same rule as the contract's `RuntimeSpec.tenantId`). */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Longest Unix socket path the kernel accepts (`sun_path` is 108 bytes including the terminating NUL). */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;

/** Paths of one tenant runtime on the host. All absolute. */
export interface TenantLayout {
  tenantId: string;
  tenantRoot: string;
  homeDir: string;
  stateDir: string;
  /** `state/openclaw.json` (OPENCLAW_CONFIG_PATH). */
  configPath: string;
  workspaceDir: string;
  logsDir: string;
  /** OpenClaw's own log (`logging.file`). */
  openclawLogPath: string;
  /** The launcher's stdout/stderr, appended across restarts. */
  runtimeLogPath: string;
  /** TMPDIR in the unsandboxed fallback (the sandbox gets a private tmpfs instead). */
  tmpDir: string;
  /** `<dataDir>/run/<tenantId>`. */
  runDir: string;
  /** Directory the launcher creates its socket in (writable by the tenant). */
  gatewaySocketDir: string;
  /** The launcher's socket as created inside (`gw/gw.sock`); the tenant can replace it, so never connect here. */
  gatewaySocketPath: string;
  /**
   * `gateway.sock`: the platform's endpoint, a hard link to the launcher's socket made by the driver in a
   * directory only the platform can write (so a tenant cannot swap it for a symlink to a host socket).
   */
  endpointSocketPath: string;
  modelSocketDir: string;
  modelSocketPath: string;
  etcDir: string;
  passwdPath: string;
  groupPath: string;
}

/** Fixed paths inside the sandbox (see SANDBOX.md). */
export const SANDBOX_PATHS = {
  tenantRoot: "/srv/tenant",
  homeDir: "/srv/tenant/home",
  stateDir: "/srv/tenant/state",
  configPath: "/srv/tenant/state/openclaw.json",
  workspaceDir: "/srv/tenant/workspace",
  openclawLogPath: "/srv/tenant/logs/openclaw.log",
  nodeDir: "/opt/node",
  nodeBinary: "/opt/node/bin/node",
  openclawDir: "/opt/oc",
  openclawEntry: "/opt/oc/node_modules/openclaw/openclaw.mjs",
  launcherPath: "/opt/clawfleet/launcher.mjs",
  gatewaySocketDir: "/run/oc/gw",
  gatewaySocketPath: "/run/oc/gw/gw.sock",
  modelSocketDir: "/run/oc/model",
  modelSocketPath: "/run/oc/model/model.sock",
} as const;

/**
 * Validates a tenant id.
 * @throws ClawfleetError `CF_VALIDATION_FAILED` when it does not match {@link TENANT_ID_PATTERN}
 */
export function assertTenantId(tenantId: string): void {
  if (!TENANT_ID_PATTERN.test(tenantId)) {
    throw new ClawfleetError("CF_VALIDATION_FAILED", `invalid tenant id ${JSON.stringify(tenantId)} (expected ${TENANT_ID_PATTERN.source})`);
  }
}

/**
 * Checks that a Unix socket path fits the kernel's limit.
 * @throws ClawfleetError `CF_CONFIG_INVALID` when it is longer than {@link MAX_UNIX_SOCKET_PATH_BYTES} bytes
 */
export function assertSocketPathLength(socketPath: string): void {
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > MAX_UNIX_SOCKET_PATH_BYTES) {
    throw new ClawfleetError(
      "CF_CONFIG_INVALID",
      `Unix socket path is ${bytes} bytes, the limit is ${MAX_UNIX_SOCKET_PATH_BYTES}: ${socketPath} (use a shorter data dir)`,
      { details: { socketPath, bytes, limit: MAX_UNIX_SOCKET_PATH_BYTES } },
    );
  }
}

/**
 * Host paths of one tenant. `dataDir` is resolved to an absolute path.
 * @throws ClawfleetError `CF_VALIDATION_FAILED` (bad tenant id), `CF_CONFIG_INVALID` (socket path too long)
 */
export function tenantLayout(dataDir: string, tenantId: string): TenantLayout {
  assertTenantId(tenantId);
  const root = path.resolve(dataDir);
  const tenantRoot = path.join(root, "tenants", tenantId);
  const runDir = path.join(root, "run", tenantId);
  const logsDir = path.join(tenantRoot, "logs");
  const stateDir = path.join(tenantRoot, "state");
  const gatewaySocketDir = path.join(runDir, "gw");
  const modelSocketDir = path.join(runDir, "model");
  const etcDir = path.join(runDir, "etc");
  const layout: TenantLayout = {
    tenantId,
    tenantRoot,
    homeDir: path.join(tenantRoot, "home"),
    stateDir,
    configPath: path.join(stateDir, "openclaw.json"),
    workspaceDir: path.join(tenantRoot, "workspace"),
    logsDir,
    openclawLogPath: path.join(logsDir, "openclaw.log"),
    runtimeLogPath: path.join(logsDir, "runtime.log"),
    tmpDir: path.join(tenantRoot, "tmp"),
    runDir,
    gatewaySocketDir,
    gatewaySocketPath: path.join(gatewaySocketDir, "gw.sock"),
    endpointSocketPath: path.join(runDir, "gateway.sock"),
    modelSocketDir,
    modelSocketPath: path.join(modelSocketDir, "model.sock"),
    etcDir,
    passwdPath: path.join(etcDir, "passwd"),
    groupPath: path.join(etcDir, "group"),
  };
  assertSocketPathLength(layout.gatewaySocketPath);
  assertSocketPathLength(layout.endpointSocketPath);
  assertSocketPathLength(layout.modelSocketPath);
  return layout;
}

/** The tenant directories created at provision (all under the tenant root, owned by the tenant uid). */
export function tenantDirectories(layout: TenantLayout): string[] {
  return [layout.tenantRoot, layout.homeDir, layout.stateDir, layout.workspaceDir, layout.logsDir, layout.tmpDir];
}
