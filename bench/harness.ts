/**
 * Shared parts of the gateway benchmarks (`bench/gateway.ts`, `bench/gateway-ab.ts`): the fake upstream, a
 * `clawfleet serve` with a tenant and a model key, the load generator (`bench/load.mjs`, own process) and the
 * optional in-server probe (`bench/probe.mjs`, BENCH_PROBE=1).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = fileURLToPath(new URL("./", import.meta.url));
export const ROOT = path.dirname(BENCH_DIR.replace(/\/$/, ""));

/**
 * CPU pinning (`taskset`, util-linux), off by default; BENCH_PIN=1 turns it on (and fails on a machine with one
 * CPU). Pinned, the load generators, the fake upstream and the benchmark script run on CPU 0 and every measured
 * server (Clawfleet, the floor, nginx, Portkey) on CPU 1, each process with all its threads (affinity is set at
 * exec, so threads started later inherit it): a server then never waits while the generator or the upstream holds
 * the CPU it needs, but has one CPU where unpinned it may use two, and the generator and the upstream share one.
 * Measured on the AMD host (docs/benchmarks.md, "Session 9"): Clawfleet's added p99 no better than unpinned, its
 * maximum throughput lower, so the default stays unpinned.
 */
export const PIN = process.env.BENCH_PIN === "1";
type CpuRole = "load" | "server";
const CPU_OF_ROLE: Record<CpuRole, string> = { load: "0", server: "1" };

/**
 * When pinning (`PIN`), moves the calling benchmark script (it mostly sleeps between turns) onto the generator's CPU,
 * so it never takes the servers' CPU. @throws Error when `taskset` fails.
 */
export function pinBenchProcess(): void {
  if (!PIN) return;
  const pinned = spawnSync("taskset", ["-a", "-p", "-c", CPU_OF_ROLE.load, String(process.pid)], { stdio: ["ignore", "ignore", "pipe"] });
  if (pinned.status !== 0) throw new Error(`taskset failed: ${pinned.stderr.toString()}`);
}

/** One line for a benchmark's report saying where its processes ran. */
export function placementLine(): string {
  return PIN
    ? "CPUs: pinned (BENCH_PIN=1): load generator, fake upstream and this script on CPU 0, the measured server on CPU 1"
    : "CPUs: shared (not pinned; BENCH_PIN=1 pins the load to CPU 0 and the servers to CPU 1)";
}

/**
 * Spawns `command args`, when pinning (`PIN`) through `taskset -c` on the CPU of `role`.
 * @throws Error when BENCH_PIN=1 asks for pinning on a machine with fewer than 2 CPUs.
 */
function spawnOn(role: CpuRole, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  if (!PIN) return spawn(command, args, options);
  if (cpus().length < 2) throw new Error("BENCH_PIN=1 needs at least 2 CPUs");
  return spawn("taskset", ["-c", CPU_OF_ROLE[role], command, ...args], options);
}

export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  pid: number;
  /** Where the probe of this target's process writes (BENCH_PROBE=1), else undefined. */
  probeFile?: string;
}

export interface ProbeReport {
  eventLoopDelayMs: { p50: number; p99: number; p999: number; max: number; mean: number };
  gc: Array<{ at: number; ms: number; kind: string }>;
  sqlite: Array<{ at: number; ms: number; what: string; rows?: number; sql?: string }>;
  stalls: Array<{ at: number; ms: number }>;
  /** seq (x-bench-seq) → [arrival, finish], epoch ms, as seen inside the server. */
  requests: Record<string, [number, number]>;
  memory: NodeJS.MemoryUsage;
}

export interface LoadResult {
  /** Run-queue wait of the generator's main thread during the run, ms. */
  waitMs?: number;
  count: number;
  errors: number;
  non2xx: number;
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  overhead?: { p50: number; p90: number; p99: number; max: number };
  slow?: Array<{ seq: number; at: number; ms: number; overheadMs: number }>;
}

export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${text.slice(-500)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
  });
}

