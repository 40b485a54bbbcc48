/**
 * Starts and stops a whole Clawfleet instance: dependencies, runtime manager, model channels, the HTTP server
 * and its background work. `clawfleet serve` is a thin wrapper around {@link startClawfleet}.
 */
import type { FastifyInstance } from "fastify";
import { registerAdminApi } from "./admin/routes.js";
import { registerDiagnostics } from "./admin/diagnostics.js";
import type { ClawfleetConfig } from "./config/schema.js";
import { resolveAdminToken, type AdminTokenResult } from "./control/admin-token.js";
import { createDeps, type Dependencies } from "./deps.js";
import { registerModelGateway } from "./gateway/routes.js";
import { ModelChannelListeners } from "./gateway/model-channels.js";
import { buildServer, internalServerOf, routeTableOf } from "./http/server.js";
import { checkBindSafety, isLoopbackHost } from "./http/bind-safety.js";
import { AuthLockout } from "./http/auth-lockout.js";
import { unauthenticatedRoutes } from "./http/route-auth-check.js";
import { ownResponseSecurityHeaders } from "./http/security-headers.js";
import { loadTlsMaterial, TlsCertificateWatcher, TlsMaterialError, type TlsMaterial } from "./http/tls.js";
import { ConfigError } from "./config/load.js";
import { registerIngress } from "./ingress/routes.js";
import type { Logger } from "./observability/logger.js";
import { RuntimeManager } from "./runtime/manager.js";
import { RequestRecorder } from "./gateway/request-recorder.js";
import { RuntimeOwnership } from "./runtime/ownership.js";
import { ReplicaForwarder } from "./ingress/replica-forward.js";
import { ExecApprovalBridge } from "./governance/approvals/exec-approvals.js";
import { ApprovalSweeper } from "./governance/approvals/sweeper.js";
import { runtimeWebSocketUrl } from "./ingress/websocket-proxy.js";
import { approvalClientHeaders } from "./ingress/trusted-proxy.js";
import { renderProfileConfig } from "./governance/profiles/render.js";
import { createProfileRuntimeSync } from "./governance/profiles/runtime-sync.js";
import { setUpIdentity } from "./auth/setup.js";
import { watchSharedKey } from "./auth/replica-assertion.js";
import { identityAdminRoutes } from "./admin/identity-routes.js";
import { RuntimeIdentitySync } from "./runtime/identity-sync.js";

export const VERSION = "0.1.0";

/** A running instance. */
export interface RunningClawfleet {
  app: FastifyInstance;
  deps: Dependencies;
  runtimes: RuntimeManager;
  modelChannels: ModelChannelListeners;
  adminToken: AdminTokenResult;
  /** Base URL it listens on, e.g. `http://127.0.0.1:8420`. */
  url: string;
  /** Stops accepting requests, stops every runtime gracefully, closes the database. Idempotent. */
  close(): Promise<void>;
}

/** Pub/sub channel announcing policy changes between replicas. */
const SNAPSHOT_CHANNEL = "snapshot-changed";
/** Rebuild the snapshot this often anyway (ms), in case a change announcement was missed. */
const SNAPSHOT_SAFETY_REFRESH_MS = 30_000;

/** How often last-used times of keys are written to the store, in ms. */
const KEY_USAGE_FLUSH_MS = 5_000;

/**
 * Starts Clawfleet with a validated config and listens on `server.host:server.port`. `env` is where provider
 * keys named by `apiKeyEnv` are read (at call time, so a changed variable needs no restart of this object).
 */
