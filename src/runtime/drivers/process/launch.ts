/**
 * How one runtime is launched, in either mode, as data: the command line, its environment, the endpoint the
 * platform will use and the platform bindings for the rendered config. Pure apart from the inputs given.
 */
import path from "node:path";
import type { RuntimeEndpoint, RuntimeSpec } from "../../../contracts/runtime-driver.js";
import type { PlatformBindings } from "../../openclaw-config.js";
import { SANDBOX_PATHS, type TenantLayout } from "./layout.js";
import { buildSandboxCommand, SANDBOX_GATEWAY_PORT, SANDBOX_MODEL_BRIDGE_PORT } from "./sandbox.js";
import type { HostSystemPaths } from "./sandbox-support.js";

/** Host locations of what every runtime runs. */
export interface RuntimeInstall {
  /** Folder containing `bin/node` (Node >= 24.16). */
  nodeDir: string;
  /** Folder containing `node_modules/openclaw`. */
  openclawDir: string;
  launcherPath: string;
  bwrapPath: string;
  setprivPath: string;
}

/** A ready-to-spawn runtime. */
export interface LaunchPlan {
  command: string;
  args: string[];
  /** Environment for `spawn` (the sandbox clears it and sets its own inside). */
  environment: Record<string, string>;
  /** Working directory for `spawn`. */
  cwd: string;
  /** uid/gid to spawn with (fallback only; the sandbox switches through setpriv). */
  spawnAs: { uid: number; gid: number } | null;
  endpoint: RuntimeEndpoint;
  bindings: PlatformBindings;
}

function bindingsFor(spec: RuntimeSpec, values: Pick<PlatformBindings, "gatewayPort" | "modelBaseUrl" | "workspaceDir" | "logFile">): PlatformBindings {
  return {
    tenantId: spec.tenantId,
    gatewayToken: spec.gatewayToken,
    virtualKey: spec.virtualKey,
    modelIds: spec.modelIds,
    overrides: spec.platformOverrides,
    ...(spec.modelApi ? { modelApi: spec.modelApi } : {}),
    ...(spec.trustedProxy ? { trustedProxy: spec.trustedProxy } : {}),
    ...values,
  };
}

/** Inputs of {@link sandboxedLaunchPlan}. */
export interface SandboxedLaunchInput {
  spec: RuntimeSpec;
  layout: TenantLayout;
  install: RuntimeInstall;
  system: HostSystemPaths;
  /** uid to switch to (root only), or null. */
  uid: number | null;
  /** True when the platform is not root (bwrap then needs its own user namespace). */
  unprivileged: boolean;
  infoFd: number;
  extraEnvironment: Readonly<Record<string, string>>;
}

/** Launch plan for a bubblewrap-sandboxed runtime (gateway and model bridge on fixed ports inside). */
export function sandboxedLaunchPlan(input: SandboxedLaunchInput): LaunchPlan {
  const { layout, install } = input;
  const sandbox = buildSandboxCommand({
    tenantId: input.spec.tenantId,
    bwrapPath: install.bwrapPath,
    setprivPath: install.setprivPath,
    nodeDir: install.nodeDir,
    openclawDir: install.openclawDir,
    launcherPath: install.launcherPath,
    tenantRoot: layout.tenantRoot,
    gatewaySocketDir: layout.gatewaySocketDir,
    modelSocketDir: layout.modelSocketDir,
    passwdPath: layout.passwdPath,
    groupPath: layout.groupPath,
    readOnlySystemPaths: input.system.readOnlyPaths,
    usrSymlinks: input.system.usrSymlinks,
    uid: input.uid,
    unprivileged: input.unprivileged,
    infoFd: input.infoFd,
    extraEnvironment: input.extraEnvironment,
  });
  return {
    command: sandbox.command,
    args: sandbox.args,
    environment: { PATH: "/usr/bin:/bin" },
    cwd: layout.runDir,
    spawnAs: null,
    endpoint: { kind: "unix", socketPath: layout.endpointSocketPath },
    bindings: bindingsFor(input.spec, {
      gatewayPort: SANDBOX_GATEWAY_PORT,
      modelBaseUrl: `http://127.0.0.1:${SANDBOX_MODEL_BRIDGE_PORT}/v1`,
      workspaceDir: SANDBOX_PATHS.workspaceDir,
      logFile: SANDBOX_PATHS.openclawLogPath,
    }),
  };
}

/** Inputs of {@link unsandboxedLaunchPlan}. */
export interface UnsandboxedLaunchInput {
  spec: RuntimeSpec;
  layout: TenantLayout;
  install: RuntimeInstall;
  gatewayPort: number;
  modelPort: number;
  /** uid/gid to run as (root only), or null. */
  owner: { uid: number; gid: number } | null;
  extraEnvironment: Readonly<Record<string, string>>;
}

/** Launch plan for the unsandboxed fallback: the launcher (no bridges) runs OpenClaw on a loopback port. */
export function unsandboxedLaunchPlan(input: UnsandboxedLaunchInput): LaunchPlan {
  const { layout, install } = input;
  const nodeBinary = path.join(install.nodeDir, "bin", "node");
  return {
    command: nodeBinary,
    args: [
      install.launcherPath,
      "--",
      nodeBinary,
      path.join(install.openclawDir, "node_modules", "openclaw", "openclaw.mjs"),
      "gateway",
      "run",
      "--port",
      String(input.gatewayPort),
    ],
    environment: {
      PATH: `${path.join(install.nodeDir, "bin")}:/usr/bin:/bin`,
      HOME: layout.homeDir,
      TMPDIR: layout.tmpDir,
      LANG: "C.UTF-8",
      NO_COLOR: "1",
      OPENCLAW_STATE_DIR: layout.stateDir,
      OPENCLAW_CONFIG_PATH: layout.configPath,
      // The platform renders the config at every start; the runtime (its `gateway` tool, its CLI) must not rewrite it.
      OPENCLAW_CONFIG_READONLY: "1",
      ...input.extraEnvironment,
    },
    cwd: layout.tenantRoot,
    spawnAs: input.owner,
    endpoint: { kind: "tcp", host: "127.0.0.1", port: input.gatewayPort },
    bindings: bindingsFor(input.spec, {
      gatewayPort: input.gatewayPort,
      modelBaseUrl: `http://127.0.0.1:${input.modelPort}/v1`,
      workspaceDir: layout.workspaceDir,
      logFile: layout.openclawLogPath,
    }),
  };
}
