/**
 * The main service's side of the runtime host: a {@link ProcessLauncher} that sends each launch plan to
 * `clawfleet runtime-host` over its Unix socket (`runtime.process.launcherSocket`) and mirrors the processes it
 * reports. Protocol: `protocol.ts`. Lifetimes: `server.ts`.
 *
 * When the connection drops (the host stopped or died), every runtime launched over it is reported as exited
 * (`code` and `signal` null): the host stops them, or they died with it (`--die-with-parent`). The next launch
 * reconnects, waiting up to `reconnectTimeoutMs` for a restarting host.
 */
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { ClawfleetError } from "../../../../contracts/errors.js";
import type { LaunchedExit, LaunchedRuntime, ProcessLauncher, RuntimeLaunchRequest, RuntimeSignal, RuntimeSignalTarget } from "../launcher.js";
import type { SandboxSupport } from "../sandbox-support.js";
import { delay } from "../process-tree.js";
import { encodeLine, hostMessageSchema, lineReader, RUNTIME_HOST_PROTOCOL, type ClientMessage, type HostMessage } from "./protocol.js";

/** Options of {@link RemoteProcessLauncher.connect}. */
export interface RemoteLauncherOptions {
  /** The runtime host's socket (absolute path). */
  socketPath: string;
  logger: Logger;
  /** How long the first connection may take, retrying while the host starts (ms, default 15 000). */
  connectTimeoutMs?: number;
  /** How long a launch waits for a lost host to come back (ms, default 10 000). */
  reconnectTimeoutMs?: number;
  /** How long the host may take to answer one request (ms, default 30 000). */
  requestTimeoutMs?: number;
}

type Reply = Extract<HostMessage, { type: "launched" | "signaled" | "error" }>;

/** One open connection to the runtime host. */
interface Connection {
  socket: net.Socket;
  hello: Extract<HostMessage, { type: "hello" }>;
  pending: Map<number, (reply: Reply | null) => void>;
  runtimes: Map<string, RemoteLaunchedRuntime>;
  nextId: number;
  closed: boolean;
}

const RETRY_MS = 250;

function unavailable(socketPath: string, why: string): ClawfleetError {
  return new ClawfleetError("CF_RUNTIME_HOST_UNAVAILABLE", `runtime host at ${socketPath} is unavailable: ${why}`, { details: { socketPath } });
}

/** A runtime the host runs for us. */
class RemoteLaunchedRuntime implements LaunchedRuntime {
  readonly sandboxPid: Promise<number | null>;
  readonly exited: Promise<LaunchedExit>;
  private resolveSandbox: (value: { sandboxPid: number | null; launcherPid: number | null }) => void = () => undefined;
  private resolveExit: (exit: LaunchedExit) => void = () => undefined;
  private readonly sandbox: Promise<{ sandboxPid: number | null; launcherPid: number | null }>;
  private ended = false;

  constructor(
    readonly pid: number,
    readonly tenantId: string,
    private readonly handle: string,
    private readonly connection: Connection,
    private readonly ask: (connection: Connection, message: ClientMessage) => Promise<Reply | null>,
  ) {
    this.sandbox = new Promise((resolve) => (this.resolveSandbox = resolve));
    this.sandboxPid = this.sandbox.then((value) => value.sandboxPid);
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  sandboxReported(sandboxPid: number | null, launcherPid: number | null): void {
    this.resolveSandbox({ sandboxPid, launcherPid });
  }

  exit(exit: LaunchedExit): void {
    this.ended = true;
    this.resolveSandbox({ sandboxPid: null, launcherPid: null });
    this.resolveExit(exit);
  }

  async launcherPid(): Promise<number | null> {
    return (await this.sandbox).launcherPid;
  }

  async signal(target: RuntimeSignalTarget, signal: RuntimeSignal): Promise<boolean> {
    if (target === "group" || this.ended || this.connection.closed) return false;
    const reply = await this.ask(this.connection, { type: "signal", id: 0, handle: this.handle, target, signal });
    return reply?.type === "signaled" && reply.delivered;
  }
}

/** Launches runtimes through `clawfleet runtime-host`. */
export class RemoteProcessLauncher implements ProcessLauncher {
  readonly kind = "remote";
  private readonly logger: Logger;
  private connection: Connection | null = null;
  private connecting: Promise<Connection> | null = null;
  private closed = false;
  private support: SandboxSupport;

