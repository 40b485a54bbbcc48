/**
 * Side-by-side latency of Clawfleet builds at a fixed rate (`npx tsx bench/gateway-ab.ts`), for before/after
 * comparisons on a noisy machine: one fake upstream, the direct baseline and one `clawfleet serve` per build,
 * measured ONE AT A TIME (the others idle), in an order that rotates every round, several rounds; medians of
 * rounds are printed. Same load as `npm run bench:gateway` (bench/load.mjs open loop, latency from the scheduled
 * start) and the same policy chain (harness.ts BENCH_POLICY_CONFIG).
 *
 * Environment: BENCH_WARMUP_SECONDS (2: at 200 requests/s before each measured run), BENCH_BUILDS="name=dir,name=dir|node flags" (default: "this=<repo>"; each dir has `dist/` built
 * and `node_modules`; flags after `|` are given to that server's node only, to compare V8 settings), BENCH_ROUNDS (4), BENCH_SECONDS (8), BENCH_RATE (500), BENCH_CONNECTIONS (32), BENCH_MODES
 * ("json,stream"), BENCH_PROBE=1 (preload bench/probe.mjs into each server: event-loop delay, GC pauses,
 * synchronous SQLite calls, and which of them overlap the slowest 1 % of requests), BENCH_NODE_ARGS (extra node
 * flags for the servers, e.g. "--max-semi-space-size=16"), BENCH_SERVER_STDOUT (a directory: each server's stdout is
 * appended to <name>.log there, e.g. for --trace-gc-nvp). Bounded: rounds × modes × targets × (2 + seconds) s.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { load, median, probeDump, ROOT, rssMiB, startClawfleet, startUpstream, stopAll, type LoadResult, type ProbeReport, type Target } from "./harness.js";

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const MODES = (process.env.BENCH_MODES ?? "json,stream").split(",");
const PROBE = process.env.BENCH_PROBE === "1";
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
const BUILDS = (process.env.BENCH_BUILDS ?? `this=${ROOT}`).split(",").map((entry) => {
  const name = entry.slice(0, entry.indexOf("="));
  const [directory, flags] = entry.slice(entry.indexOf("=") + 1).split("|");
  return { name: name as string, directory: directory as string, nodeArgs: [...NODE_ARGS, ...(flags ?? "").split(" ").filter(Boolean)] };
});

/** CPU time of a process (all threads: utime + stime from /proc/<pid>/stat), in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

interface Row {
  /** Server CPU time per request during the paced run, in ms (less noise-sensitive than latency). */
  cpuPerRequest: number;
  /** The server's RSS right after the paced run, MiB. */
  rss: number;
  round: number;
  mode: string;
  target: string;
  result: LoadResult;
  probe: ProbeReport | null;
}

/** How many of the slowest requests overlapped (scheduled start … answer) a GC pause, SQLite call or stall. */
function blame(result: LoadResult, probe: ProbeReport | null): string {
  if (!probe || !result.slow) return "";
  const overlaps = (request: { at: number; ms: number }, event: { at: number; ms: number }) => event.at < request.at + request.ms && event.at + event.ms > request.at;
  let gc = 0;
  let sqlite = 0;
  let stall = 0;
  for (const request of result.slow) {
    if (probe.gc.some((event) => overlaps(request, event))) gc += 1;
    if (probe.sqlite.some((event) => event.ms > 0.2 && overlaps(request, event))) sqlite += 1;
    if (probe.stalls.some((event) => overlaps(request, event))) stall += 1;
  }
  const byKind = new Map<string, number[]>();
  for (const event of probe.gc) byKind.set(event.kind, [...(byKind.get(event.kind) ?? []), event.ms]);
  const gcText = [...byKind].map(([kind, values]) => `${kind} ×${values.length} max ${Math.max(...values).toFixed(2)} sum ${values.reduce((a, b) => a + b, 0).toFixed(1)}`).join(", ");
  const writes = probe.sqlite.filter((event) => event.what !== "prepare");
  const sqliteText = writes.length ? `sqlite ×${writes.length} p50 ${median(writes.map((event) => event.ms)).toFixed(3)} max ${Math.max(...writes.map((event) => event.ms)).toFixed(2)} ms` : "sqlite ×0";
  const slowOverhead = result.slow.map((request) => request.overheadMs).filter((value) => !Number.isNaN(value));
  return [
    `    loop delay p50 ${probe.eventLoopDelayMs.p50.toFixed(2)} p99 ${probe.eventLoopDelayMs.p99.toFixed(2)} max ${probe.eventLoopDelayMs.max.toFixed(2)} ms; stalls>1ms ×${probe.stalls.length} max ${Math.max(0, ...probe.stalls.map((event) => event.ms)).toFixed(2)} ms`,
    `    gc: ${gcText}; ${sqliteText}${writes.filter((event) => event.ms > 1).map((event) => ` [${event.what}${event.rows ? ` ${event.rows} rows` : ""}${event.sql ? ` ${event.sql}` : ""} ${event.ms.toFixed(2)} ms]`).join("")}`,
    `    slowest 1 % (${result.slow.length}, ≥ ${Math.min(...result.slow.map((request) => request.ms)).toFixed(2)} ms): overlapping gc ${gc}, sqlite>0.2ms ${sqlite}, loop stall ${stall}; their overhead header median ${median(slowOverhead).toFixed(3)} ms`,
  ].join("\n");
}

