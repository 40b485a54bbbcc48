/**
 * Spine figures, side by side with their baselines in one run (`npm run bench:spine`):
 * - cold start: first request through the ingress → first byte of the answer (runtime booted on demand);
 * - warm chat latency through the ingress vs the same request sent straight to the runtime's socket;
 * - proxy overhead on a trivial request (`/readyz`) through the ingress vs straight to the runtime;
 * - idle RSS of one runtime (every process in its sandbox).
 * The upstream model is a local fake answering at once. Bounded: a fixed number of requests, one runtime.
 */
import { readFileSync, readdirSync, rmSync, mkdtempSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { Client } from "undici";
import { startClawfleet } from "../src/app.js";
import { loadConfig } from "../src/config/load.js";
import { createLogger } from "../src/observability/logger.js";
import { startFakeUpstream } from "../test/support/fake-upstream.js";

const CHAT_REQUESTS = Number(process.env.BENCH_CHAT_REQUESTS ?? 30);
const TRIVIAL_REQUESTS = Number(process.env.BENCH_TRIVIAL_REQUESTS ?? 500);

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

function summary(values: number[]): string {
  return `p50 ${percentile(values, 0.5).toFixed(2)} ms  p99 ${percentile(values, 0.99).toFixed(2)} ms  (n=${values.length})`;
}

/** Sum of VmRSS (KiB) of `pid` and all its descendants. */
function treeRssKiB(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const parent = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // process ended
    }
  }
  let total = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop() as number;
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${current}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // ended
    }
    pending.push(...(children.get(current) ?? []));
  }
  return total;
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const upstream = await startFakeUpstream();
upstream.setDefault({ kind: "text", text: "benchmark answer" });
const dataDir = mkdtempSync(path.join(tmpdir(), "cfb-"));
const env = { CLAWFLEET_PORT: "0", CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_LOG_LEVEL: "warn", OPENAI_API_KEY: "sk-bench", OPENAI_BASE_URL: upstream.url, CLAWFLEET_RUNTIME_START_TIMEOUT_MS: "300000" };
const { config } = loadConfig({ env, cwd: dataDir });
const platform = await startClawfleet(config, createLogger("warn", process.stderr), env);
try {
  const created = await fetch(`${platform.url}/admin/v1/tenants`, { method: "POST", headers: { authorization: `Bearer ${platform.adminToken.token}`, "content-type": "application/json" }, body: JSON.stringify({ id: "bench" }) });
  const { apiKey } = (await created.json()) as { apiKey: string };
  const chatBody = JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }], stream: true });
  const ingress = new Client(platform.url);

  const coldStarted = process.hrtime.bigint();
  const cold = await ingress.request({ method: "POST", path: "/t/bench/v1/chat/completions", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: chatBody });
  for await (const chunk of cold.body) {
    void chunk;
    break;
  }
  const coldMs = Number(process.hrtime.bigint() - coldStarted) / 1e6;
  await cold.body.dump();

  const connection = await platform.runtimes.ensureReady("bench");
  const direct = connection.endpoint.kind === "unix" ? new Client("http://localhost", { socketPath: connection.endpoint.socketPath }) : new Client(`http://${connection.endpoint.host}:${connection.endpoint.port}`);
  const jsonBody = JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] });
  const viaIngress: number[] = [];
  const straight: number[] = [];
  // Warm-up: OpenClaw's first chats after boot are slower (lazy loading); they are not what is measured here.
  for (let index = 0; index < 3; index += 1) {
    await (await ingress.request({ method: "POST", path: "/t/bench/v1/chat/completions", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: jsonBody })).body.dump();
  }
  for (let index = 0; index < CHAT_REQUESTS; index += 1) {
    straight.push(await timed(async () => (await direct.request({ method: "POST", path: "/v1/chat/completions", headers: { authorization: `Bearer ${connection.gatewayToken}`, "content-type": "application/json" }, body: jsonBody })).body.dump()));
    viaIngress.push(await timed(async () => (await ingress.request({ method: "POST", path: "/t/bench/v1/chat/completions", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: jsonBody })).body.dump()));
  }
  const trivialIngress: number[] = [];
  const trivialDirect: number[] = [];
  for (let index = 0; index < TRIVIAL_REQUESTS; index += 1) {
    trivialDirect.push(await timed(async () => (await direct.request({ method: "GET", path: "/readyz" })).body.dump()));
    trivialIngress.push(await timed(async () => (await ingress.request({ method: "GET", path: "/t/bench/readyz", headers: { authorization: `Bearer ${apiKey}` } })).body.dump()));
  }
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const status = await platform.runtimes.status("bench");
  const rssMiB = status.pid ? treeRssKiB(status.pid) / 1024 : Number.NaN;

  const cpuModel = cpus()[0]?.model ?? "unknown CPU";
  process.stdout.write(
    [
      `machine: ${cpus().length} × ${cpuModel}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, sandboxed runtime: ${platform.deps.driver.sandboxed}`,
      `cold start (first request → first byte, runtime booted on demand): ${coldMs.toFixed(0)} ms`,
      `warm chat, straight to the runtime socket (baseline): ${summary(straight)}`,
      `warm chat, through the ingress:                      ${summary(viaIngress)}`,
      `  added by the ingress: p50 ${(percentile(viaIngress, 0.5) - percentile(straight, 0.5)).toFixed(2)} ms`,
      `/readyz straight to the runtime socket (baseline):    ${summary(trivialDirect)}`,
      `/readyz through the ingress (auth + proxy):           ${summary(trivialIngress)}`,
      `  added by the ingress: p50 ${(percentile(trivialIngress, 0.5) - percentile(trivialDirect, 0.5)).toFixed(2)} ms, p99 ${(percentile(trivialIngress, 0.99) - percentile(trivialDirect, 0.99)).toFixed(2)} ms`,
      `idle RSS of one runtime (all processes in its sandbox, 10 s after the last request): ${rssMiB.toFixed(0)} MiB`,
      "",
    ].join("\n"),
  );
  await direct.close();
  await ingress.close();
} finally {
  await platform.close();
  await upstream.close();
  rmSync(dataDir, { recursive: true, force: true });
}
