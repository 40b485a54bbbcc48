/**
 * The spawn boundary of the process driver: one small interface through which every runtime process is
 * started, observed and signalled. The driver builds the launch plan (which tenant, which command line); a
 * launcher runs it.
 *
 * - {@link LocalProcessLauncher} (the default, laptop mode): `child_process.spawn` in this process.
 * - `RemoteProcessLauncher` (`host/remote-launcher.ts`): asks a separate `clawfleet runtime-host` process over
 *   a Unix socket, so that the network-facing service itself never creates namespaces or mounts anything
 *   (see docs/security.md, "systemd units").
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Readable } from "node:stream";
import type { SandboxSupport } from "./sandbox-support.js";
import { readSandboxChildPid, sendSignal, waitForFirstChild } from "./process-tree.js";
import { openRuntimeLog } from "./tenant-files.js";

/** The descriptor bwrap writes its `--info-fd` JSON to (the fourth stdio entry of the spawned process). */
export const SANDBOX_INFO_FD = 3;
/** How long the sandbox's `{"child-pid": …}` may take to arrive (ms). */
const INFO_TIMEOUT_MS = 10_000;
/** How long the launcher (first child of the sandbox's pid 1) may take to appear (ms). */
const LAUNCHER_LOOKUP_MS = 2_000;

/** Everything needed to spawn one tenant runtime: the driver's launch plan and where its output goes. */
export interface RuntimeLaunchRequest {
  tenantId: string;
  /** True for a bubblewrap sandbox (`command` is bwrap, or setpriv running bwrap). */
  sandboxed: boolean;
  /** The per-tenant uid the plan was built for (`null`: the launcher's own user). */
  uid: number | null;
  /** Extra environment the plan sets inside the sandbox (the runtime host rebuilds the plan from it). */
  extraEnvironment: Record<string, string>;
  command: string;
  args: string[];
  /** Environment of the spawned process itself (the sandbox clears it and sets its own inside). */
  environment: Record<string, string>;
  cwd: string;
  /** uid/gid to spawn as (unsandboxed fallback as root only), or null. */
  spawnAs: { uid: number; gid: number } | null;
  /** Tenant root; {@link RuntimeLaunchRequest.logPath} is opened inside it without following symlinks. */
  tenantRoot: string;
  /** `logs/runtime.log`: receives the process's stdout and stderr (appended). */
  logPath: string;
  /** Line appended to the log before the process starts (ends with a newline). */
  logHeader: string;
  /** Descriptor bwrap writes `--info-fd` JSON to ({@link SANDBOX_INFO_FD}), or null when unsandboxed. */
  infoFd: number | null;
}

/** How the spawned process ended: its exit code, or the signal that ended it (as Node reports it). */
export interface LaunchedExit {
  code: number | null;
  signal: string | null;
}

/**
 * Which process of a runtime a signal is for: `process` = the spawned process (bwrap, or the launcher when
 * unsandboxed); `group` = its process group (unsandboxed only); `sandbox` = the sandbox's pid 1; `launcher` =
 * the OpenClaw launcher (inside the sandbox: the first child of its pid 1).
 */
export type RuntimeSignalTarget = "process" | "group" | "sandbox" | "launcher";

/** Signals the driver sends to runtimes. */
export type RuntimeSignal = "SIGTERM" | "SIGKILL";

/** One spawned runtime process, as seen through a launcher. */
export interface LaunchedRuntime {
  /** Host pid of the spawned process (bwrap, or the launcher when unsandboxed). */
  readonly pid: number;
  /** Host pid of the sandbox's pid 1 (bwrap `--info-fd`); resolves null when unsandboxed or unknown. */
  readonly sandboxPid: Promise<number | null>;
  /** Resolves once, when the spawned process has ended (or can no longer be observed: see the launcher). */
  readonly exited: Promise<LaunchedExit>;
  /** Host pid of the OpenClaw launcher, or null when it cannot be found. Never rejects. */
  launcherPid(): Promise<number | null>;
  /** Sends `signal` to `target`; resolves false when there is no such process (or it already ended). Never rejects. */
  signal(target: RuntimeSignalTarget, signal: RuntimeSignal): Promise<boolean>;
}

