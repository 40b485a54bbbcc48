/**
 * The runtime manager: reconciles each tenant's runtime towards what is wanted. It starts runtimes on demand
 * (the first request waits, bounded, instead of failing), restarts crashed ones with exponential backoff,
 * stops idle ones (scale to zero) and stops everything on shutdown. It depends only on the
 * {@link RuntimeDriver} contract.
 */
import { generateToken } from "../auth/api-keys.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { RuntimeDriver, RuntimeEndpoint, RuntimeExit, RuntimeModelApi, RuntimeState, RuntimeTrustedProxy } from "../contracts/runtime-driver.js";
import type { TenantService } from "../control/tenants.js";
import type { TenantRecord } from "../contracts/store.js";
import type { ModelChannelListeners } from "../gateway/model-channels.js";
import type { Logger } from "../observability/logger.js";

export interface RuntimeManagerOptions {
  /** Longest a request waits for a runtime to become ready, in ms. */
  startTimeoutMs: number;
  /** Idle time after which a ready runtime with no requests in flight is stopped, in ms (0 = never). */
  idleTimeoutMs: number;
  stopGraceMs: number;
  restartInitialBackoffMs: number;
  restartMaxBackoffMs: number;
  /** Crash restarts in a row (each within 60 s of becoming ready) before the runtime is marked `failed`. */
  restartMaxAttempts: number;
  /** uid for a tenant's sandbox, or null to run as the platform's user. */
  uidFor: (tenantNumber: number) => number | null;
  /** Model ids every runtime is configured with (primary first). */
  modelIds: () => string[];
  /** API runtimes use for their model calls. */
  modelApi?: RuntimeModelApi;
  /** Readiness poll interval, in ms. */
  readyPollMs?: number;
  /** Called after a runtime stopped (e.g. to give up its ownership lease). */
  onStopped?: (tenantId: string) => void;
  /**
   * Called each time a runtime answered its readiness probe, before it is reported ready (e.g. to connect its exec
   * approval client first, so the first request already has an approver). Must not throw; bounded by the caller.
   */
  onReady?: (tenantId: string, connection: RuntimeConnection) => Promise<void>;
  /** Platform-managed OpenClaw config keys for a tenant (its permission profile's `tools`), rendered at each start. */
  platformOverrides?: (tenant: TenantRecord) => Record<string, unknown>;
  /** Trusted-proxy auth for a tenant's runtime (undefined: token auth). Read at every start. */
  trustedProxyFor?: (tenantId: string) => Promise<RuntimeTrustedProxy | undefined>;
}

/** What the ingress needs to reach a ready runtime. */
export interface RuntimeConnection {
  endpoint: RuntimeEndpoint;
  gatewayToken: string;
  /** True when the runtime runs in trusted-proxy mode (the ingress sends identity headers, not the token). */
  trustedProxy?: boolean;
}

/** The state of one tenant's runtime as reported by the admin API. */
export interface RuntimeStatusView {
  state: RuntimeState;
  /** When the runtime entered `state` (ISO 8601). */
  since: string;
  restarts: number;
  lastError: string | null;
  pid: number | null;
  /** Requests currently proxied to it (WebSocket sessions count while open). */
  inFlight: number;
  lastActivityAt: string | null;
}

/** A runtime up this long (ms) before it crashes is considered stable: its crash count starts again. */
const STABLE_AFTER_MS = 60_000;

interface Entry {
  state: RuntimeState;
  sinceMs: number;
  restarts: number;
  consecutiveCrashes: number;
  lastError: string | null;
  connection: RuntimeConnection | null;
  starting: Promise<RuntimeConnection> | null;
  stopping: Promise<void> | null;
  restartTimer: NodeJS.Timeout | null;
  inFlight: number;
  lastActivityMs: number | null;
  /** When the runtime last became ready (epoch ms). */
  readyAtMs: number | null;
  /** Bumped on every start/stop so that stale callbacks can tell they are stale. */
  generation: number;
}

/** Outcome of {@link RuntimeManager.refreshIdentityScopes}. */
export type IdentityScopesRefresh = "written" | "unchanged" | "not-applicable";

export class RuntimeManager {
  private readonly entries = new Map<string, Entry>();
  /** Identity-scope refreshes in progress by tenant, and whether another one was asked for meanwhile. */
  private readonly scopeRefreshes = new Map<string, { running: Promise<IdentityScopesRefresh>; again: boolean }>();
  private readonly reaper: NodeJS.Timeout | null;
  private shuttingDown = false;

