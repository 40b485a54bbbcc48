/**
 * The runtime driver contract: how the control plane provisions, starts, stops and observes one OpenClaw
 * runtime per tenant. Implementations live in `src/runtime/drivers/<name>/` (process today; docker,
 * kubernetes and ecs later) and are built only by the composition root (`src/deps.ts`). Core code (the
 * runtime manager, the ingress) depends on this interface alone.
 */

/** Lifecycle of one tenant runtime as the manager reports it (`GET /admin/v1/tenants/{id}` → `runtime.state`). */
export type RuntimeState =
  | "stopped" // not running; the next request starts it
  | "starting" // process spawned, waiting for the runtime's /readyz
  | "ready" // /readyz answered 200: requests are proxied
  | "stopping" // graceful stop in progress
  | "backoff" // crashed; waiting before the next restart attempt
  | "failed"; // gave up restarting (see `lastError`)

/** Where a running runtime's gateway (HTTP + WebSocket) can be reached from the platform. */
export type RuntimeEndpoint =
  | { kind: "unix"; socketPath: string } // sandboxed: the inbound bridge socket bind-mounted into the runtime
  | { kind: "tcp"; host: "127.0.0.1"; port: number }; // unsandboxed fallback: a loopback port per tenant

/**
 * Where the platform must listen so that this runtime's model calls reach the model gateway. The platform
 * identifies the calling runtime by the listener the connection arrived on, never by headers.
 */
export type ModelChannelAddress =
  | { kind: "unix"; socketPath: string } // a socket in a directory bind-mounted (read-only) into the sandbox
  | { kind: "tcp"; host: "127.0.0.1"; port: number }; // unsandboxed fallback: one loopback port per tenant

/**
 * The API a runtime speaks to the model gateway (OpenClaw's `models.providers.*.api`): Chat Completions,
 * Anthropic Messages or OpenAI Responses. All three reach the same gateway and policy chain.
 */
export type RuntimeModelApi = "openai-completions" | "anthropic-messages" | "openai-responses";

/** Everything a driver needs to run one tenant's runtime. Secrets here never leave the platform's data dir. */
export interface RuntimeSpec {
  /** Tenant id (`^[a-z0-9][a-z0-9-]{0,62}$`). */
  tenantId: string;
  /** Random per-runtime gateway token (`gateway.auth.token`); only the ingress ever sends it. */
  gatewayToken: string;
  /** Per-runtime virtual key the runtime presents to the model gateway (never a provider key). */
  virtualKey: string;
  /** Model ids the runtime may pick, as offered by the model gateway (`/v1/models`). The first is primary. */
  modelIds: string[];
  /** The tenant's own operational OpenClaw settings (JSON object); platform-managed keys are merged over it. */
  tenantSettings: Record<string, unknown>;
  /** Extra platform-managed OpenClaw config keys (e.g. a profile's `tools` section); merged last, they win. */
  platformOverrides: Record<string, unknown>;
  /** Per-tenant OS uid for the sandbox (`null`: run as the platform's own user). */
  uid: number | null;
  /** API the runtime uses for its model calls; default `openai-completions`. */
  modelApi?: RuntimeModelApi;
  /** When set, the runtime authenticates the ingress in OpenClaw's trusted-proxy mode instead of by token. */
  trustedProxy?: RuntimeTrustedProxy;
}

/**
 * OpenClaw trusted-proxy auth for one runtime (docs/gateway/trusted-proxy-auth.md): the ingress is the only
 * proxy, sets `userHeader` on every request, overwrites `X-Forwarded-For` and `x-openclaw-scopes`.
 */
export interface RuntimeTrustedProxy {
  /** Header carrying the caller's identity (`apikey:<keyId>` or `user:<userId>`). */
  userHeader: string;
  /** Browser origins allowed by the Control UI / WebChat (`gateway.controlUi.allowedOrigins`). */
  allowedOrigins: string[];
  /** Identity → operator scopes for WebSocket sessions (`gateway.auth.identityScopes`) as rendered now (at start, and again live on changes). */
  identityScopes: Record<string, string[]>;
}

/** Point-in-time status reported by a driver. */
export interface RuntimeProcessStatus {
  /** True while the runtime's process (or container) exists. */
  running: boolean;
  /** Host pid of the OpenClaw launcher, when the driver runs local processes. */
  pid: number | null;
  /** Wall-clock start time (epoch ms) of the current process, if running. */
  startedAtMs: number | null;
}

/** Why a runtime's process ended (delivered to {@link RuntimeDriver.onExit} listeners). */
export interface RuntimeExit {
  tenantId: string;
  /** Process exit code, or null when killed by a signal. */
  code: number | null;
  signal: string | null;
  /** True when the platform asked for the stop (stop/destroy/shutdown), false for a crash. */
  expected: boolean;
}

/**
 * One way of running tenant runtimes. Every method is idempotent per tenant and safe to call concurrently
 * for different tenants. Methods reject with `ClawfleetError` (`CF_RUNTIME_START_FAILED`, `CF_INTERNAL`).
 */
export interface RuntimeDriver {
  /** Driver name as used in config (`runtime.driver`), e.g. `process`. */
  readonly name: string;
  /** True when runtimes are sandboxed (no network of their own); false means the loud fallback is in use. */
  readonly sandboxed: boolean;
  /** Creates the tenant's directories, uid ownership and anything else that survives restarts. */
  provision(spec: RuntimeSpec): Promise<void>;
  /** Where the model gateway must listen for this tenant before `start` is called. */
  modelChannelAddress(tenantId: string): Promise<ModelChannelAddress>;
  /**
   * Renders the runtime's config (platform keys over tenant settings) and starts its process. Resolves as
   * soon as the process is spawned; readiness is observed through {@link RuntimeDriver.probeReady}.
   */
  start(spec: RuntimeSpec): Promise<RuntimeEndpoint>;
  /** True when the runtime's gateway answers its `/readyz` with 200. Never throws. */
  probeReady(tenantId: string): Promise<boolean>;
  /** Graceful stop: signals the process inside the sandbox, waits up to `graceMs`, then kills. */
  stop(tenantId: string, options?: { graceMs?: number }): Promise<void>;
  status(tenantId: string): Promise<RuntimeProcessStatus>;
  /** Stops the runtime and deletes every file of the tenant's runtime. */
  destroy(tenantId: string): Promise<void>;
  /** The last `lines` lines of the runtime's own log (OpenClaw's `logging.file` plus its stdout/stderr). */
  logs(tenantId: string, options?: { lines?: number }): Promise<string>;
  /** Registers a listener for process exits (crashes and requested stops). */
  onExit(listener: (exit: RuntimeExit) => void): void;
  /**
   * Replaces `gateway.auth.identityScopes` of a RUNNING trusted-proxy runtime in place, without a restart (OpenClaw
   * hot-reloads that key). Resolves `not-running` when the tenant has no process here, `unchanged` when the runtime
   * already has this map. Optional: drivers without it apply identity scopes at the next start only.
   */
  updateIdentityScopes?(tenantId: string, identityScopes: Record<string, string[]>): Promise<"written" | "unchanged" | "not-running">;
}
