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
 *               `x-portkey-provider: openai` and `x-portkey-custom-host`.
 * Latency: BENCH_ROUNDS rounds (default 3); in each, every target is measured on its own (the others idle) in an
 * order that rotates every round: a warm-up (BENCH_WARMUP_SECONDS, default 3) then BENCH_SECONDS (default 8) at a
 * fixed BENCH_RATE (default 500) requests/s, open loop, latency from the scheduled start. "Added" is the
 * target's percentile minus the direct percentile of the same mode in the same round (p99 minus p99); the
 * table gives the median over rounds and each round's figure. Also printed: Clawfleet's own
 * `x-clawfleet-overhead-ms` header (time inside the gateway, upstream excluded), the load generator's own
 * lateness (part of every target's latency), then the maximum requests/s at BENCH_CONNECTIONS (default 32)
 * connections (closed loop, once per target and mode) and the server's RSS afterwards. The load generator
 * (`bench/load.mjs`) runs in its own process. Bounded: fixed rounds, durations and rates (about 6 minutes).
 * Portkey is installed into bench/portkey on first run. Before/after comparisons of builds: `bench/gateway-ab.ts`.
 */
import type { ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { addedByRound, load, measureRounds, median, ROOT, rssMiB, startClawfleet, startFloorProxy, startPortkey, startUpstream, stopAll, type LoadResult, type Target } from "./harness.js";

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const MODES = ["json", "stream"] as const;

const children: ChildProcess[] = [];
const dataDirs: string[] = [];
try {
  const upstream = await startUpstream(children);
  const port = Number(new URL(upstream.url).port);
  const floor = await startFloorProxy(children, upstream.url);
  const clawfleet = await startClawfleet(children, { name: "clawfleet", buildRoot: ROOT, port: port + 1, upstreamUrl: upstream.url, probe: false });
  dataDirs.push(clawfleet.dataDir);
  const portkey = await startPortkey(children, port + 2, upstream.url);
  const targets: Target[] = [{ name: "direct", url: upstream.url, headers: { authorization: "Bearer sk-bench" }, pid: upstream.pid }, floor, clawfleet, portkey];

  const rows = await measureRounds(
    targets,
    { rounds: ROUNDS, modes: MODES, rate: RATE, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS },
    async (_target, run) => {
      await run();
      return {};
    },
    (row) => {
      const errors = row.result.errors + row.result.non2xx;
      process.stderr.write(
        `round ${row.round + 1}/${ROUNDS} ${row.mode.padEnd(6)} ${row.target.padEnd(9)} p50 ${row.result.p50.toFixed(3)} p99 ${row.result.p99.toFixed(3)} ms at ${row.result.requestsPerSecond.toFixed(0)} req/s${errors > 0 ? `  ERRORS ${errors}` : ""}\n`,
      );
    },
  );
  const saturated = new Map<string, LoadResult>();
  for (const mode of MODES) {
    for (const target of targets) {
      const result = await load(target, mode === "stream", { concurrency: CONNECTIONS, seconds: SECONDS });
      saturated.set(`${mode} ${target.name}`, result);
      process.stderr.write(`max ${mode.padEnd(6)} ${target.name.padEnd(9)} ${result.requestsPerSecond.toFixed(0)} req/s${result.errors + result.non2xx > 0 ? `  ERRORS ${result.errors + result.non2xx}` : ""}\n`);
    }
  }

  const list = (values: number[]) => values.map((value) => value.toFixed(2)).join(" / ");
  const lines = [
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
    `load: bench/load.mjs (undici, own process), one target at a time; ${ROUNDS} rounds of ${WARMUP_SECONDS} s warm-up + ${SECONDS} s at ${RATE} req/s (open loop), medians of rounds; then ${SECONDS} s closed loop with ${CONNECTIONS} connections for the maximum`,
  ];
  for (const mode of MODES) {
    for (const target of targets) {
      const mine = rows.filter((row) => row.mode === mode && row.target === target.name);
      const max = saturated.get(`${mode} ${target.name}`) as LoadResult;
      const overhead = mine.filter((row) => row.result.overhead);
      lines.push(
        [
          mode.padEnd(6),
          target.name.padEnd(9),
          `p50 ${median(mine.map((row) => row.result.p50)).toFixed(3).padStart(7)} ms`,
          `p99 ${median(mine.map((row) => row.result.p99)).toFixed(3).padStart(7)} ms`,
          target.name === "direct"
            ? "added —"
            : `added p50 ${median(addedByRound(rows, mode, target.name, "p50")).toFixed(3)} p99 ${median(addedByRound(rows, mode, target.name, "p99")).toFixed(3)} ms (rounds: ${list(addedByRound(rows, mode, target.name, "p99"))})`,
          `max ${max.requestsPerSecond.toFixed(0).padStart(6)} req/s`,
          `RSS ${rssMiB(target.pid).toFixed(0).padStart(4)} MiB`,
          overhead.length > 0 ? `overhead header p50 ${median(overhead.map((row) => row.result.overhead?.p50 ?? Number.NaN)).toFixed(3)} p99 ${median(overhead.map((row) => row.result.overhead?.p99 ?? Number.NaN)).toFixed(3)} ms` : "",
          `generator lag p99 ${median(mine.map((row) => row.result.lagP99)).toFixed(3)} ms`,
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