export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** CPU time of a process (all threads: utime + stime from /proc/<pid>/stat, 10 ms ticks), in ms. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

export function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
}

/** Runs `bench/load.mjs` in a child process against `target`. */
export async function load(target: Target, stream: boolean, options: { rate?: number; concurrency: number; seconds: number; detail?: boolean | "all" }): Promise<LoadResult> {
  const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello." }], ...(stream ? { stream: true } : {}) });
  const argument = JSON.stringify({
    url: target.url,
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", ...target.headers },
    body,
    durationSeconds: options.seconds,
    concurrency: options.concurrency,
    ...(options.rate ? { rate: options.rate } : {}),
    ...(options.detail ? { detail: options.detail } : {}),
  });
  return JSON.parse(await runGenerator("load.mjs", argument)) as LoadResult;
}

/**
 * Runs one of the load generators (`bench/<script>`, its own node process) with its JSON argument and returns what
 * it printed on stdout. Asynchronous, so the measuring script's own timers keep running (no spawnSync).
 * @throws Error with the generator's stderr when it exits non-zero.
 */
async function runGenerator(script: string, argument: string): Promise<string> {
  const child = spawnOn("load", process.execPath, [path.join(BENCH_DIR, script), argument], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`load generator ${script} failed: ${stderr}`);
  return stdout.trim();
}

/** One target's figures from an interleaved run (`bench/interleave.mjs`), latencies in ms. */
export interface InterleavedResult {
  count: number;
  errors: number;
  non2xx: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** p99 of the even and of the odd cycles: how far the pooled p99 can be trusted (null: no such cycle was run). */
  halves: [number | null, number | null];
  lagP50: number;
  lagP99: number;
  /** How long, in all, this target's unanswered backlog held the next target's turn back (ms; 0 when it kept up). */
  heldBackMs: number;
  overhead?: { p50: number; p90: number; p99: number; max: number };
}

/**
 * Runs `bench/interleave.mjs` (one generator process; the targets take turns in `slotMs` slots at `rate`
 * requests/s, in a different order every cycle (a balanced Latin square); `warmupCycles` and the first `settleMs` of each slot not counted)
 * and returns each target's pooled figures.
 */
export async function interleave(
  targets: readonly Target[],
  stream: boolean,
  options: { rate: number; slotMs: number; settleMs?: number; cycles: number; warmupCycles: number; connections: number },
): Promise<Record<string, InterleavedResult>> {
  const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello." }], ...(stream ? { stream: true } : {}) });
  const argument = JSON.stringify({
    targets: targets.map((target) => ({ name: target.name, url: target.url, headers: { "content-type": "application/json", ...target.headers } })),
    path: "/v1/chat/completions",
    body,
    ...options,
  });
  return (JSON.parse(await runGenerator("interleave.mjs", argument)) as { targets: Record<string, InterleavedResult> }).targets;
}