/** Runs runtime processes for the process driver. */
export interface ProcessLauncher {
  /** `local`: this process spawns; `remote`: a `clawfleet runtime-host` does. */
  readonly kind: "local" | "remote";
  /**
   * Sandbox support where runtimes are spawned, when that is another process (reported by the runtime host);
   * null for the local launcher (the driver runs bubblewrap's self-test itself).
   */
  readonly sandboxSupport: SandboxSupport | null;
  /**
   * Spawns the process and resolves once it exists.
   * @throws Error (errno) when the local spawn fails; ClawfleetError `CF_RUNTIME_HOST_UNAVAILABLE` or
   *   `CF_RUNTIME_LAUNCH_REFUSED` from the remote launcher
   */
  launch(request: RuntimeLaunchRequest): Promise<LaunchedRuntime>;
  /** Releases the launcher (the remote one closes its connection; the runtime host then stops what it ran for us). */
  close(): Promise<void>;
}

/** A process spawned by {@link LocalProcessLauncher}. */
class LocalLaunchedRuntime implements LaunchedRuntime {
  readonly pid: number;
  readonly sandboxPid: Promise<number | null>;
  readonly exited: Promise<LaunchedExit>;
  private ended = false;
  private launcher: number | null = null;

  constructor(
    child: ChildProcess,
    private readonly sandboxed: boolean,
  ) {
    this.pid = child.pid as number;
    const infoStream = child.stdio[SANDBOX_INFO_FD];
    this.sandboxPid = sandboxed ? readSandboxChildPid(infoStream instanceof Readable ? infoStream : null, INFO_TIMEOUT_MS) : Promise.resolve(null);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.ended = true;
        resolve({ code, signal });
      }),
    );
  }

  async launcherPid(): Promise<number | null> {
    if (!this.sandboxed) return this.pid;
    if (this.launcher !== null) return this.launcher;
    const sandboxPid = await this.sandboxPid;
    if (sandboxPid === null) return null;
    // Kept only once found: bwrap sets up its mounts before it forks the launcher.
    this.launcher = await waitForFirstChild(sandboxPid, LAUNCHER_LOOKUP_MS);
    return this.launcher;
  }

  async signal(target: RuntimeSignalTarget, signal: RuntimeSignal): Promise<boolean> {
    // The group outlives its leader (an unsandboxed OpenClaw survives a killed launcher): it may be signalled
    // after the exit. Any other pid may have been reused once the process is gone.
    if (target === "group") return !this.sandboxed && sendSignal(-this.pid, signal);
    if (this.ended) return false;
    if (target === "process") return sendSignal(this.pid, signal);
    const pid = target === "sandbox" ? await this.sandboxPid : await this.launcherPid();
    return pid !== null && !this.ended && sendSignal(pid, signal);
  }
}

/** Spawns runtimes in this process with `child_process.spawn` (the default). */
export class LocalProcessLauncher implements ProcessLauncher {
  readonly kind = "local";
  readonly sandboxSupport = null;

  /**
   * Appends the header to the runtime log, then spawns with stdout/stderr on the log and, when sandboxed, a
   * pipe on {@link SANDBOX_INFO_FD}. Unsandboxed processes lead their own process group (`detached`).
   * @throws Error when the log cannot be opened safely or the process cannot be spawned
   */
  async launch(request: RuntimeLaunchRequest): Promise<LaunchedRuntime> {
    if (request.infoFd !== null && request.infoFd !== SANDBOX_INFO_FD) throw new Error(`unsupported info fd ${request.infoFd} (only ${SANDBOX_INFO_FD})`);
    const log = await openRuntimeLog(request.tenantRoot, request.logPath);
    let child: ChildProcess;
    try {
      await log.write(request.logHeader);
      child = spawn(request.command, request.args, {
        cwd: request.cwd,
        env: request.environment,
        stdio: request.infoFd !== null ? ["ignore", log.fd, log.fd, "pipe"] : ["ignore", log.fd, log.fd],
        detached: !request.sandboxed,
        ...(request.spawnAs ?? {}),
      });
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", resolve);
        child.once("error", reject);
      });
    } finally {
      await log.close();
    }
    return new LocalLaunchedRuntime(child, request.sandboxed);
  }

  async close(): Promise<void> {
    // Nothing to release: the driver stops its runtimes itself.
  }
}
