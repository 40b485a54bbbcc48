/**
 * The runtime manager's reconcile logic against a scripted driver (the real process driver has its own
 * end-to-end tests): on-demand start shared by concurrent callers, bounded waits, crash restarts with
 * backoff, giving up after repeated crashes, idle stop and wake, graceful shutdown.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { ClawfleetError } from "../../src/contracts/errors.js";
import type { ModelChannelAddress, RuntimeDriver, RuntimeEndpoint, RuntimeExit, RuntimeProcessStatus, RuntimeSpec } from "../../src/contracts/runtime-driver.js";
import { SnapshotPublisher } from "../../src/control/snapshot.js";
import { TenantService } from "../../src/control/tenants.js";
import { ModelChannelListeners } from "../../src/gateway/model-channels.js";
import { RuntimeManager, type RuntimeManagerOptions } from "../../src/runtime/manager.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";
import http from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** A driver whose runtimes become ready after `bootMs` and can be crashed on command. */
class ScriptedDriver implements RuntimeDriver {
  readonly name = "scripted";
  readonly sandboxed = true;
  bootMs = 50;
  starts: RuntimeSpec[] = [];
  stops: string[] = [];
  private readonly readyAt = new Map<string, number>();
  private readonly listeners: Array<(exit: RuntimeExit) => void> = [];
  constructor(private readonly socketDirectory: string) {}
  async provision(): Promise<void> {}
  async modelChannelAddress(tenantId: string): Promise<ModelChannelAddress> {
    return { kind: "unix", socketPath: path.join(this.socketDirectory, `${tenantId}.sock`) };
  }
  async start(spec: RuntimeSpec): Promise<RuntimeEndpoint> {
    this.starts.push(spec);
    this.readyAt.set(spec.tenantId, Date.now() + this.bootMs);
    return { kind: "tcp", host: "127.0.0.1", port: 1 };
  }
  async probeReady(tenantId: string): Promise<boolean> {
    const readyAt = this.readyAt.get(tenantId);
    return readyAt !== undefined && Date.now() >= readyAt;
  }
  async stop(tenantId: string): Promise<void> {
    this.stops.push(tenantId);
    if (this.readyAt.delete(tenantId)) this.emit({ tenantId, code: 0, signal: null, expected: true });
  }
  async status(tenantId: string): Promise<RuntimeProcessStatus> {
    return { running: this.readyAt.has(tenantId), pid: this.readyAt.has(tenantId) ? 4242 : null, startedAtMs: null };
  }
  async destroy(tenantId: string): Promise<void> {
    await this.stop(tenantId);
  }
  async logs(): Promise<string> {
    return "";
  }
  onExit(listener: (exit: RuntimeExit) => void): void {
    this.listeners.push(listener);
  }
  crash(tenantId: string): void {
    this.readyAt.delete(tenantId);
    this.emit({ tenantId, code: 137, signal: null, expected: false });
  }
  private emit(exit: RuntimeExit): void {
    for (const listener of this.listeners) listener(exit);
  }
}