/** Starts `bench/fast-upstream.mjs`; returns its base URL. */
export async function startUpstream(children: ChildProcess[]): Promise<{ url: string; pid: number }> {
  const upstream = spawnOn("load", process.execPath, [path.join(BENCH_DIR, "fast-upstream.mjs"), "0"], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(upstream);
  const port = Number((await waitForLine(upstream, /PORT (\d+)/, 10_000))[1]);
  return { url: `http://127.0.0.1:${port}`, pid: upstream.pid ?? 0 };
}

/**
 * The policy chain the benchmark turns on in Clawfleet besides what is always on (virtual keys, request hygiene,
 * safety check, tool policy, routing with retries and circuit breaker, usage + cost records, metrics): a rate
 * limit per key and per tenant (requests and estimated tokens) and a monthly budget per tenant, all far above what
 * the benchmark sends, so every request goes through admission and is charged but none is refused.
 */
export const BENCH_POLICY_CONFIG = {
  limits: [
    { scope: "key", requestsPerMinute: 100_000_000 },
    { scope: "tenant", requestsPerMinute: 100_000_000, tokensPerMinute: 1_000_000_000_000 },
  ],
  budgets: { rules: [{ scope: "tenant", period: "month", limitUsd: 1_000_000_000 }] },
};

/**
 * The node flags a build's `clawfleet` command starts with, read from its shebang (`bin/clawfleet.js`, first line
 * `#!/usr/bin/env -S node <flags>`), for a server that has to run through node with extra flags (probe, perf).
 */
export function shebangNodeArgs(buildRoot: string): string[] {
  const first = readFileSync(path.join(buildRoot, "bin", "clawfleet.js"), "utf8").split("\n", 1)[0] ?? "";
  return first.split(/\s+/).filter((word) => word.startsWith("--"));
}

/**
 * Starts `clawfleet serve` from `buildRoot` (a checkout with `dist/` built) on a free port next to the upstream,
 * creates tenant `bench` with a model key. With `probe`, the server runs with bench/probe.mjs preloaded.
 */
export async function startClawfleet(
  children: ChildProcess[],
  options: { name: string; buildRoot: string; port: number; upstreamUrl: string; probe: boolean; nodeArgs?: string[]; policies?: boolean },
): Promise<Target & { dataDir: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "cfg-"));
  const configFile = path.join(dataDir, "bench.json");
  writeFileSync(configFile, JSON.stringify(options.policies === false ? {} : BENCH_POLICY_CONFIG));
  const probeFile = options.probe ? path.join(dataDir, "probe.jsonl") : undefined;
  const nodeArgs = [...(options.nodeArgs ?? []), ...(options.probe ? ["--import", path.join(BENCH_DIR, "probe.mjs")] : [])];
  // As users start it: the `clawfleet` command itself (its shebang carries the node flags of the build); with
  // node flags of its own (A/B of V8 settings, the probe) through node, with only those flags.
  const command = path.join(options.buildRoot, "bin", "clawfleet.js");
  const serveArgs = ["serve", "--port", String(options.port), "--config", configFile];
  const clawfleet = spawnOn("server", nodeArgs.length > 0 ? process.execPath : command, nodeArgs.length > 0 ? [...nodeArgs, command, ...serveArgs] : serveArgs, {
    cwd: options.buildRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CLAWFLEET_DATA_DIR: dataDir,
      CLAWFLEET_LOG_LEVEL: "warn",
      OPENAI_API_KEY: "sk-bench",
      OPENAI_BASE_URL: `${options.upstreamUrl}/v1`,
      CLAWFLEET_DEFAULT_MODEL: "gpt-4o-mini",
      ...(probeFile ? { BENCH_PROBE_OUT: probeFile } : {}),
      ...(probeFile && process.env.BENCH_PROBE_HEAP ? { BENCH_PROBE_HEAP: `${process.env.BENCH_PROBE_HEAP}/${options.name}` } : {}),
      ...(process.env.BENCH_PROBE_HEAP_PROMOTED ? { BENCH_PROBE_HEAP_PROMOTED: process.env.BENCH_PROBE_HEAP_PROMOTED } : {}),
      ...(process.env.BENCH_PROBE_LIGHT ? { BENCH_PROBE_LIGHT: process.env.BENCH_PROBE_LIGHT } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(clawfleet);
  // BENCH_SERVER_STDOUT=<dir>: the server's stdout (e.g. --trace-gc output) is appended to <dir>/<name>.log.
  if (process.env.BENCH_SERVER_STDOUT) {
    const logFile = path.join(process.env.BENCH_SERVER_STDOUT, `${options.name}.log`);
    clawfleet.stdout?.on("data", (chunk: Buffer) => appendFileSync(logFile, chunk));
  }
  clawfleet.stderr?.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    if (/error|ERR/i.test(text)) process.stderr.write(`[${options.name}] ${text}`);
  });
  await waitForLine(clawfleet, /listening on/, 30_000);
  const url = `http://127.0.0.1:${options.port}`;
  const adminToken = readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
  const created = await fetch(`${url}/admin/v1/tenants`, { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ id: "bench" }) });
  if (!created.ok) throw new Error(`tenant create failed: ${created.status} ${await created.text()}`);
  const keyResponse = await fetch(`${url}/admin/v1/tenants/bench/keys`, { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ scopes: ["model"] }) });
  const { key } = (await keyResponse.json()) as { key: string };
  return { name: options.name, url, headers: { authorization: `Bearer ${key}` }, pid: clawfleet.pid ?? 0, dataDir, ...(probeFile ? { probeFile } : {}) };
}

