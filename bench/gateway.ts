/**
 * Model gateway benchmark (`npm run bench:gateway`). Four targets, JSON and streaming:
 *   direct    — the load generator straight to a fast local fake upstream (the baseline),
 *   floor     — the least a Node.js gateway can do (`bench/floor-proxy.mjs`: node:http in, an undici pool out, no
 *               logic): what this machine charges for one more Node.js process and two more loopback hops,
 *   clawfleet — `clawfleet serve` with the full policy chain on: virtual-key auth, request hygiene, safety check,
 *               tool policy (passthrough guard), rate limits per key and tenant and a tenant budget (harness.ts
 *               BENCH_POLICY_CONFIG: far above the load, so every call is charged and none refused), routing
 *               with retries and circuit breaker, pass-through, usage + cost records, metrics,
 *   portkey   — Portkey's open-source gateway 1.15.2 (@hono/node-server 1.13.5), routed with
 *               `x-portkey-provider: openai` and `x-portkey-custom-host`,
 *   nginx     — when Debian's nginx is installed (`apt-get install nginx-light`): a reverse proxy written in C,
 *               one worker, keep-alive both ways; what this machine charges for a proxy that costs almost no
 *               CPU (a reference, like the floor: neither is a gateway).
 *
 * Latency (per mode): ONE load generator (`bench/interleave.mjs`, its own process) gives the targets turns of
 * BENCH_SLOT_MS (default 5000) at a fixed BENCH_RATE (default 500) requests/s, open loop (latency from the
 * scheduled start, so queueing cannot hide), in a different order every cycle (a balanced Latin square: every target
 * follows every other about equally often), so every target is measured over the
 * same stretch of time and a slow spell of this shared VM lands on all of them alike; a target that cannot keep up
 * (Portkey, on a slow host) holds the next turn back until its backlog is answered, so its overload is not charged
 * to whoever comes next (the line says how long). The first BENCH_SETTLE_MS (default 1000) of each turn are sent
 * but not counted: a server that sat idle during the others' turns starts with cold caches and, past its
 * keep-alive timeout, new connections, which a server under steady load does not have. BENCH_WARMUP_CYCLES (default 4, i.e. 20 s of traffic per target; JSON and SSE each) are not counted —
 * V8 compiles the gateways' hot code on its helper threads for the first ~20 s, and a gateway is measured as it
 * runs for hours, warm —, then BENCH_CYCLES (default 8) are: 16,000 requests per target and mode, percentiles
 * pooled over all of them. "Added" is the target's percentile minus the direct percentile of the same run (p99
 * minus p99, not the p99 of differences). Printed beside: the p99 of the even and of the odd cycles (how far the
 * pooled p99 can be trusted), p99.9, Clawfleet's own `x-clawfleet-overhead-ms` header (time inside the gateway,
 * upstream excluded), the generator's own lateness, and each server's CPU time per request (all its threads, from
 * /proc, over the measured cycles; a server idles outside its turns). Then the maximum requests/s at
 * BENCH_CONNECTIONS (default 32) connections (closed loop, BENCH_SECONDS (default 8) per target and mode,
 * `bench/load.mjs`) and each server's RSS afterwards.
 * BENCH_PIN=1: the load generators, the fake upstream and this script on CPU 0, every measured server on CPU 1
 * (`taskset`; harness.ts `PIN`); by default every process may run on either CPU. The report's second line says which.
 * Bounded: fixed cycles, rates and durations (about 12 minutes). Portkey is installed into bench/portkey on first
 * run. Before/after comparisons of builds: `bench/gateway-ab.ts`.
 */
import type { ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { cpuMs, interleave, load, pinBenchProcess, placementLine, ROOT, rssMiB, startClawfleet, startFloorProxy, startNginx, startPortkey, startUpstream, stopAll, type InterleavedResult, type LoadResult, type Target } from "./harness.js";

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SLOT_MS = Number(process.env.BENCH_SLOT_MS ?? 5000);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 1000);
const WARMUP_CYCLES = Number(process.env.BENCH_WARMUP_CYCLES ?? 4);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const MODES = ["json", "stream"] as const;