const children: ChildProcess[] = [];
const dataDirs: string[] = [];
try {
  const upstream = await startUpstream(children);
  const port = Number(new URL(upstream.url).port);
  const targets: Target[] = [{ name: "direct", url: upstream.url, headers: { authorization: "Bearer sk-bench" }, pid: upstream.pid }];
  for (const [index, build] of BUILDS.entries()) {
    const target = await startClawfleet(children, { name: build.name, buildRoot: build.directory, port: port + 1 + index, upstreamUrl: upstream.url, probe: PROBE, nodeArgs: build.nodeArgs });
    dataDirs.push(target.dataDir);
    targets.push(target);
  }
  const rows: Row[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    // Rotate the order every round so no target always runs right after another.
    const order = targets.map((_, index) => targets[(index + round) % targets.length] as Target);
    for (const mode of MODES) {
      const stream = mode === "stream";
      for (const target of order) {
        await load(target, stream, { concurrency: 8, rate: 200, seconds: WARMUP_SECONDS });
        await probeDump(target);
        const cpuBefore = cpuMs(target.pid);
        const result = await load(target, stream, { rate: RATE, concurrency: CONNECTIONS, seconds: SECONDS, detail: PROBE });
        const cpuPerRequest = (cpuMs(target.pid) - cpuBefore) / result.count;
        const rss = rssMiB(target.pid);
        const probe = await probeDump(target);
        rows.push({ round, mode, target: target.name, result, probe, cpuPerRequest, rss });
        const overhead = result.overhead ? `  overhead hdr p50 ${result.overhead.p50.toFixed(3)} p99 ${result.overhead.p99.toFixed(3)} max ${result.overhead.max.toFixed(2)}` : "";
        process.stderr.write(
          `round ${round + 1} ${mode.padEnd(6)} ${target.name.padEnd(8)} p50 ${result.p50.toFixed(3)} p99 ${result.p99.toFixed(3)} max ${result.max.toFixed(2)} ms  cpu/req ${cpuPerRequest.toFixed(3)} ms  RSS ${rss.toFixed(0)} MiB  gen lag p99 ${result.lagP99.toFixed(3)}${overhead}${result.errors + result.non2xx ? `  ERRORS ${result.errors + result.non2xx}` : ""}\n`,
        );
        const text = blame(result, probe);
        if (text) process.stderr.write(`${text}\n`);
      }
    }
  }
  const lines = [
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
    `load: ${RATE} req/s open loop, ${SECONDS} s after ${WARMUP_SECONDS} s at 200 req/s, ${CONNECTIONS} connections, ${ROUNDS} rounds, one target at a time; medians of rounds (added = the build's figure minus direct's in the same round)`,
  ];
  for (const mode of MODES) {
    for (const target of targets) {
      const mine = rows.filter((row) => row.mode === mode && row.target === target.name);
      const direct = rows.filter((row) => row.mode === mode && row.target === "direct");
      const added = (key: "p50" | "p99") => mine.map((row) => row.result[key] - (direct.find((other) => other.round === row.round)?.result[key] ?? Number.NaN));
      const list = (values: number[]) => values.map((value) => value.toFixed(2)).join("/");
      lines.push(
        [
          mode.padEnd(6),
          target.name.padEnd(8),
          `p50 ${median(mine.map((row) => row.result.p50)).toFixed(3)}`,
          `p99 ${median(mine.map((row) => row.result.p99)).toFixed(3)} (${list(mine.map((row) => row.result.p99))})`,
          target.name === "direct" ? "" : `added p50 ${median(added("p50")).toFixed(3)} p99 ${median(added("p99")).toFixed(3)} (${list(added("p99"))})`,
          mine[0]?.result.overhead ? `overhead hdr p50 ${median(mine.map((row) => row.result.overhead?.p50 ?? Number.NaN)).toFixed(3)} p99 ${median(mine.map((row) => row.result.overhead?.p99 ?? Number.NaN)).toFixed(3)}` : "",
          `cpu/req ${median(mine.map((row) => row.cpuPerRequest)).toFixed(3)} ms`,
          `RSS ${median(mine.map((row) => row.rss)).toFixed(0)} MiB`,
          `gen lag p99 ${median(mine.map((row) => row.result.lagP99)).toFixed(3)}`,
          mine[0]?.probe
            ? `GC pauses/run: count ${median(mine.map((row) => row.probe?.gc.length ?? 0))} sum ${median(mine.map((row) => (row.probe?.gc ?? []).reduce((sum, event) => sum + event.ms, 0))).toFixed(1)} ms max ${median(mine.map((row) => Math.max(0, ...(row.probe?.gc ?? []).map((event) => event.ms)))).toFixed(2)} ms; loop delay p99 ${median(mine.map((row) => row.probe?.eventLoopDelayMs.p99 ?? Number.NaN)).toFixed(2)} ms`
            : "",
        ].join("  "),
      );
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await stopAll(children, dataDirs);
}