  constructor(
    private readonly driver: RuntimeDriver,
    private readonly tenants: TenantService,
    private readonly modelChannels: ModelChannelListeners,
    private readonly options: RuntimeManagerOptions,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    driver.onExit((exit) => this.handleExit(exit));
    if (options.idleTimeoutMs > 0) {
      const interval = Math.max(1_000, Math.min(30_000, Math.floor(options.idleTimeoutMs / 4)));
      this.reaper = setInterval(() => void this.stopIdleRuntimes(), interval);
      this.reaper.unref();
    } else {
      this.reaper = null;
    }
  }

  /** Current status of a tenant's runtime (`stopped` when never started). */
  async status(tenantId: string): Promise<RuntimeStatusView> {
    const entry = this.entries.get(tenantId);
    const processStatus = entry && entry.state !== "stopped" ? await this.driver.status(tenantId) : null;
    return {
      state: entry?.state ?? "stopped",
      since: new Date(entry?.sinceMs ?? this.now()).toISOString(),
      restarts: entry?.restarts ?? 0,
      lastError: entry?.lastError ?? null,
      pid: processStatus?.pid ?? null,
      inFlight: entry?.inFlight ?? 0,
      lastActivityAt: entry?.lastActivityMs ? new Date(entry.lastActivityMs).toISOString() : null,
    };
  }

  /**
   * Gateway tokens the platform holds for its ready runtimes, by tenant id. For
   * diagnostics only (`clawfleet doctor` compares their digests with each runtime's config); never logged.
   */
  heldGatewayTokens(): Map<string, string> {
    const tokens = new Map<string, string>();
    for (const [tenantId, entry] of this.entries) if (entry.connection) tokens.set(tenantId, entry.connection.gatewayToken);
    return tokens;
  }

  /** The state alone, without asking the driver (cheap; used on the hot path). */
  stateOf(tenantId: string): RuntimeState {
    return this.entries.get(tenantId)?.state ?? "stopped";
  }