async function setup(options: Partial<RuntimeManagerOptions> = {}) {
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
  const snapshots = new SnapshotPublisher(store);
  const tenants = new TenantService(store, snapshots);
  await tenants.createTenant({ id: "acme", settings: { agents: { defaults: { userTimezone: "UTC" } } } });
  const driver = new ScriptedDriver(mkdtempSync(path.join(tmpdir(), "cf-manager-")));
  const server = http.createServer();
  const logger = pino({ level: "silent" });
  const manager = new RuntimeManager(
    driver,
    tenants,
    new ModelChannelListeners(() => server, logger),
    {
      startTimeoutMs: 5_000,
      idleTimeoutMs: 0,
      stopGraceMs: 100,
      restartInitialBackoffMs: 20,
      restartMaxBackoffMs: 100,
      restartMaxAttempts: 2,
      uidFor: (number) => 1000 + number,
      modelIds: () => ["default"],
      readyPollMs: 10,
      ...options,
    },
    logger,
  );
  return { manager, driver, tenants, snapshots };
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test("concurrent first requests share one start; the spec carries a fresh virtual key, token, uid and settings", async () => {
  const { manager, driver, snapshots } = await setup();
  const connections = await Promise.all([manager.ensureReady("acme"), manager.ensureReady("acme"), manager.ensureReady("acme")]);
  assert.equal(driver.starts.length, 1);
  assert.equal(new Set(connections.map((connection) => connection.gatewayToken)).size, 1);
  const spec = driver.starts[0];
  assert.ok(spec);
  assert.match(spec.virtualKey, /^cfv_/);
  assert.ok(spec.gatewayToken.length >= 43);
  assert.equal(spec.uid, 1001);
  assert.deepEqual(spec.tenantSettings, { agents: { defaults: { userTimezone: "UTC" } } });
  assert.deepEqual(spec.modelIds, ["default"]);
  const runtimeKeys = [...snapshots.current().keys.values()].filter((key) => key.kind === "runtime");
  assert.equal(runtimeKeys.length, 1, "exactly one live virtual key per runtime");
  assert.equal((await manager.status("acme")).state, "ready");
  await manager.shutdown();
});

test("a caller's wait is bounded; the runtime keeps starting and the next caller gets it", async () => {
  const { manager, driver } = await setup({ startTimeoutMs: 30 });
  driver.bootMs = 200;
  await assert.rejects(manager.ensureReady("acme"), (error: unknown) => error instanceof ClawfleetError && error.code === "CF_RUNTIME_START_TIMEOUT" && error.retryAfterSeconds === 5);
  assert.equal(manager.stateOf("acme"), "starting");
  const connection = await manager.ensureReady("acme", 2_000);
  assert.ok(connection.gatewayToken);
  assert.equal(driver.starts.length, 1, "the slow start was joined, not repeated");
  await manager.shutdown();
});

test("a crashed runtime restarts after backoff with a new virtual key and token; repeated crashes end in failed", async (context) => {
  const { manager, driver } = await setup();
  context.after(() => manager.shutdown());
  const first = await manager.ensureReady("acme");
  driver.crash("acme");
  assert.equal(manager.stateOf("acme"), "backoff");
  await waitFor(() => manager.stateOf("acme") === "ready");
  assert.equal(driver.starts.length, 2);
  assert.notEqual(driver.starts[1]?.virtualKey, driver.starts[0]?.virtualKey);
  const second = await manager.ensureReady("acme");
  assert.notEqual(second.gatewayToken, first.gatewayToken);
  assert.equal((await manager.status("acme")).restarts, 1);

  driver.crash("acme");
  await waitFor(() => manager.stateOf("acme") === "ready");
  driver.crash("acme");
  assert.equal(manager.stateOf("acme"), "failed", "the third crash in a row (max 2 restarts) gives up");
  assert.match((await manager.status("acme")).lastError ?? "", /code 137/);
  await manager.ensureReady("acme");
  assert.equal(manager.stateOf("acme"), "ready", "a new request tries again after failed");
});

test("a runtime that ran stably before crashing starts a new crash count", async (context) => {
  let nowMs = 1_000_000;
  const { manager, driver } = await setup({ restartMaxAttempts: 1 });
  context.after(() => manager.shutdown());
  (manager as unknown as { now: () => number }).now = () => nowMs;
  await manager.ensureReady("acme");
  for (let crash = 0; crash < 3; crash += 1) {
    nowMs += 61_000;
    driver.crash("acme");
    assert.equal(manager.stateOf("acme"), "backoff", `crash ${crash + 1} after a stable minute is retried`);
    await waitFor(() => manager.stateOf("acme") === "ready");
  }
});

test("idle runtimes stop, busy ones do not, and the next request wakes them", async () => {
  let nowMs = 1_000_000;
  const { manager, driver } = await setup({ idleTimeoutMs: 60_000 });
  (manager as unknown as { now: () => number }).now = () => nowMs;
  await manager.ensureReady("acme");
  const endRequest = manager.beginRequest("acme");
  nowMs += 120_000;
  assert.deepEqual(await manager.stopIdleRuntimes(), [], "a request in flight keeps the runtime");
  endRequest();
  nowMs += 59_000;
  assert.deepEqual(await manager.stopIdleRuntimes(), [], "not idle long enough");
  nowMs += 2_000;
  assert.deepEqual(await manager.stopIdleRuntimes(), ["acme"]);
  assert.equal(manager.stateOf("acme"), "stopped");
  assert.deepEqual(driver.stops, ["acme"]);
  await manager.ensureReady("acme");
  assert.equal(manager.stateOf("acme"), "ready");
  assert.equal(driver.starts.length, 2);
  await manager.shutdown();
  assert.equal(manager.stateOf("acme"), "stopped");
  await assert.rejects(manager.ensureReady("acme"), (error: unknown) => error instanceof ClawfleetError && error.code === "CF_SHUTTING_DOWN");
});

test("identity scopes: refreshed only on a ready trusted-proxy runtime, once after it becomes ready, and coalesced per tenant", async () => {
  let members = ["user:a"];
  const updates: Array<Record<string, string[]>> = [];
  let release: () => void = () => undefined;
  let gate: Promise<void> | null = null;
  const { manager, driver } = await setup({
    trustedProxyFor: async () => ({ userHeader: "x-clawfleet-user", allowedOrigins: [], identityScopes: Object.fromEntries(members.map((identity) => [identity, ["operator.read"]])) }),
  });
  Object.assign(driver, {
    async updateIdentityScopes(_tenantId: string, identityScopes: Record<string, string[]>) {
      if (gate) await gate;
      updates.push(identityScopes);
      return "written" as const;
    },
  });
  assert.equal(await manager.refreshIdentityScopes("acme"), "not-applicable", "nothing runs yet");
  await manager.ensureReady("acme");
  await waitFor(() => updates.length === 1);
  assert.deepEqual(Object.keys(updates[0] ?? {}), ["user:a"], "one refresh right after ready catches changes made during the boot");
  // Three changes while a refresh is held: one more run afterwards, with the latest state.
  gate = new Promise((resolve) => (release = resolve));
  members = ["user:a", "user:b"];
  const first = manager.refreshIdentityScopes("acme");
  members = ["user:a", "user:b", "user:c"];
  const second = manager.refreshIdentityScopes("acme");
  const third = manager.refreshIdentityScopes("acme");
  gate = null;
  release();
  assert.deepEqual(await Promise.all([first, second, third]), ["written", "written", "written"]);
  assert.equal(updates.length, 3, "the held run plus exactly one more");
  assert.deepEqual(Object.keys(updates[2] ?? {}), ["user:a", "user:b", "user:c"], "the last change landed");
  assert.deepEqual(manager.readyTenants(), ["acme"]);
  await manager.stop("acme");
  assert.equal(await manager.refreshIdentityScopes("acme"), "not-applicable", "a stopped runtime is left alone");
  assert.equal(updates.length, 3);
});
