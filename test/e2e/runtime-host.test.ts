/**
 * Privilege separation end to end: `clawfleet runtime-host` and `clawfleet serve` as two separate processes
 * (the two systemd units), serve configured with the host's socket. A tenant chats through a REAL sandboxed
 * OpenClaw that the host launched (its process tree hangs under the host, not under serve), the runtime is
 * stopped, then each side is killed in turn:
 * - the host dies → its sandboxes die with it (`--die-with-parent`) and serve reports the runtime gone; a
 *   restarted host serves the next request;
 * - serve dies → the host stops the runtimes serve launched; a restarted serve starts the tenant afresh, and
 *   exactly one runtime of that tenant exists.
 * `clawfleet doctor` reports the host, and a configured but dead socket.
 */
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { freePort, REPOSITORY_ROOT } from "../support/serve-process.js";

const CLI = path.join(REPOSITORY_ROOT, "bin", "clawfleet.js");
const PROVIDER_KEY = "sk-live-provider-key-RUNTIMEHOST0123";
const ADMIN_TOKEN = "admin-token-runtime-host-e2e-0123456789";
const ANSWER = "Answered by OpenClaw in a sandbox the runtime host launched.";

interface RuntimeView {
  state: string;
  pid: number | null;
  restarts: number;
  lastError: string | null;
  sandboxed: boolean;
}

/** A child process whose output goes to a log file in the data dir. */
interface Started {
  child: ChildProcess;
  exited: Promise<number | null>;
}

function startCli(args: string[], env: NodeJS.ProcessEnv, logFile: string): Started {
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited };
}