/**
 * Starts `bench/floor-proxy.mjs` (the least a Node.js gateway can do) in front of the upstream, or another proxy
 * script of `bench/` taking the same arguments (upstream URL, port; prints `PORT <n>`), e.g. the Fastify variant.
 */
export async function startFloorProxy(children: ChildProcess[], upstreamUrl: string, proxyScript = { file: "floor-proxy.mjs", name: "floor" }): Promise<Target> {
  const proxy = spawnOn("server", process.execPath, [path.join(BENCH_DIR, proxyScript.file), upstreamUrl, "0"], { stdio: ["ignore", "pipe", "inherit"], cwd: ROOT });
  children.push(proxy);
  const port = Number((await waitForLine(proxy, /PORT (\d+)/, 10_000))[1]);
  return { name: proxyScript.name, url: `http://127.0.0.1:${port}`, headers: { authorization: "Bearer sk-bench" }, pid: proxy.pid ?? 0 };
}

/**
 * Starts nginx (Debian's `nginx-light`, when installed) as a plain reverse proxy in front of the upstream: one
 * worker, keep-alive both ways, no buffering. A proxy written in C on the same machine: what this VM charges for
 * one more process and two more loopback hops when the proxy itself costs almost no CPU. Returns null (and says
 * so) when nginx is not installed. Its prefix, config and logs live in a temporary directory.
 */
export async function startNginx(children: ChildProcess[], dataDirs: string[], port: number, upstreamUrl: string): Promise<Target | null> {
  const binary = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((candidate) => existsSync(candidate));
  if (!binary) {
    process.stderr.write("nginx reference skipped: nginx is not installed (apt-get install nginx-light)\n");
    return null;
  }
  const prefix = mkdtempSync(path.join(tmpdir(), "cfg-nginx-"));
  dataDirs.push(prefix);
  const upstream = new URL(upstreamUrl);
  writeFileSync(
    path.join(prefix, "nginx.conf"),
    [
      "worker_processes 1;",
      `pid ${prefix}/nginx.pid;`,
      `error_log ${prefix}/error.log warn;`,
      "events { worker_connections 1024; }",
      "http {",
      "  access_log off;",
      `  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;`,
      `  upstream fake { server ${upstream.hostname}:${upstream.port}; keepalive 128; }`,
      `  server { listen 127.0.0.1:${port}; keepalive_timeout 60s; keepalive_requests 1000000;`,
      "    location / { proxy_pass http://fake; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering off; } }",
      "}",
    ].join("\n"),
  );
  const nginx = spawnOn("server", binary, ["-p", prefix, "-c", path.join(prefix, "nginx.conf"), "-g", "daemon off; master_process off;"], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(nginx);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url, 10_000);
  return { name: "nginx", url, headers: { authorization: "Bearer sk-bench" }, pid: nginx.pid ?? 0 };
}