  /**
   * Returns a ready runtime's connection, starting the runtime if needed and waiting for it.
   * @throws ClawfleetError CF_RUNTIME_START_TIMEOUT (not ready within `timeoutMs`), CF_RUNTIME_START_FAILED,
   *   CF_RUNTIME_UNAVAILABLE (failed permanently), CF_SHUTTING_DOWN.
   */
  async ensureReady(tenantId: string, timeoutMs = this.options.startTimeoutMs): Promise<RuntimeConnection> {
    if (this.shuttingDown) throw new ClawfleetError("CF_SHUTTING_DOWN", "Clawfleet is shutting down");
    const entry = this.entry(tenantId);
    entry.lastActivityMs = this.now();
    if (entry.state === "ready" && entry.connection) return entry.connection;
    if (entry.stopping) await entry.stopping;
    const starting = entry.starting ?? this.start(tenantId);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new ClawfleetError("CF_RUNTIME_START_TIMEOUT", `runtime of tenant "${tenantId}" did not become ready within ${timeoutMs} ms; it keeps starting, retry shortly`, { retryAfterSeconds: 5 })),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([starting, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts the runtime (or joins a start in progress) and resolves when it is ready. */
  start(tenantId: string): Promise<RuntimeConnection> {
    const entry = this.entry(tenantId);
    if (entry.state === "ready" && entry.connection) return Promise.resolve(entry.connection);
    if (entry.starting) return entry.starting;
    if (entry.restartTimer) {
      clearTimeout(entry.restartTimer);
      entry.restartTimer = null;
    }
    entry.generation += 1;
    const generation = entry.generation;
    const starting = this.bootRuntime(tenantId, entry, generation).finally(() => {
      if (entry.starting === starting) entry.starting = null;
    });
    entry.starting = starting;
    // Callers that stop waiting must not leave an unhandled rejection behind.
    starting.catch(() => undefined);
    return starting;
  }

  /** Marks the start and end of a request proxied to the runtime (keeps it from being reaped while busy). */
  beginRequest(tenantId: string): () => void {
    const entry = this.entry(tenantId);
    entry.inFlight += 1;
    entry.lastActivityMs = this.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      entry.inFlight -= 1;
      entry.lastActivityMs = this.now();
    };
  }

  /** Gracefully stops a tenant's runtime; it starts again on the next request. */
  async stop(tenantId: string): Promise<void> {
    const entry = this.entries.get(tenantId);
    if (!entry || entry.state === "stopped") return;
    if (entry.stopping) return entry.stopping;
    entry.generation += 1;
    if (entry.restartTimer) {
      clearTimeout(entry.restartTimer);
      entry.restartTimer = null;
    }
    this.transition(tenantId, entry, "stopping");
    entry.stopping = (async () => {
      try {
        await this.driver.stop(tenantId, { graceMs: this.options.stopGraceMs });
      } finally {
        await this.modelChannels.close(tenantId);
        entry.connection = null;
        entry.stopping = null;
        this.transition(tenantId, entry, "stopped");
        this.options.onStopped?.(tenantId);
      }
    })();
    return entry.stopping;
  }

  /** Stops the runtime and deletes its files. */
  async destroy(tenantId: string): Promise<void> {
    await this.stop(tenantId);
    await this.driver.destroy(tenantId);
    this.entries.delete(tenantId);
  }

  logs(tenantId: string, lines: number): Promise<string> {
    return this.driver.logs(tenantId, { lines });
  }

  /** Tenants whose runtime is ready on this replica. */
  readyTenants(): string[] {
    return [...this.entries].filter(([, entry]) => entry.state === "ready").map(([tenantId]) => tenantId);
  }

  /**
   * Re-renders the identity scopes of the tenant's runtime (`trustedProxyFor`) and has the driver rewrite them in
   * the running runtime's config, without a restart (OpenClaw reloads that key live). Calls for one tenant never
   * overlap; a call made while one runs triggers exactly one more run afterwards, so the last change always lands.
   * @returns `not-applicable` when the runtime is not ready here, uses token auth, or the driver cannot
   *   update a running runtime; else what the driver did
   * @throws whatever rendering (store reads) or the driver's rewrite throws
   */
  refreshIdentityScopes(tenantId: string): Promise<IdentityScopesRefresh> {
    const pending = this.scopeRefreshes.get(tenantId);
    if (pending) {
      pending.again = true;
      return pending.running;
    }
    const slot = { running: Promise.resolve<IdentityScopesRefresh>("not-applicable"), again: false };
    slot.running = (async () => {
      let outcome: IdentityScopesRefresh = "not-applicable";
      try {
        do {
          slot.again = false;
          outcome = await this.refreshIdentityScopesOnce(tenantId);
        } while (slot.again);
        return outcome;
      } finally {
        this.scopeRefreshes.delete(tenantId);
      }
    })();
    this.scopeRefreshes.set(tenantId, slot);
    return slot.running;
  }

  private async refreshIdentityScopesOnce(tenantId: string): Promise<IdentityScopesRefresh> {
    const entry = this.entries.get(tenantId);
    const render = this.options.trustedProxyFor;
    // Only a ready runtime: one still starting may have read its config already but not yet watch it; the refresh
    // run when it becomes ready catches up on anything that changed meanwhile.
    if (!entry || entry.state !== "ready" || !render || !this.driver.updateIdentityScopes) return "not-applicable";
    const trustedProxy = await render(tenantId);
    if (!trustedProxy) return "not-applicable";
    const outcome = await this.driver.updateIdentityScopes(tenantId, trustedProxy.identityScopes);
    if (outcome === "not-running") return "not-applicable";
    if (outcome === "written") this.logger.info({ tenantId, identities: Object.keys(trustedProxy.identityScopes).length }, "runtime identity scopes updated live");
    return outcome;
  }

  /** Stops every runtime gracefully (in parallel) and refuses new starts. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.reaper) clearInterval(this.reaper);
    await Promise.allSettled([...this.entries.keys()].map((tenantId) => this.stop(tenantId)));
    await this.modelChannels.closeAll();
  }

  /** Stops ready runtimes idle for longer than `idleTimeoutMs` with nothing in flight. */
  async stopIdleRuntimes(): Promise<string[]> {
    const idleSince = this.now() - this.options.idleTimeoutMs;
    const idle = [...this.entries.entries()]
      .filter(([, entry]) => entry.state === "ready" && entry.inFlight === 0 && (entry.lastActivityMs ?? entry.sinceMs) <= idleSince)
      .map(([tenantId]) => tenantId);
    for (const tenantId of idle) {
      this.logger.info({ tenantId, idleTimeoutMs: this.options.idleTimeoutMs }, "stopping idle runtime");
      await this.stop(tenantId).catch((error: unknown) => this.logger.error({ err: error, tenantId }, "idle stop failed"));
    }
    return idle;
  }

  private entry(tenantId: string): Entry {
    let entry = this.entries.get(tenantId);
    if (!entry) {
      entry = {
        state: "stopped",
        sinceMs: this.now(),
        restarts: 0,
        consecutiveCrashes: 0,
        lastError: null,
        connection: null,
        starting: null,
        stopping: null,
        restartTimer: null,
        inFlight: 0,
        lastActivityMs: null,
        readyAtMs: null,
        generation: 0,
      };
      this.entries.set(tenantId, entry);
    }
    return entry;
  }

  private transition(tenantId: string, entry: Entry, state: RuntimeState): void {
    if (entry.state === state) return;
    this.logger.info({ tenantId, from: entry.state, to: state }, "runtime state");
    entry.state = state;
    entry.sinceMs = this.now();
  }

  private async bootRuntime(tenantId: string, entry: Entry, generation: number): Promise<RuntimeConnection> {
    this.transition(tenantId, entry, "starting");
    const startedMs = this.now();
    try {
      const tenant = await this.tenants.getTenant(tenantId);
      const virtualKey = await this.tenants.rotateRuntimeKey(tenantId);
      const gatewayToken = generateToken();
      const trustedProxy = await this.options.trustedProxyFor?.(tenantId);
      const spec = {
        tenantId,
        gatewayToken,
        virtualKey,
        modelIds: this.options.modelIds(),
        tenantSettings: tenant.settings,
        platformOverrides: this.options.platformOverrides?.(tenant) ?? {},
        uid: this.options.uidFor(tenant.number),
        ...(this.options.modelApi ? { modelApi: this.options.modelApi } : {}),
        ...(trustedProxy ? { trustedProxy } : {}),
      };
      await this.driver.provision(spec);
      await this.modelChannels.listen(tenantId, await this.driver.modelChannelAddress(tenantId));
      const endpoint = await this.driver.start(spec);
      await this.waitUntilReady(tenantId, entry, generation);
      const connection: RuntimeConnection = { endpoint, gatewayToken, ...(trustedProxy ? { trustedProxy: true } : {}) };
      await this.options.onReady?.(tenantId, connection).catch((error: unknown) => this.logger.warn({ err: error, tenantId }, "runtime ready hook failed"));
      entry.connection = connection;
      entry.lastError = null;
      entry.readyAtMs = this.now();
      entry.lastActivityMs = this.now();
      this.transition(tenantId, entry, "ready");
      this.logger.info({ tenantId, startMs: this.now() - startedMs }, "runtime ready");
      // Members or keys changed while it booted (after its config was rendered): bring the running config up to date.
      if (trustedProxy) void this.refreshIdentityScopes(tenantId).catch((error: unknown) => this.logger.warn({ err: error, tenantId }, "identity scope refresh after start failed"));
      return connection;
    } catch (error) {
      entry.lastError = error instanceof Error ? error.message : String(error);
      if (entry.generation === generation && entry.state === "starting") {
        this.transition(tenantId, entry, "failed");
        await this.driver.stop(tenantId, { graceMs: 0 }).catch(() => undefined);
      }
      if (error instanceof ClawfleetError) throw error;
      throw new ClawfleetError("CF_RUNTIME_START_FAILED", `runtime of tenant "${tenantId}" failed to start: ${entry.lastError}`, { cause: error });
    }
  }

  private async waitUntilReady(tenantId: string, entry: Entry, generation: number): Promise<void> {
    const pollMs = this.options.readyPollMs ?? 250;
    for (;;) {
      if (entry.generation !== generation || entry.state !== "starting") {
        throw new ClawfleetError("CF_RUNTIME_START_FAILED", `runtime of tenant "${tenantId}" stopped while starting${entry.lastError ? `: ${entry.lastError}` : ""}`);
      }
      if (await this.driver.probeReady(tenantId)) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  private handleExit(exit: RuntimeExit): void {
    const entry = this.entries.get(exit.tenantId);
    if (!entry || exit.expected || this.shuttingDown || entry.state === "stopping" || entry.state === "stopped") return;
    const reason = `runtime exited unexpectedly (code ${exit.code ?? "none"}, signal ${exit.signal ?? "none"})`;
    this.logger.warn({ tenantId: exit.tenantId, code: exit.code, signal: exit.signal }, "runtime crashed");
    entry.lastError = reason;
    entry.connection = null;
    entry.generation += 1;
    // A runtime that stayed up for a while before crashing starts a new count; one that crashes soon after
    // every restart keeps counting towards `failed`.
    if (entry.readyAtMs !== null && this.now() - entry.readyAtMs >= STABLE_AFTER_MS) entry.consecutiveCrashes = 0;
    entry.consecutiveCrashes += 1;
    if (entry.consecutiveCrashes > this.options.restartMaxAttempts) {
      this.transition(exit.tenantId, entry, "failed");
      return;
    }
    const backoffMs = Math.min(this.options.restartMaxBackoffMs, this.options.restartInitialBackoffMs * 2 ** (entry.consecutiveCrashes - 1));
    this.transition(exit.tenantId, entry, "backoff");
    this.logger.info({ tenantId: exit.tenantId, backoffMs, attempt: entry.consecutiveCrashes }, "restarting runtime after backoff");
    entry.restartTimer = setTimeout(() => {
      entry.restartTimer = null;
      entry.restarts += 1;
      this.start(exit.tenantId).catch((error: unknown) => this.logger.error({ err: error, tenantId: exit.tenantId }, "runtime restart failed"));
    }, backoffMs);
    entry.restartTimer.unref();
  }
}
