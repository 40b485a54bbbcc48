/**
 * `clawfleet runtime-host`: the only process that launches sandboxed runtimes when the platform runs as two
 * systemd units (deploy/systemd/clawfleet-runtimes.service). It listens on a Unix socket (mode 0600 in a
 * directory of mode 0700, so only its own user reaches it), runs nothing but launch plans identical to the
 * ones it builds itself (`validation.ts`), and reports pids and exits back to the main service.
 *
 * Lifetimes (docs/security.md, "systemd units"):
 * - Runtimes belong to the connection that launched them. When it closes (the main service stopped, crashed
 *   or restarted), the host stops them: SIGTERM to the launcher, SIGKILL after `stopGraceMs`. A reconnecting
 *   main service therefore starts from nothing and never finds a runtime it does not know about.
 * - One runtime per tenant: a launch for a tenant whose previous runtime is still being stopped waits for it
 *   (bounded); a launch for a tenant with a runtime owned by a live connection is refused.
 * - When the host itself dies, bubblewrap's `--die-with-parent` kills every sandbox with it; the main service
 *   sees its connection close, reports the runtimes as exited and restarts them through a new connection.
 */
import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { Logger } from "pino";
import { ClawfleetError, isClawfleetError } from "../../../../contracts/errors.js";
import { TenantLock } from "../tenant-lock.js";
import { LocalProcessLauncher, type LaunchedExit, type LaunchedRuntime } from "../launcher.js";
import type { RuntimeInstall } from "../launch.js";
import { delay, settlesWithin } from "../process-tree.js";
import { detectSandboxSupport, hostSystemPaths, inheritableDescriptors, runningAsRoot, type SandboxSupport } from "../sandbox-support.js";
import { clientMessageSchema, encodeLine, lineReader, RUNTIME_HOST_PROTOCOL, type ClientMessage, type HostMessage } from "./protocol.js";
import { launchRefused, validateLaunchRequest, type LaunchGateContext } from "./validation.js";

/** Options of {@link RuntimeHost}. */
export interface RuntimeHostOptions {
  /** Where to listen (absolute; its directory is created with mode 0700 and must not be accessible to others). */
  socketPath: string;
  /** Platform data dir (the same as the main service's). */
  dataDir: string;
  install: RuntimeInstall;
  logger: Logger;
  /** Lowest per-tenant uid accepted when running as root (`runtime.uidBase`). */
  uidBase: number;
  /** Grace period for runtimes of a closed connection and at shutdown (ms; `runtime.stopGraceMs`). */
  stopGraceMs: number;
  /** Most simultaneous client connections (default 8). */
  maxConnections?: number;
}

/** One runtime this host launched. */
interface HostedRuntime {
  handle: string;
  tenantId: string;
  /** The connection that launched it; null once that connection closed (the runtime is being stopped). */
  owner: net.Socket | null;
  process: LaunchedRuntime;
  exited: Promise<LaunchedExit>;
}

/** How long a stopped runtime may take to exit after SIGKILL (ms). */
const KILL_WAIT_MS = 5_000;
/** Attempts (every 250 ms) to find the launcher inside a fresh sandbox before reporting it unknown. */
const LAUNCHER_LOOKUP_ATTEMPTS = 8;
const DEFAULT_MAX_CONNECTIONS = 8;

/** The runtime host server. */
export class RuntimeHost {
  private readonly options: RuntimeHostOptions;
  private readonly logger: Logger;
  private readonly launcher = new LocalProcessLauncher();
  private readonly runtimes = new Map<string, HostedRuntime>();
  private readonly connections = new Set<net.Socket>();
  private readonly tenantLock = new TenantLock();
  private readonly gate: LaunchGateContext;
  private support: SandboxSupport | null = null;
  private server: net.Server | null = null;
  private closing = false;

  constructor(options: RuntimeHostOptions) {
    this.options = { ...options, socketPath: path.resolve(options.socketPath), dataDir: path.resolve(options.dataDir) };
    this.logger = options.logger.child({ component: "runtime-host" });
    this.gate = { dataDir: this.options.dataDir, install: options.install, system: hostSystemPaths(), root: runningAsRoot(), uidBase: options.uidBase };
  }