  private constructor(
    private readonly options: RemoteLauncherOptions,
    first: Connection,
  ) {
    this.logger = options.logger.child({ component: "remote-launcher", socketPath: options.socketPath });
    this.connection = first;
    this.support = first.hello.support;
    this.watch(first);
  }

  /**
   * Connects (retrying for `connectTimeoutMs` while the host starts) and exchanges hellos.
   * @throws ClawfleetError `CF_RUNTIME_HOST_UNAVAILABLE` when the host cannot be reached; `CF_CONFIG_INVALID` when
   *   it speaks another protocol version or runs as another user than this service
   */
  static async connect(options: RemoteLauncherOptions): Promise<RemoteProcessLauncher> {
    const first = await RemoteProcessLauncher.open(options, options.connectTimeoutMs ?? 15_000);
    return new RemoteProcessLauncher(options, first);
  }

  /** What the runtime host reported in its last hello. */
  get sandboxSupport(): SandboxSupport {
    return { ...this.support };
  }

  async launch(request: RuntimeLaunchRequest): Promise<LaunchedRuntime> {
    const connection = await this.ensureConnection();
    const reply = await this.ask(connection, { type: "launch", id: 0, request });
    if (reply === null) throw unavailable(this.options.socketPath, "no answer to the launch (the connection closed, or the host did not answer in time)");
    if (reply.type === "error") {
      const code = reply.code === "CF_RUNTIME_LAUNCH_REFUSED" || reply.code === "CF_RUNTIME_HOST_UNAVAILABLE" ? reply.code : "CF_RUNTIME_START_FAILED";
      throw new ClawfleetError(code, reply.message, { details: { tenantId: request.tenantId, hostCode: reply.code } });
    }
    const runtime = reply.type === "launched" ? connection.runtimes.get(reply.handle) : undefined;
    if (!runtime) throw new ClawfleetError("CF_INTERNAL", `runtime host answered a launch with ${reply.type}`);
    return runtime;
  }

  /** Closes the connection; the host then stops whatever is still running for us. */
  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = null;
    if (connection && !connection.closed) {
      const ended = new Promise<void>((resolve) => connection.socket.once("close", () => resolve()));
      // Referenced again until it is closed: the caller awaits this (a CLI may have nothing else keeping it alive).
      connection.socket.ref();
      connection.socket.end();
      await Promise.race([ended, delay(2_000)]);
      connection.socket.destroy();
    }
  }

  private async ensureConnection(): Promise<Connection> {
    if (this.closed) throw unavailable(this.options.socketPath, "the launcher is closed");
    if (this.connection && !this.connection.closed) return this.connection;
    this.connecting ??= RemoteProcessLauncher.open(this.options, this.options.reconnectTimeoutMs ?? 10_000).then(
      (connection) => {
        this.connecting = null;
        if (this.closed) {
          connection.socket.destroy();
          throw unavailable(this.options.socketPath, "the launcher is closed");
        }
        this.connection = connection;
        this.support = connection.hello.support;
        this.logger.info({ hostPid: connection.hello.hostPid }, "reconnected to the runtime host");
        this.watch(connection);
        return connection;
      },
      (error: unknown) => {
        this.connecting = null;
        throw error;
      },
    );
    return this.connecting;
  }

  private watch(connection: Connection): void {
    connection.socket.once("close", () => {
      if (this.connection === connection) this.connection = null;
    });
  }

  private ask(connection: Connection, message: ClientMessage): Promise<Reply | null> {
    return askConnection(connection, message, this.options.requestTimeoutMs ?? 30_000);
  }

  /** Opens a connection and exchanges hellos, retrying every 250 ms for up to `timeoutMs`. */
  private static async open(options: RemoteLauncherOptions, timeoutMs: number): Promise<Connection> {
    const deadline = Date.now() + timeoutMs;
    let lastError = "not tried";
    for (;;) {
      try {
        return await RemoteProcessLauncher.openOnce(options);
      } catch (error) {
        if (error instanceof ClawfleetError && error.code === "CF_CONFIG_INVALID") throw error;
        lastError = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() >= deadline) throw unavailable(options.socketPath, lastError);
      // A referenced timer: whoever waits for this connection (a CLI, too) must stay alive meanwhile.
      await sleep(RETRY_MS);
    }
  }

