/**
 * What Fastify's request lifecycle costs per request (`npx tsx bench/framework-cost.ts`): the floor proxy
 * (`bench/floor-proxy.mjs`, node:http) beside the same work behind Fastify (`bench/fastify-floor-proxy.mjs`, set up as
 * Clawfleet's `/v1/*` routes are), JSON only. Warm-up BENCH_WARMUP_SECONDS (10) at BENCH_RATE (500) req/s each; then
 * BENCH_ROUNDS (3) rounds, the order alternating: BENCH_SECONDS (8) at BENCH_RATE (server CPU time per request from
 * /proc, client-side p50/p99), then 5 s closed loop with 32 connections (maximum requests/s). Answers the question
 * whether serving `/v1/*` outside Fastify would make the gateway much cheaper. Bounded: fixed rates and durations.
 */
import type { ChildProcess } from "node:child_process";
import { cpuMs, load, median, placementLine, startFloorProxy, startUpstream, stopAll } from "./harness.js";

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const children: ChildProcess[] = [];
try {
  const upstream = await startUpstream(children);
  const targets = [await startFloorProxy(children, upstream.url), await startFloorProxy(children, upstream.url, { file: "fastify-floor-proxy.mjs", name: "fastify-floor" })];
  for (const target of targets) await load(target, false, { rate: RATE, concurrency: 32, seconds: WARMUP_SECONDS });
  const rows = new Map<string, Array<{ cpu: number; p50: number; p99: number; max: number }>>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      const before = cpuMs(target.pid);
      const paced = await load(target, false, { rate: RATE, concurrency: 32, seconds: SECONDS });
      const cpu = (cpuMs(target.pid) - before) / paced.count;
      const max = await load(target, false, { concurrency: 32, seconds: 5 });
      rows.set(target.name, [...(rows.get(target.name) ?? []), { cpu, p50: paced.p50, p99: paced.p99, max: max.requestsPerSecond }]);
      process.stderr.write(`round ${round + 1} ${target.name}: cpu/request ${cpu.toFixed(3)} ms, p50 ${paced.p50.toFixed(3)} p99 ${paced.p99.toFixed(3)} ms, max ${max.requestsPerSecond.toFixed(0)} req/s\n`);
    }
  }
  process.stdout.write(`${placementLine()}\nJSON, ${RATE} req/s for ${SECONDS} s and 5 s closed loop per round, ${ROUNDS} rounds, medians:\n`);
  for (const [name, values] of rows) {
    process.stdout.write(`${name.padEnd(14)} cpu/request ${median(values.map((row) => row.cpu)).toFixed(3)} ms  p50 ${median(values.map((row) => row.p50)).toFixed(3)} ms  p99 ${median(values.map((row) => row.p99)).toFixed(3)} ms  max ${median(values.map((row) => row.max)).toFixed(0)} req/s\n`);
  }
} finally {
  await stopAll(children, []);
}