  /**
   * Runs bubblewrap's self-test, then listens.
   * @throws ClawfleetError `CF_CONFIG_INVALID` when bubblewrap does not work here (the host never runs
   *   unsandboxed runtimes), when the socket directory is accessible to other users, or when another runtime
   *   host already listens on the socket
   */
  async start(): Promise<void> {
    this.support = detectSandboxSupport(this.options.install.bwrapPath, this.options.install.setprivPath);
    if (!this.support.available) throw new ClawfleetError("CF_CONFIG_INVALID", `the runtime host needs a working bubblewrap sandbox: ${this.support.reason ?? "unknown"}`);
    const leaked = inheritableDescriptors();
    if (leaked.length > 0) this.logger.warn({ descriptors: leaked }, "the runtime host holds inherited file descriptors without close-on-exec; every sandbox will inherit them");
    await this.prepareSocketPath();
    const server = net.createServer((socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    await fs.chmod(this.options.socketPath, 0o600);
    server.on("error", (error) => this.logger.error({ err: error }, "runtime host socket error"));
    this.server = server;
    this.logger.info({ socketPath: this.options.socketPath, support: this.support, root: this.gate.root }, "runtime host listening");
  }

  /** Sandbox support found by {@link RuntimeHost.start}. */
  sandboxSupport(): SandboxSupport | null {
    return this.support === null ? null : { ...this.support };
  }

  /** Tenants with a runtime process right now (for diagnostics and tests). */
  runningTenants(): string[] {
    return [...this.runtimes.values()].map((runtime) => runtime.tenantId);
  }

  /** Stops listening, stops every runtime (SIGTERM, SIGKILL after the grace period), closes connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await Promise.all([...this.runtimes.values()].map((runtime) => this.stopRuntime(runtime, "runtime host shutting down")));
    for (const socket of this.connections) socket.destroy();
    await closed;
    await fs.rm(this.options.socketPath, { force: true });
  }

  private async prepareSocketPath(): Promise<void> {
    const directory = path.dirname(this.options.socketPath);
    await fs.mkdir(directory, { recursive: true, mode: 0o700 });
    const stat = await fs.stat(directory);
    const uid = typeof process.getuid === "function" ? process.getuid() : stat.uid;
    if (stat.uid !== uid || (stat.mode & 0o077) !== 0) {
      throw new ClawfleetError("CF_CONFIG_INVALID", `the runtime host's socket directory ${directory} must belong to uid ${uid} with mode 0700 (it has uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)})`);
    }
    const existing = await fs.lstat(this.options.socketPath).catch(() => null);
    if (existing === null) return;
    if (!existing.isSocket()) throw new ClawfleetError("CF_CONFIG_INVALID", `${this.options.socketPath} exists and is not a socket`);
    const inUse = await new Promise<boolean>((resolve) => {
      const probe = net.connect(this.options.socketPath, () => {
        probe.destroy();
        resolve(true);
      });
      probe.once("error", () => resolve(false));
    });
    if (inUse) throw new ClawfleetError("CF_CONFIG_INVALID", `another runtime host already listens on ${this.options.socketPath}`);
    await fs.rm(this.options.socketPath, { force: true });
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    let greeted = false;
    const send = (message: HostMessage) => {
      if (!socket.destroyed && socket.writable) socket.write(encodeLine(message));
    };
    const refuse = (id: number | null, error: ClawfleetError, close: boolean) => {
      this.logger.warn({ code: error.code, details: error.details, closeConnection: close }, error.message);
      send({ type: "error", id, code: error.code, message: error.message.slice(0, 4096) });
      if (close) socket.end();
    };
    const onLine = (line: string) => {
      let message: ClientMessage;
      try {
        const parsed = clientMessageSchema.safeParse(JSON.parse(line));
        if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => `${issue.path.join(".") || "(message)"}: ${issue.message}`).join("; "));
        message = parsed.data;
      } catch (error) {
        refuse(null, launchRefused("malformed", `not a runtime host message (${error instanceof Error ? error.message : String(error)})`), true);
        return;
      }
      if (!greeted) {
        if (message.type !== "hello" || message.protocol !== RUNTIME_HOST_PROTOCOL) {
          refuse(null, launchRefused("protocol", `expected hello with protocol ${RUNTIME_HOST_PROTOCOL} first`), true);
          return;
        }
        greeted = true;
        send({ type: "hello", protocol: RUNTIME_HOST_PROTOCOL, hostPid: process.pid, uid: typeof process.getuid === "function" ? process.getuid() : 0, root: this.gate.root, support: this.sandboxSupport() as SandboxSupport });
        return;
      }
      if (message.type === "hello") refuse(null, launchRefused("protocol", "hello sent twice"), true);
      else if (message.type === "launch") void this.launch(socket, message.id, message.request, send, refuse);
      else void this.signal(socket, message, send, refuse);
    };
    socket.on("data", lineReader(onLine, () => refuse(null, launchRefused("malformed", "line too long"), true)));
    socket.on("error", (error) => this.logger.debug({ err: error }, "runtime host connection error"));
    socket.on("close", () => {
      this.connections.delete(socket);
      const owned = [...this.runtimes.values()].filter((runtime) => runtime.owner === socket);
      if (owned.length > 0) this.logger.warn({ tenants: owned.map((runtime) => runtime.tenantId) }, "client connection closed: stopping the runtimes it launched");
      for (const runtime of owned) {
        runtime.owner = null;
        void this.stopRuntime(runtime, "client connection closed");
      }
    });
  }

  private async launch(socket: net.Socket, id: number, raw: unknown, send: (message: HostMessage) => void, refuse: (id: number | null, error: ClawfleetError, close: boolean) => void): Promise<void> {
    let tenantId: string;
    let request: ReturnType<typeof validateLaunchRequest>;
    try {
      request = validateLaunchRequest(raw, this.gate);
      tenantId = request.tenantId;
    } catch (error) {
      refuse(id, isClawfleetError(error) ? error : launchRefused("malformed", String(error)), false);
      return;
    }
    await this.tenantLock.run(tenantId, async () => {
      try {
        if (this.closing) throw new ClawfleetError("CF_RUNTIME_HOST_UNAVAILABLE", "the runtime host is shutting down");
        await this.awaitPrevious(tenantId);
        if (socket.destroyed) return; // the client left while we waited: launch nothing for it
        const launched = await this.launcher.launch(request);
        const runtime: HostedRuntime = { handle: randomUUID(), tenantId, owner: socket, process: launched, exited: launched.exited };
        this.runtimes.set(runtime.handle, runtime);
        this.logger.info({ tenantId, handle: runtime.handle, pid: launched.pid }, "runtime launched");
        void runtime.exited.then((exit) => {
          this.runtimes.delete(runtime.handle);
          this.logger.info({ tenantId, handle: runtime.handle, ...exit }, "runtime exited");
          if (runtime.owner === socket) send({ type: "exit", handle: runtime.handle, ...exit });
        });
        if (socket.destroyed) {
          // The client left while we spawned: its close handler ran before this runtime existed.
          runtime.owner = null;
          void this.stopRuntime(runtime, "client connection closed during the launch");
          return;
        }
        send({ type: "launched", id, handle: runtime.handle, tenantId, pid: launched.pid });
        void this.reportSandbox(runtime, send);
      } catch (error) {
        refuse(id, isClawfleetError(error) ? error : new ClawfleetError("CF_RUNTIME_START_FAILED", `runtime of tenant ${tenantId} could not be spawned: ${error instanceof Error ? error.message : String(error)}`), false);
      }
    });
  }

  /** Waits for a runtime of `tenantId` that is being stopped; refuses when one is owned by a live connection. */
  private async awaitPrevious(tenantId: string): Promise<void> {
    const previous = [...this.runtimes.values()].find((runtime) => runtime.tenantId === tenantId);
    if (!previous) return;
    if (previous.owner !== null) throw launchRefused("running", `tenant ${tenantId} already has a runtime (pid ${previous.process.pid})`, { tenantId });
    if (!(await settlesWithin(previous.exited, this.options.stopGraceMs + KILL_WAIT_MS))) {
      throw new ClawfleetError("CF_RUNTIME_START_FAILED", `the previous runtime of tenant ${tenantId} (pid ${previous.process.pid}) has not exited yet`);
    }
  }

  private async reportSandbox(runtime: HostedRuntime, send: (message: HostMessage) => void): Promise<void> {
    const sandboxPid = await runtime.process.sandboxPid;
    let launcherPid: number | null = null;
    for (let attempt = 0; sandboxPid !== null && launcherPid === null && attempt < LAUNCHER_LOOKUP_ATTEMPTS; attempt += 1) {
      launcherPid = await runtime.process.launcherPid();
      if (launcherPid === null) await delay(250);
    }
    if (runtime.owner !== null && this.runtimes.has(runtime.handle)) send({ type: "sandbox", handle: runtime.handle, sandboxPid, launcherPid });
  }

  private async signal(socket: net.Socket, message: Extract<ClientMessage, { type: "signal" }>, send: (message: HostMessage) => void, refuse: (id: number | null, error: ClawfleetError, close: boolean) => void): Promise<void> {
    const runtime = this.runtimes.get(message.handle);
    if (!runtime || runtime.owner !== socket) {
      refuse(message.id, launchRefused("unknown-handle", "no runtime with this handle was launched over this connection (or it has exited)"), false);
      return;
    }
    send({ type: "signaled", id: message.id, delivered: await runtime.process.signal(message.target, message.signal) });
  }

  /** SIGTERM to the launcher (or SIGKILL when it is unknown), SIGKILL after the grace period. */
  private async stopRuntime(runtime: HostedRuntime, reason: string): Promise<void> {
    this.logger.info({ tenantId: runtime.tenantId, handle: runtime.handle, reason }, "stopping runtime");
    if (!(await runtime.process.signal("launcher", "SIGTERM"))) this.kill(runtime);
    if (await settlesWithin(runtime.exited, this.options.stopGraceMs)) return;
    this.kill(runtime);
    if (!(await settlesWithin(runtime.exited, KILL_WAIT_MS))) this.logger.error({ tenantId: runtime.tenantId, pid: runtime.process.pid }, "runtime survived SIGKILL");
  }

  private kill(runtime: HostedRuntime): void {
    void runtime.process.signal("process", "SIGKILL");
    void runtime.process.signal("sandbox", "SIGKILL");
  }
}