/** Installs Portkey's gateway into bench/portkey if missing and starts it; returns its target. */
export async function startPortkey(children: ChildProcess[], port: number, upstreamUrl: string): Promise<Target> {
  const portkeyDirectory = path.join(BENCH_DIR, "portkey");
  if (!existsSync(path.join(portkeyDirectory, "node_modules", "@portkey-ai", "gateway"))) {
    process.stderr.write("installing Portkey's gateway into bench/portkey …\n");
    const installed = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: portkeyDirectory, stdio: "inherit" });
    if (installed.status !== 0) throw new Error("npm ci in bench/portkey failed");
  }
  const portkey = spawnOn("server", process.execPath, ["--import", path.join(portkeyDirectory, "bind-loopback.mjs"), path.join(portkeyDirectory, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js"), `--port=${port}`, "--headless"], {
    cwd: portkeyDirectory,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(portkey);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url, 30_000);
  return { name: "portkey", url, headers: { authorization: "Bearer sk-bench", "x-portkey-provider": "openai", "x-portkey-custom-host": `${upstreamUrl}/v1` }, pid: portkey.pid ?? 0 };
}

/** Resets the probe of `target` (SIGUSR2 dumps and clears); returns the dump, or null without a probe. */
export async function probeDump(target: Target): Promise<ProbeReport | null> {
  if (!target.probeFile) return null;
  const before = existsSync(target.probeFile) ? readFileSync(target.probeFile, "utf8").split("\n").filter(Boolean).length : 0;
  process.kill(target.pid, "SIGUSR2");
  for (let waited = 0; waited < 5_000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = existsSync(target.probeFile) ? readFileSync(target.probeFile, "utf8").split("\n").filter(Boolean) : [];
    if (lines.length > before) return JSON.parse(lines[lines.length - 1] as string) as ProbeReport;
  }
  throw new Error(`probe of ${target.name} did not answer`);
}

/** Stops the children and removes the data directories. */
export async function stopAll(children: ChildProcess[], dataDirs: string[]): Promise<void> {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  for (const directory of dataDirs) rmSync(directory, { recursive: true, force: true });
}

/** One paced run of one target in one round. */
export interface RoundRow {
  round: number;
  mode: "json" | "stream";
  target: string;
  result: LoadResult;
}

/**
 * Measures `targets` ONE AT A TIME at a fixed rate, `rounds` times, the order rotating every round so no target
 * always runs right after another; each paced run follows a warm-up at the same rate on the same connections
 * count. `around` runs around each paced run (the A/B script reads CPU time and the probe there) and may return
 * extra fields for the row.
 */
export async function measureRounds<Extra extends object>(
  targets: readonly Target[],
  options: { rounds: number; modes: ReadonlyArray<"json" | "stream">; rate: number; seconds: number; warmupSeconds: number; connections: number; detail?: boolean },
  around: (target: Target, run: () => Promise<LoadResult>) => Promise<Extra>,
  onRow: (row: RoundRow & Extra) => void,
): Promise<Array<RoundRow & Extra>> {
  const rows: Array<RoundRow & Extra> = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const order = targets.map((_, index) => targets[(index + round) % targets.length] as Target);
    for (const mode of options.modes) {
      for (const target of order) {
        await load(target, mode === "stream", { rate: options.rate, concurrency: options.connections, seconds: options.warmupSeconds });
        let result: LoadResult | null = null;
        const extra = await around(target, async () => (result = await load(target, mode === "stream", { rate: options.rate, concurrency: options.connections, seconds: options.seconds, ...(options.detail ? { detail: true } : {}) })));
        const row = { round, mode, target: target.name, result: result as unknown as LoadResult, ...extra };
        rows.push(row);
        onRow(row);
      }
    }
  }
  return rows;
}

/** Per round, `key` of `target` minus `key` of `direct` in the same round and mode. */
export function addedByRound(rows: readonly RoundRow[], mode: string, target: string, key: "p50" | "p99"): number[] {
  return rows
    .filter((row) => row.mode === mode && row.target === target)
    .map((row) => row.result[key] - (rows.find((other) => other.mode === mode && other.target === "direct" && other.round === row.round)?.result[key] ?? Number.NaN));
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/**
 * Runs `work` (a load) while `strace` with `straceArgs` is attached to process `pid`: attaches, waits 1 s for it to
 * settle, runs the load, then detaches with SIGINT (strace then writes what `-o` asked for) and waits for it to end.
 */
export async function underStrace<T>(pid: number, straceArgs: readonly string[], work: () => Promise<T>): Promise<T> {
  const strace = spawn("strace", [...straceArgs, "-p", String(pid)], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => strace.on("close", () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  try {
    return await work();
  } finally {
    strace.kill("SIGINT");
    await exited;
  }
}