export async function startClawfleet(config: ClawfleetConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<RunningClawfleet> {
  // Before anything has side effects: never expose unauthenticated routes or clear-text credentials.
  checkBindSafety(config);
  let tlsMaterial: TlsMaterial | undefined;
  if (config.server.tls !== undefined) {
    try {
      tlsMaterial = loadTlsMaterial(config.server.tls);
    } catch (error) {
      if (error instanceof TlsMaterialError) throw new ConfigError([`server.tls: ${error.problem}`]);
      throw error;
    }
  }
  const adminToken = resolveAdminToken(config.dataDir, config.adminToken);
  const deps = await createDeps(config, logger, env);
  let closing = false;
  const authLockout = new AuthLockout(deps.sharedState, config.server.authLockout, logger.child({ component: "auth-lockout" }), deps.now);
  await authLockout.start();
  const app = await buildServer({
    logger,
    bodyLimitBytes: config.server.bodyLimitBytes,
    requestTimeoutMs: config.server.requestTimeoutMs,
    metricsToken: config.server.metricsToken,
    tls: tlsMaterial,
    adminBodyLimitBytes: config.server.adminBodyLimitBytes,
    maxHeaderBytes: config.server.maxHeaderBytes,
    headersTimeoutMs: config.server.headersTimeoutMs,
    keepAliveTimeoutMs: config.server.keepAliveTimeoutMs,
    trustedProxies: config.server.trustedProxies,
    authLockout,
    isReady: async () => !closing && (await deps.store.ping()),
  });
  const ownership = new RuntimeOwnership(deps.sharedState, logger.child({ component: "runtime-ownership" }));
  const identity = await setUpIdentity(app, config.auth, {
    snapshots: deps.snapshots,
    keyUsage: deps.keyUsage,
    identity: deps.store.identity,
    tenants: deps.tenants,
    now: deps.now,
    adminToken: adminToken.token,
    replicaSecret: config.server.replicaSecret,
    selfUrl: () => ownership.selfUrl,
    sandboxed: deps.driver.sandboxed,
    env,
    logger: logger.child({ component: "identity" }),
  });
  const modelChannels = new ModelChannelListeners(() => internalServerOf(app), logger.child({ component: "model-channels" }));
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const forwarder = new ReplicaForwarder(() => ownership.selfUrl, identity.replicaAssertions);
  const stopKeyWatch = watchSharedKey(deps.sharedState, identity.replicaAssertions, logger.child({ component: "replica-assertions" }));
  const execApprovals = new ExecApprovalBridge({ inbox: deps.approvals.inbox, repository: deps.store.approvals, policy: deps.approvals.execPolicy, now: deps.now, logger: logger.child({ component: "exec-approvals" }), version: VERSION });
  const runtimes = new RuntimeManager(
    deps.driver,
    deps.tenants,
    modelChannels,
    {
      startTimeoutMs: config.runtime.startTimeoutMs,
      idleTimeoutMs: config.runtime.idleTimeoutMs,
      stopGraceMs: config.runtime.stopGraceMs,
      restartInitialBackoffMs: config.runtime.restartInitialBackoffMs,
      restartMaxBackoffMs: config.runtime.restartMaxBackoffMs,
      restartMaxAttempts: config.runtime.restartMaxAttempts,
      uidFor: (tenantNumber) => (isRoot && deps.driver.sandboxed ? config.runtime.uidBase + tenantNumber : null),
      modelIds: () => deps.router.aliases(),
      modelApi: config.runtime.modelApi,
      onStopped: (tenantId) => {
        execApprovals.detach(tenantId);
        void ownership.release(tenantId);
      },
      onReady: (tenantId, connection) =>
        execApprovals.attach(tenantId, { url: runtimeWebSocketUrl(connection, "/"), gatewayToken: connection.gatewayToken, ...(connection.trustedProxy ? { trustedProxyHeaders: approvalClientHeaders() } : {}) }),
      platformOverrides: (tenant) => ({ ...renderProfileConfig(deps.profileResolver.forTenant(tenant.id, tenant.profile)) }),
      ...(identity.trustedProxyFor ? { trustedProxyFor: identity.trustedProxyFor } : {}),
    },
    logger.child({ component: "runtime-manager" }),
  );

  // Members or keys changed (on any replica): the replica running the tenant's runtime rewrites its identity scopes live.
  const identitySync = new RuntimeIdentitySync({ sharedState: deps.sharedState, target: runtimes, logger: logger.child({ component: "identity-sync" }) });
  await identitySync.start();
  const stopIdentitySync = deps.snapshots.onChange((snapshot) => identitySync.onSnapshot(snapshot));

  // A profile change (edit or assignment) restarts the tenant's running runtime with a freshly rendered config.
  const profileSync = createProfileRuntimeSync(deps.profileResolver, { stateOf: (tenantId) => runtimes.stateOf(tenantId), stop: (tenantId) => runtimes.stop(tenantId), start: (tenantId) => runtimes.start(tenantId), decide: (tenantId) => ownership.decide(tenantId) }, logger.child({ component: "profile-sync" }));
  profileSync.onSnapshot(deps.snapshots.current());
  const stopProfileSync = deps.snapshots.onChange((snapshot) => profileSync.onSnapshot(snapshot));

  const recorder = new RequestRecorder(deps.store.requests, logger.child({ component: "request-recorder" }));
  await registerAdminApi(app, {
    ownership,
    requests: deps.store.requests,
    flushRequests: () => recorder.flush(),
    adminToken: adminToken.token,
    tenants: deps.tenants,
    runtimes,
    clients: deps.clients,
    sandboxed: deps.driver.sandboxed,
    version: VERSION,
    approvals: { inbox: deps.approvals.inbox, repository: deps.store.approvals, now: deps.now },
    governance: { profiles: deps.profiles, audit: deps.audit, auditEvents: deps.store.audit },
    authorizeRequest: identity.authorizeAdmin,
    extraRoutes: [identityAdminRoutes({ identity: deps.store.identity, tenants: deps.tenants, now: deps.now, onMembershipsChanged: (tenantId) => identitySync.membershipsChanged(tenantId) })],
  });
  await registerModelGateway(app, {
    snapshots: deps.snapshots,
    keyUsage: deps.keyUsage,
    now: deps.now,
    router: deps.router,
    admission: deps.admission,
    cache: deps.cache,
    safety: deps.safety,
    providers: deps.providers,
    prices: deps.prices,
    recorder,
    metrics: deps.metrics,
    offeredModels: deps.offeredModels,
    profiles: deps.profileResolver,
    approvals: deps.approvals.gate,
    audit: deps.audit,
    toolContext: deps.toolContext,
    securityHeaders: ownResponseSecurityHeaders({ tls: tlsMaterial !== undefined }),
  });
  await registerDiagnostics(app, { adminToken: adminToken.token, heldGatewayTokens: () => runtimes.heldGatewayTokens() });
  await registerIngress(app, {
    snapshots: deps.snapshots,
    runtimes,
    ownership,
    forwarder,
    clients: deps.clients,
    keyUsage: deps.keyUsage,
    now: deps.now,
    audit: deps.audit,
    identity: identity.chain,
    runtimeAuthMode: identity.runtimeAuthMode,
    publicOrigin: config.auth.publicOrigin,
    loginPath: config.auth.browserLogin !== undefined && config.auth.publicOrigin !== undefined ? "/auth/login" : undefined,
  });

  // Replicas: a policy change made on one replica (tenant, key, settings) is announced on the shared state's
  // pub/sub; every replica rebuilds its snapshot from the shared database when it hears it. A periodic rebuild
  // covers a missed message.
  const unsubscribeSnapshots = await deps.sharedState.subscribe(SNAPSHOT_CHANNEL, () => {
    deps.snapshots.refresh().catch((error: unknown) => logger.error({ err: error }, "snapshot refresh failed"));
  });
  deps.snapshots.setBroadcast(async (version) => deps.sharedState.publish(SNAPSHOT_CHANNEL, String(version)));
  const snapshotTimer = setInterval(() => void deps.snapshots.refresh().catch(() => undefined), SNAPSHOT_SAFETY_REFRESH_MS);
  snapshotTimer.unref();

  const flushKeyUsage = () => deps.store.apiKeys.touch(deps.keyUsage.drain()).catch((error: unknown) => logger.warn({ err: error }, "key usage flush failed"));
  const flushTimer = setInterval(flushKeyUsage, KEY_USAGE_FLUSH_MS);
  flushTimer.unref();

  // Over the route table, so routes any plane adds are covered: exposed beyond this machine, every route but the
  // deliberately public ones must refuse a request without credentials (/metrics is covered by checkBindSafety).
  if (!isLoopbackHost(config.server.host)) {
    const exposed = await unauthenticatedRoutes(app, routeTableOf(app), (routePath) => routePath === "/metrics" && (config.server.allowInsecureBind || config.server.metricsToken !== undefined));
    if (exposed.length > 0) {
      await app.close();
      await authLockout.close();
      await deps.clients.closeAll();
      await Promise.all([...deps.providers.values()].map((provider) => provider.close()));
      deps.credentials.stop();
      await recorder.close();
      await deps.sharedState.close();
      await deps.store.close();
      throw new ConfigError(exposed.map((line) => `server.host: ${config.server.host} is not loopback and a route has no authentication: ${line}`));
    }
  }
  // Stored deadlines, the notification outbox and decisions owed to runtimes: handled at start (whatever fell
  // due while the platform was down) and then periodically.
  const approvalSweeper = new ApprovalSweeper(
    [
      { name: "expire overdue permission requests", run: () => deps.approvals.inbox.expireDue() },
      { name: "deliver approval notifications", run: () => deps.approvals.outbox.deliverDue() },
      { name: "resolve exec approvals in runtimes", run: () => execApprovals.deliverPending() },
    ],
    config.governance.approvals.sweepIntervalMs,
    logger.child({ component: "approval-sweeper" }),
  );
  await approvalSweeper.start();

  await app.listen({ host: config.server.host, port: config.server.port });
  const tlsWatcher = tlsMaterial && config.server.tls ? new TlsCertificateWatcher(app.server as import("node:https").Server, config.server.tls, tlsMaterial, logger.child({ component: "tls" })) : null;
  tlsWatcher?.start();
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.server.port;
  const url = `${tlsMaterial ? "https" : "http"}://${config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host}:${port}`;
  ownership.bind(config.server.advertiseUrl ?? url);
  ownership.startRenewals(
    (tenantId) => runtimes.stateOf(tenantId) !== "stopped",
    (tenantId) => void runtimes.stop(tenantId).catch((error: unknown) => logger.error({ err: error, tenantId }, "stopping a runtime whose lease was lost failed")),
  );

  let closed: Promise<void> | null = null;
  return {
    app,
    deps,
    runtimes,
    modelChannels,
    adminToken,
    url,
    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(flushTimer);
        clearInterval(snapshotTimer);
        tlsWatcher?.stop();
        await authLockout.close();
        await unsubscribeSnapshots();
        await approvalSweeper.stop();
        execApprovals.close();
        stopProfileSync();
        stopIdentitySync();
        stopKeyWatch();
        await identitySync.close();
        logger.info("shutting down: stopping runtimes");
        await runtimes.shutdown();
        await deps.closeRuntimeLauncher();
        await ownership.close();
        await forwarder.close();
        await app.close();
        await deps.clients.closeAll();
        await Promise.all([...deps.providers.values()].map((provider) => provider.close()));
        deps.credentials.stop();
        await deps.approvals.outbox.close();
        deps.approvals.notifierCredentials.stop();
        await recorder.close();
        await deps.audit.close();
        await deps.sharedState.close();
        await flushKeyUsage();
        await deps.store.close();
        logger.info("shut down");
      })();
      return closed;
    },
  };
}