  private static openOnce(options: RemoteLauncherOptions): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(options.socketPath);
      const pending = new Map<number, (reply: Reply | null) => void>();
      const runtimes = new Map<string, RemoteLaunchedRuntime>();
      let connection: Connection | null = null;
      const fail = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error("no hello from the runtime host within 5 s")), 5_000);
      const onMessage = (message: HostMessage) => {
        if (connection === null) {
          clearTimeout(timer);
          if (message.type !== "hello") return fail(new Error(`expected hello, got ${message.type}${message.type === "error" ? ` (${message.code}: ${message.message})` : ""}`));
          if (message.protocol !== RUNTIME_HOST_PROTOCOL) return fail(new ClawfleetError("CF_CONFIG_INVALID", `the runtime host speaks protocol ${message.protocol}, this service ${RUNTIME_HOST_PROTOCOL}: install the same Clawfleet version on both`));
          const ownUid = typeof process.getuid === "function" ? process.getuid() : message.uid;
          if (message.uid !== ownUid) return fail(new ClawfleetError("CF_CONFIG_INVALID", `the runtime host runs as uid ${message.uid}, this service as uid ${ownUid}: both must run as the same user`));
          connection = { socket, hello: message, pending, runtimes, nextId: 1, closed: false };
          // The HTTP server keeps the service alive; this connection alone must not.
          socket.unref();
          resolve(connection);
          return;
        }
        const current = connection;
        switch (message.type) {
          case "launched": {
            current.runtimes.set(message.handle, new RemoteLaunchedRuntime(message.pid, message.tenantId, message.handle, current, (target, request) => askConnection(target, request, options.requestTimeoutMs ?? 30_000)));
            break;
          }
          case "sandbox":
            current.runtimes.get(message.handle)?.sandboxReported(message.sandboxPid, message.launcherPid);
            return;
          case "exit":
            current.runtimes.get(message.handle)?.exit({ code: message.code, signal: message.signal });
            current.runtimes.delete(message.handle);
            return;
          case "hello":
            return;
          default:
            break;
        }
        if (message.id === null) {
          if (message.type === "error") options.logger.warn({ code: message.code }, `runtime host: ${message.message}`);
          return;
        }
        const answer = current.pending.get(message.id);
        current.pending.delete(message.id);
        if (answer) answer(message);
        else if (message.type === "launched") {
          // Launched after we stopped waiting (request timeout): nobody tracks it, so it must not run.
          options.logger.warn({ tenantId: message.tenantId, pid: message.pid }, "runtime host launched a runtime after the launch timed out; killing it");
          const orphan = current.runtimes.get(message.handle);
          void orphan?.signal("process", "SIGKILL");
          void orphan?.signal("sandbox", "SIGKILL");
        }
      };
      socket.on(
        "data",
        lineReader(
          (line) => {
            let message: HostMessage;
            try {
              message = hostMessageSchema.parse(JSON.parse(line));
            } catch (error) {
              options.logger.error({ err: error }, "runtime host sent an invalid message; closing the connection");
              socket.destroy();
              return;
            }
            onMessage(message);
          },
          () => socket.destroy(),
        ),
      );
      socket.once("connect", () => socket.write(encodeLine({ type: "hello", protocol: RUNTIME_HOST_PROTOCOL })));
      socket.on("error", (error) => {
        if (connection === null) {
          clearTimeout(timer);
          fail(error);
        }
      });
      socket.on("close", () => {
        clearTimeout(timer);
        if (connection === null) return fail(new Error("the runtime host closed the connection"));
        connection.closed = true;
        if (connection.runtimes.size > 0) {
          options.logger.warn({ socketPath: options.socketPath, tenants: [...connection.runtimes.values()].map((runtime) => runtime.tenantId) }, "lost the runtime host connection: its runtimes are gone (stopped by the host, or died with it)");
        }
        for (const answer of connection.pending.values()) answer(null);
        connection.pending.clear();
        for (const runtime of connection.runtimes.values()) runtime.exit({ code: null, signal: null });
        connection.runtimes.clear();
      });
    });
  }

}

/** Sends a request over `connection`; resolves its reply, or null when the connection closes or `timeoutMs` passes. */
function askConnection(connection: Connection, message: ClientMessage, timeoutMs: number): Promise<Reply | null> {
  if (connection.closed) return Promise.resolve(null);
  const id = connection.nextId;
  connection.nextId += 1;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      connection.pending.delete(id);
      resolve(null);
    }, timeoutMs);
    timer.unref();
    connection.pending.set(id, (reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
    connection.socket.write(encodeLine({ ...message, id } as ClientMessage));
  });
}
