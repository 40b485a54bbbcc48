/**
 * Model gateway benchmark (`npm run bench:gateway`). One run, three targets, JSON and streaming:
 *   direct    — the load generator straight to a fast local fake upstream (the baseline),
 *   clawfleet — `clawfleet serve` with the full policy chain on: virtual-key auth, request hygiene, safety check,
 *               tool policy (passthrough guard), rate limits per key and tenant and a tenant budget (harness.ts
 *               BENCH_POLICY_CONFIG: far above the load, so every call is charged and none refused), routing
 *               with retries and circuit breaker, pass-through, usage + cost records, metrics,
 *   portkey   — Portkey's open-source gateway 1.15.2 (@hono/node-server 1.13.5), routed with
 *               `x-portkey-provider: openai` and `x-portkey-custom-host`.
 * The targets are measured one at a time (the others idle), each after a warm-up (3 s at 200 requests/s).
 * For each: latency at a fixed 500 requests/s (open loop, latency from the scheduled start; p50/p99; "added" =
 * the target's percentile minus the direct percentile of the same mode in the same run), the distribution of
 * Clawfleet's own `x-clawfleet-overhead-ms` header (time inside the gateway, upstream excluded), the load
 * generator's own lateness (part of every target's latency), the maximum requests/s at a fixed concurrency
 * (closed loop), and the server's RSS afterwards. The load generator (`bench/load.mjs`) runs in its own process.
 * Bounded: fixed durations and rates. Portkey is installed into bench/portkey on first run.
 * For before/after comparisons on a noisy machine use `bench/gateway-ab.ts` (several rounds, medians).
 */
import type { ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { load, ROOT, rssMiB, startClawfleet, startPortkey, startUpstream, stopAll, type Target } from "./harness.js";

const RATE_PER_SECOND = Number(process.env.BENCH_RATE ?? 500);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

const children: ChildProcess[] = [];
const dataDirs: string[] = [];
try {
  const upstream = await startUpstream(children);
  const port = Number(new URL(upstream.url).port);
  const clawfleet = await startClawfleet(children, { name: "clawfleet", buildRoot: ROOT, port: port + 1, upstreamUrl: upstream.url, probe: false });
  dataDirs.push(clawfleet.dataDir);
  const portkey = await startPortkey(children, port + 2, upstream.url);
  const targets: Target[] = [{ name: "direct", url: upstream.url, headers: { authorization: "Bearer sk-bench" }, pid: upstream.pid }, clawfleet, portkey];

  const rows: string[] = [];
  for (const stream of [false, true]) {
    const mode = stream ? "stream" : "json";
    const baseline: { p50: number; p99: number } = { p50: 0, p99: 0 };
    for (const target of targets) {
      await load(target, stream, { concurrency: 8, rate: 200, seconds: 3 });
      const paced = await load(target, stream, { rate: RATE_PER_SECOND, concurrency: CONNECTIONS, seconds: DURATION_SECONDS });
      const saturated = await load(target, stream, { concurrency: CONNECTIONS, seconds: DURATION_SECONDS });
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
          paced.overhead ? `overhead header p50 ${paced.overhead.p50.toFixed(3)} p99 ${paced.overhead.p99.toFixed(3)} ms` : "",
          `generator lag p99 ${paced.lagP99.toFixed(3)} ms`,
          errors > 0 ? `ERRORS ${errors}` : "",
        ].join("  "),
      );
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    }
  }
  process.stdout.write(
    [
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
      `load: bench/load.mjs (undici, own process), ${CONNECTIONS} connections, ${DURATION_SECONDS} s per run, one target at a time; open loop at ${RATE_PER_SECOND} req/s, then closed loop for the maximum`,
      ...rows,
      "",
    ].join("\n"),
  );
} finally {
  await stopAll(children, dataDirs);
}
