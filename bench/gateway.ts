/**
 * Model gateway benchmark (`npm run bench:gateway`). One run, three targets side by side, JSON and streaming:
 *   direct   — the load generator straight to a fast local fake upstream (the baseline),
 *   clawfleet — `clawfleet serve` (virtual-key auth, routing, translation layer, usage + cost records, metrics),
 *   portkey  — Portkey's open-source gateway 1.15.2 (@hono/node-server 1.13.5), routed with
 *              `x-portkey-provider: openai` and `x-portkey-custom-host`.
 * For each: latency at a fixed 500 requests/s (open loop, p50/p99 in µs precision; "added" = minus the
 * direct figure), the maximum requests/s at a fixed concurrency (closed loop), and the server's RSS afterwards.
 * The load generator (`bench/load.mjs`) runs in its own process. Bounded: fixed durations and rates.
 * Portkey is installed into bench/portkey on first run (`npm ci --prefix bench/portkey`).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const RATE_PER_SECOND = Number(process.env.BENCH_RATE ?? 500);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  pid: number;
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
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

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
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

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
}

interface LoadResult {
  count: number;
  errors: number;
  non2xx: number;
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Runs `bench/load.mjs` in a child process against `target`. */
async function load(target: Target, stream: boolean, options: { rate?: number; concurrency: number; seconds?: number }): Promise<LoadResult> {
  const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello." }], ...(stream ? { stream: true } : {}) });
  const argument = JSON.stringify({
    url: target.url,
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", ...target.headers },
    body,
    durationSeconds: options.seconds ?? DURATION_SECONDS,
    concurrency: options.concurrency,
    ...(options.rate ? { rate: options.rate } : {}),
  });
  const result = spawnSync(process.execPath, [path.join(ROOT, "bench", "load.mjs"), argument], { encoding: "utf8", timeout: 120_000 });
  if (result.status !== 0) throw new Error(`load generator failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim()) as LoadResult;
}

const children: ChildProcess[] = [];
const dataDir = mkdtempSync(path.join(tmpdir(), "cfg-"));
try {
  const upstream = spawn(process.execPath, [path.join(ROOT, "bench", "fast-upstream.mjs"), "0"], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(upstream);
  const upstreamPort = Number((await waitForLine(upstream, /PORT (\d+)/, 10_000))[1]);
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;

  const clawfleetPort = upstreamPort + 1;
  const clawfleet = spawn(process.execPath, [path.join(ROOT, "bin", "clawfleet.js"), "serve", "--port", String(clawfleetPort)], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_LOG_LEVEL: "warn", OPENAI_API_KEY: "sk-bench", OPENAI_BASE_URL: `${upstreamUrl}/v1`, CLAWFLEET_DEFAULT_MODEL: "gpt-4o-mini" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(clawfleet);
  await waitForLine(clawfleet, /listening on/, 30_000);
  const clawfleetUrl = `http://127.0.0.1:${clawfleetPort}`;
  const adminToken = readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
  await fetch(`${clawfleetUrl}/admin/v1/tenants`, { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ id: "bench" }) });
  const keyResponse = await fetch(`${clawfleetUrl}/admin/v1/tenants/bench/keys`, { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ scopes: ["model"] }) });
  const { key } = (await keyResponse.json()) as { key: string };

  const portkeyDirectory = path.join(ROOT, "bench", "portkey");
  if (!existsSync(path.join(portkeyDirectory, "node_modules", "@portkey-ai", "gateway"))) {
    process.stderr.write("installing Portkey's gateway into bench/portkey …\n");
    const installed = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: portkeyDirectory, stdio: "inherit" });
    if (installed.status !== 0) throw new Error("npm ci in bench/portkey failed");
  }
  const portkeyPort = upstreamPort + 2;
  const portkey = spawn(process.execPath, ["--import", path.join(portkeyDirectory, "bind-loopback.mjs"), path.join(portkeyDirectory, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js"), `--port=${portkeyPort}`, "--headless"], {
    cwd: portkeyDirectory,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(portkey);
  const portkeyUrl = `http://127.0.0.1:${portkeyPort}`;
  await waitForHttp(portkeyUrl, 30_000);

  const targets: Target[] = [
    { name: "direct", url: upstreamUrl, headers: { authorization: "Bearer sk-bench" }, pid: upstream.pid ?? 0 },
    { name: "clawfleet", url: clawfleetUrl, headers: { authorization: `Bearer ${key}` }, pid: clawfleet.pid ?? 0 },
    { name: "portkey", url: portkeyUrl, headers: { authorization: "Bearer sk-bench", "x-portkey-provider": "openai", "x-portkey-custom-host": `${upstreamUrl}/v1` }, pid: portkey.pid ?? 0 },
  ];

  const rows: string[] = [];
  for (const stream of [false, true]) {
    const mode = stream ? "stream" : "json";
    const baseline: { p50: number; p99: number } = { p50: 0, p99: 0 };
    for (const target of targets) {
      // Warm up connection pools and JIT before measuring.
      await load(target, stream, { concurrency: 8, rate: 200, seconds: 3 });
      const paced = await load(target, stream, { rate: RATE_PER_SECOND, concurrency: CONNECTIONS });
      const saturated = await load(target, stream, { concurrency: CONNECTIONS });
      const errors = paced.errors + paced.non2xx + saturated.errors + saturated.non2xx;
      if (target.name === "direct") {
        baseline.p50 = paced.p50;
        baseline.p99 = paced.p99;
      }
      rows.push(
        [
          mode.padEnd(6),
          target.name.padEnd(10),
          `p50 ${paced.p50.toFixed(3).padStart(7)} ms`,
          `p99 ${paced.p99.toFixed(3).padStart(7)} ms`,
          target.name === "direct" ? "added            —            " : `added p50 ${(paced.p50 - baseline.p50).toFixed(3).padStart(6)} p99 ${(paced.p99 - baseline.p99).toFixed(3).padStart(7)} ms`,
          `at ${paced.requestsPerSecond.toFixed(0)} req/s`,
          `max ${saturated.requestsPerSecond.toFixed(0).padStart(6)} req/s`,
          `RSS ${rssMiB(target.pid).toFixed(0).padStart(4)} MiB`,
          errors > 0 ? `ERRORS ${errors}` : "",
        ].join("  "),
      );
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    }
  }
  process.stdout.write(
    [
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
      `load: bench/load.mjs (undici, own process), ${CONNECTIONS} connections, ${DURATION_SECONDS} s per run; open loop at ${RATE_PER_SECOND} req/s, then closed loop for the maximum`,
      ...rows,
      "",
    ].join("\n"),
  );
} finally {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  rmSync(dataDir, { recursive: true, force: true });
}