async function waitFor<T>(what: string, probe: () => Promise<T | null> | T | null, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Parent pids of `pid` up to (excluding) pid 1. */
function ancestorsOf(pid: number): number[] {
  const chain: number[] = [];
  let current = pid;
  for (;;) {
    let parent: number;
    try {
      parent = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${current}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      return chain;
    }
    if (parent <= 1) return chain;
    chain.push(parent);
    current = parent;
  }
}

/** Host pids whose command line is bubblewrap running a sandbox of this data dir's tenant `tenantId`. */
function sandboxesOf(dataDir: string, tenantId: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSafe("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv[0] === "/usr/bin/bwrap" && argv.includes(path.join(dataDir, "tenants", tenantId))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function readdirSafe(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return [];
  }
}

// The sandbox needs bubblewrap and root (per-tenant uids), as in process-driver.test.ts; .ci/run installs bubblewrap.
const skipReason = process.platform !== "linux" ? "linux only" : process.getuid?.() !== 0 ? "needs root (per-tenant uid)" : !existsSync("/usr/bin/bwrap") ? "bubblewrap not installed" : false;

describe("serve and runtime-host as two processes, with a real sandboxed OpenClaw", { skip: skipReason, timeout: 1_200_000 }, () => {
  let upstream: FakeUpstream;
  let dataDir: string;
  let socketPath: string;
  let port: number;
  let host: Started;
  let serve: Started;
  let acmeKey: string;

  const url = () => `http://127.0.0.1:${port}`;
  const hostEnv = () => ({ CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_RUNTIME_SANDBOX: "bwrap", CLAWFLEET_LOG_LEVEL: "info" });

  async function startHost(): Promise<Started> {
    const started = startCli(["runtime-host", "--socket", socketPath], hostEnv(), path.join(dataDir, "host.log"));
    await waitFor("the runtime host's socket", () => (existsSync(socketPath) ? true : started.child.exitCode !== null ? Promise.reject(new Error(`runtime-host exited ${started.child.exitCode}: ${readFileSync(path.join(dataDir, "host.log"), "utf8")}`)) : null), 30_000);
    return started;
  }

  async function startServe(): Promise<Started> {
    const started = startCli(
      ["serve"],
      {
        CLAWFLEET_DATA_DIR: dataDir,
        CLAWFLEET_PORT: String(port),
        CLAWFLEET_ADMIN_TOKEN: ADMIN_TOKEN,
        CLAWFLEET_RUNTIME_SANDBOX: "bwrap",
        CLAWFLEET_RUNTIME_LAUNCHER_SOCKET: socketPath,
        CLAWFLEET_RUNTIME_START_TIMEOUT_MS: "240000",
        OPENAI_API_KEY: PROVIDER_KEY,
        OPENAI_BASE_URL: upstream.url,
        CLAWFLEET_DEFAULT_MODEL: "gpt-4o-mini",
      },
      path.join(dataDir, "serve.log"),
    );
    await waitFor(
      "serve /readyz",
      async () => {
        if (started.child.exitCode !== null) throw new Error(`serve exited ${started.child.exitCode}: ${readFileSync(path.join(dataDir, "serve.log"), "utf8").slice(-2000)}`);
        return (await fetch(`${url()}/readyz`).catch(() => null))?.status === 200 ? true : null;
      },
      60_000,
    );
    return started;
  }

  const admin = async <T>(apiPath: string, init: RequestInit = {}): Promise<T> => {
    const response = await fetch(`${url()}/admin/v1${apiPath}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body ? { "content-type": "application/json" } : {}) } });
    assert.ok(response.ok, `${apiPath}: ${response.status} ${await response.clone().text()}`);
    return (await response.json()) as T;
  };
  const runtimeOf = async (tenantId: string) => (await admin<{ runtime: RuntimeView }>(`/tenants/${tenantId}`)).runtime;

  async function chat(content: string): Promise<string | null | undefined> {
    const client = new OpenAI({ apiKey: acmeKey, baseURL: `${url()}/t/acme/v1`, maxRetries: 0, timeout: 300_000 });
    const completion = await client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content }] });
    return completion.choices[0]?.message.content;
  }

  function doctor(env: NodeJS.ProcessEnv): Promise<{ checks: Array<{ id: string; status: string; detail: string; fix?: string }> }> {
    return new Promise((resolve, reject) => {
      // Exit code 1 is expected when any check fails (e.g. the dead socket): the JSON report is what matters.
      execFile(process.execPath, [CLI, "doctor", "--json"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_URL: url(), CLAWFLEET_ADMIN_TOKEN: ADMIN_TOKEN, ...env }, timeout: 60_000 }, (error, stdout) => {
        try {
          resolve(JSON.parse(stdout) as { checks: Array<{ id: string; status: string; detail: string; fix?: string }> });
        } catch {
          reject(error ?? new Error(`doctor printed no JSON: ${stdout}`));
        }
      });
    });
  }

  before(async () => {
    upstream = await startFakeUpstream();
    upstream.setDefault({ kind: "text", text: ANSWER });
    dataDir = mkdtempSync(path.join(tmpdir(), "cf-rh-"));
    socketPath = path.join(dataDir, "rt", "launcher.sock");
    port = await freePort();
    host = await startHost();
    serve = await startServe();
    const created = await admin<{ apiKey: string }>("/tenants", { method: "POST", body: JSON.stringify({ id: "acme" }) });
    acmeKey = created.apiKey;
  });

  after(async () => {
    for (const started of [serve, host]) {
      if (started && started.child.exitCode === null && started.child.signalCode === null) {
        started.child.kill("SIGTERM");
        await Promise.race([started.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
        started.child.kill("SIGKILL");
      }
    }
    for (const pid of sandboxesOf(dataDir, "acme")) process.kill(pid, "SIGKILL");
    await upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("clawfleet doctor asks the runtime host, and fails with a fix when the configured socket is dead", async () => {
    const answering = await doctor({ CLAWFLEET_RUNTIME_LAUNCHER_SOCKET: socketPath });
    const hostCheck = answering.checks.find((check) => check.id === "sandbox.runtime-host");
    assert.equal(hostCheck?.status, "pass", JSON.stringify(hostCheck));
    assert.equal(answering.checks.some((check) => check.id === "sandbox.bwrap"), false, "no local bubblewrap test when a runtime host is configured");
    const dead = await doctor({ CLAWFLEET_RUNTIME_LAUNCHER_SOCKET: path.join(dataDir, "rt", "nobody-here.sock") });
    const deadCheck = dead.checks.find((check) => check.id === "sandbox.runtime-host");
    assert.equal(deadCheck?.status, "fail");
    assert.match(deadCheck?.fix ?? "", /clawfleet-runtimes/);
  });

  test("a chat boots acme's runtime through the host: sandboxed, a descendant of the host and not of serve", async () => {
    assert.equal(await chat("hello"), ANSWER);
    const runtime = await runtimeOf("acme");
    assert.equal(runtime.state, "ready");
    assert.equal(runtime.sandboxed, true);
    assert.ok(runtime.pid);
    const ancestors = ancestorsOf(runtime.pid);
    assert.ok(ancestors.includes(host.child.pid as number), `the runtime (pid ${runtime.pid}) hangs under the runtime host ${host.child.pid}: ancestors ${ancestors.join(" ")}`);
    assert.equal(ancestors.includes(serve.child.pid as number), false, "serve spawned nothing");
    assert.match(readFileSync(`/proc/${ancestors[1]}/cmdline`, "utf8"), /^\/usr\/bin\/bwrap\0/, "its grandparent is bubblewrap");
    const environment = readFileSync(`/proc/${runtime.pid}/environ`);
    assert.equal(environment.includes(PROVIDER_KEY), false, "no provider key in the runtime's environment");
    const upstreamCalls = upstream.requests.filter((request) => request.path.endsWith("/chat/completions"));
    assert.ok(upstreamCalls.length >= 1);
    for (const call of upstreamCalls) assert.equal(call.headers.authorization, `Bearer ${PROVIDER_KEY}`);
  });

  test("stopping the runtime through the admin API stops the host's processes", async () => {
    const before = await runtimeOf("acme");
    const sandboxes = sandboxesOf(dataDir, "acme");
    assert.equal(sandboxes.length, 2, `bwrap and the sandbox's pid 1 run (${sandboxes.join(" ")})`);
    const stopped = await admin<RuntimeView>("/tenants/acme/runtime/stop", { method: "POST" });
    assert.equal(stopped.state, "stopped");
    await waitFor("the runtime's processes to be gone", () => (!alive(before.pid as number) && sandboxesOf(dataDir, "acme").length === 0 ? true : null), 15_000);
    // The host logs the exit once it has reaped the launcher, which can be a moment after its processes left /proc.
    const hostLog = () => readFileSync(path.join(dataDir, "host.log"), "utf8");
    await waitFor("the host to log the runtime's exit", () => (/"msg":"runtime exited"/.test(hostLog()) ? true : null), 5_000).catch(() => undefined);
    assert.match(hostLog(), /"code":0[^\n]*"msg":"runtime exited"/, "the launcher exited cleanly on SIGTERM");
  });

  test("the host dies: the runtime dies with it, serve reports it, and a restarted host serves the next chat", async () => {
    assert.equal(await chat("are you there?"), ANSWER);
    const before = await runtimeOf("acme");
    assert.equal(before.state, "ready");
    const sandboxes = sandboxesOf(dataDir, "acme");
    assert.equal(sandboxes.length, 2);
    host.child.kill("SIGKILL");
    await host.exited;
    await waitFor("the sandbox to die with the host", () => (!alive(before.pid as number) && sandboxes.every((pid) => !alive(pid)) ? true : null), 10_000);

    // serve notices at once (connection closed → exit), retries after its back-off, waits for the host
    // (10 s) and gives up: the runtime is failed, with the reason.
    const reported = await waitFor("serve to report the runtime failed", async () => {
      const runtime = await runtimeOf("acme");
      return runtime.state === "failed" ? runtime : null;
    }, 60_000);
    assert.match(reported.lastError ?? "", /runtime host at \S+ is unavailable/);
    assert.equal(reported.pid, null);
    assert.match(readFileSync(path.join(dataDir, "serve.log"), "utf8"), /lost the runtime host connection/);

    host = await startHost();
    assert.equal(await chat("back again?"), ANSWER);
    const after = await runtimeOf("acme");
    assert.equal(after.state, "ready");
    assert.ok(after.pid && after.pid !== before.pid);
    assert.ok(ancestorsOf(after.pid).includes(host.child.pid as number), "launched by the new host");
  });

  test("serve dies: the host stops the runtimes it launched for it; a restarted serve starts exactly one afresh", async () => {
    const before = await runtimeOf("acme");
    assert.ok(before.pid);
    const sandboxes = sandboxesOf(dataDir, "acme");
    serve.child.kill("SIGKILL");
    await serve.exited;
    // The host sends SIGTERM to the launcher (OpenClaw shuts down in 2-3 s), SIGKILL after runtime.stopGraceMs (10 s).
    await waitFor("the host to stop the orphaned runtime", () => (!alive(before.pid as number) && sandboxes.every((pid) => !alive(pid)) ? true : null), 30_000);
    assert.match(readFileSync(path.join(dataDir, "host.log"), "utf8"), /client connection closed: stopping the runtimes it launched/);
    assert.equal(host.child.exitCode, null, "the host itself keeps running");

    serve = await startServe();
    assert.equal((await runtimeOf("acme")).state, "stopped", "a fresh serve knows of no runtime");
    assert.equal(await chat("after the restart"), ANSWER);
    const after = await runtimeOf("acme");
    assert.equal(after.state, "ready");
    assert.equal(sandboxesOf(dataDir, "acme").length, 2, "exactly one sandbox (bwrap + its pid 1) for acme");
  });

  test("a clean shutdown of both: serve stops its runtime, the host exits 0 with nothing left", async () => {
    const { pid } = await runtimeOf("acme");
    serve.child.kill("SIGTERM");
    assert.equal(await serve.exited, 0);
    assert.equal(alive(pid as number), false);
    host.child.kill("SIGTERM");
    assert.equal(await host.exited, 0);
    assert.deepEqual(sandboxesOf(dataDir, "acme"), []);
    assert.equal(existsSync(socketPath), false, "the host removed its socket");
  });
});