pinBenchProcess();
const children: ChildProcess[] = [];
const dataDirs: string[] = [];
try {
  const upstream = await startUpstream(children);
  const port = Number(new URL(upstream.url).port);
  const floor = await startFloorProxy(children, upstream.url);
  const clawfleet = await startClawfleet(children, { name: "clawfleet", buildRoot: ROOT, port: port + 1, upstreamUrl: upstream.url, probe: false });
  dataDirs.push(clawfleet.dataDir);
  const portkey = await startPortkey(children, port + 2, upstream.url);
  const nginx = await startNginx(children, dataDirs, port + 3, upstream.url);
  const targets: Target[] = [{ name: "direct", url: upstream.url, headers: { authorization: "Bearer sk-bench" }, pid: upstream.pid }, ...(nginx ? [nginx] : []), floor, clawfleet, portkey];

  const latency = new Map<string, { result: InterleavedResult; cpuPerRequestMs: number }>();
  for (const mode of MODES) {
    const stream = mode === "stream";
    process.stderr.write(`${mode}: warm-up, ${WARMUP_CYCLES} cycles of ${targets.length} × ${SLOT_MS} ms at ${RATE} req/s …\n`);
    await interleave(targets, stream, { rate: RATE, slotMs: SLOT_MS, cycles: WARMUP_CYCLES, warmupCycles: 0, connections: CONNECTIONS });
    process.stderr.write(`${mode}: measuring, ${CYCLES} cycles …\n`);
    const cpuBefore = new Map(targets.map((target) => [target.name, cpuMs(target.pid)]));
    const results = await interleave(targets, stream, { rate: RATE, slotMs: SLOT_MS, settleMs: SETTLE_MS, cycles: CYCLES, warmupCycles: 0, connections: CONNECTIONS });
    for (const target of targets) {
      const result = results[target.name] as InterleavedResult;
      latency.set(`${mode} ${target.name}`, { result, cpuPerRequestMs: (cpuMs(target.pid) - (cpuBefore.get(target.name) ?? 0)) / result.count });
      const errors = result.errors + result.non2xx;
      process.stderr.write(`  ${target.name.padEnd(9)} p50 ${result.p50.toFixed(3)} p99 ${result.p99.toFixed(3)} ms (n ${result.count})${errors > 0 ? `  ERRORS ${errors}` : ""}\n`);
    }
  }
  const saturated = new Map<string, LoadResult>();
  for (const mode of MODES) {
    for (const target of targets) {
      const result = await load(target, mode === "stream", { concurrency: CONNECTIONS, seconds: SECONDS });
      saturated.set(`${mode} ${target.name}`, result);
      process.stderr.write(`max ${mode.padEnd(6)} ${target.name.padEnd(9)} ${result.requestsPerSecond.toFixed(0)} req/s${result.errors + result.non2xx > 0 ? `  ERRORS ${result.errors + result.non2xx}` : ""}\n`);
    }
  }

  const lines = [
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
    placementLine(),
    `load: bench/interleave.mjs (undici, own process), targets in turns of ${SLOT_MS} ms at ${RATE} req/s (open loop), ${WARMUP_CYCLES} warm-up cycles then ${CYCLES} measured (${(CYCLES * (SLOT_MS - SETTLE_MS) * RATE) / 1000} requests per target and mode counted, the first ${SETTLE_MS} ms of each turn not, pooled); then ${SECONDS} s closed loop with ${CONNECTIONS} connections for the maximum`,
  ];
  for (const mode of MODES) {
    const direct = (latency.get(`${mode} direct`) as { result: InterleavedResult }).result;
    for (const target of targets) {
      const { result, cpuPerRequestMs } = latency.get(`${mode} ${target.name}`) as { result: InterleavedResult; cpuPerRequestMs: number };
      const max = saturated.get(`${mode} ${target.name}`) as LoadResult;
      lines.push(
        [
          mode.padEnd(6),
          target.name.padEnd(9),
          `p50 ${result.p50.toFixed(3).padStart(7)} ms`,
          `p99 ${result.p99.toFixed(3).padStart(7)} ms (halves ${result.halves.map((value) => (value ?? Number.NaN).toFixed(2)).join(" / ")})`,
          `p99.9 ${result.p999.toFixed(2)} ms`,
          target.name === "direct" ? "added —" : `added p50 ${(result.p50 - direct.p50).toFixed(3)} p99 ${(result.p99 - direct.p99).toFixed(3)} ms`,
          result.overhead ? `overhead header p50 ${result.overhead.p50.toFixed(3)} p99 ${result.overhead.p99.toFixed(3)} ms` : "",
          target.name === "direct" ? "" : `cpu/request ${cpuPerRequestMs.toFixed(3)} ms`,
          `max ${max.requestsPerSecond.toFixed(0).padStart(6)} req/s`,
          `RSS ${rssMiB(target.pid).toFixed(0).padStart(4)} MiB`,
          `generator lag p99 ${result.lagP99.toFixed(3)} ms`,
          result.heldBackMs >= 100 ? `held the next turns back ${(result.heldBackMs / 1000).toFixed(1)} s (could not keep up)` : "",
        ]
          .filter(Boolean)
          .join("  "),
      );
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await stopAll(children, dataDirs);
}
