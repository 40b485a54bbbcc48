/**
 * Side-by-side latency of Clawfleet builds at a fixed rate (`npx tsx bench/gateway-ab.ts`), for before/after
 * comparisons on a noisy machine: one fake upstream, the direct baseline and one `clawfleet serve` per build.
 *
 * Default method, interleaved (as `npm run bench:gateway`): one load generator (`bench/interleave.mjs`) gives
 * the targets turns of BENCH_SLOT_MS (5000) at BENCH_RATE (500) requests/s, open loop, in a different order every
 * cycle (a balanced Latin square), the first BENCH_SETTLE_MS (1000) of each turn not counted; BENCH_WARMUP_CYCLES (4) are not counted, then
 * BENCH_CYCLES (8) are, and percentiles are pooled over all of a target's requests. Each extra target lengthens
 * the others' idle time; past a server's keep-alive timeout (Clawfleet: 5 s) every turn starts with new
 * connections (inside the settle time). Per target: p50, p99 (and of the even / odd cycles), p99.9, added (minus direct),
 * the overhead header, CPU time per request (all threads, /proc), RSS, and where its threads ran and waited for a
 * CPU (/proc/<pid>/task/<tid>/schedstat).
 *
 * BENCH_METHOD=rounds (implied by BENCH_PROBE=1): the older method — each target measured on its own in
 * BENCH_ROUNDS (4) rounds of BENCH_SECONDS (8) after BENCH_WARMUP_SECONDS (2), rotating order, medians of rounds —
 * which can match the slowest requests against what the in-server probe saw.
 *
 * Environment: BENCH_FLOOR=1 (also measure bench/floor-proxy.mjs, the least a Node.js gateway can do), BENCH_PORTKEY=1
 * (also Portkey's gateway, as in bench:gateway), BENCH_PIN=1 (the load and the upstream on CPU 0, the servers on
 * CPU 1: harness.ts `PIN`),
 * BENCH_BUILDS="name=dir,name=dir|node flags" (default: "this=<repo>"; each dir has `dist/` built and
 * `node_modules`; without flags a build runs as its `bin/clawfleet.js` says (its shebang's node flags); flags after
 * `|` replace those, for that server only, to compare V8 settings), BENCH_CONNECTIONS (32), BENCH_MODES
 * ("json,stream"), BENCH_PROBE=1 (preload bench/probe.mjs into each server: event-loop delay, GC pauses,
 * synchronous SQLite calls, and which of them overlap the slowest 1 % of requests; the server then runs through
 * node with only the flags given, so add the shebang's --single-threaded-gc to BENCH_NODE_ARGS to keep it; the
 * probe's 1 ms timer keeps the event loop awake, which changes what is measured), BENCH_NODE_ARGS (extra node
 * flags for the servers, e.g. "--max-semi-space-size=16"), BENCH_SERVER_STDOUT (a directory: each server's stdout
 * is appended to <name>.log there, e.g. for --trace-gc), BENCH_WITHOUT_POLICIES="name,…" (builds started without
 * harness.ts BENCH_POLICY_CONFIG: no rate limits, no budget, so admission is skipped — what the rest of the chain
 * costs; the same directory may appear twice under two names). Bounded: fixed cycles or rounds, rates and durations.
 */
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { addedByRound, cpuMs, interleave, measureRounds, median, startFloorProxy, startPortkey, probeDump, pinBenchProcess, placementLine, ROOT, rssMiB, startClawfleet, startUpstream, stopAll, type InterleavedResult, type LoadResult, type ProbeReport, type Target } from "./harness.js";

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const MODES = (process.env.BENCH_MODES ?? "json,stream").split(",") as Array<"json" | "stream">;
const PROBE = process.env.BENCH_PROBE === "1";
const METHOD = PROBE || process.env.BENCH_METHOD === "rounds" ? "rounds" : "interleaved";
const SLOT_MS = Number(process.env.BENCH_SLOT_MS ?? 5000);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 1000);
const WARMUP_CYCLES = Number(process.env.BENCH_WARMUP_CYCLES ?? 4);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 8);
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
const WITHOUT_POLICIES = new Set((process.env.BENCH_WITHOUT_POLICIES ?? "").split(",").filter(Boolean));
const BUILDS = (process.env.BENCH_BUILDS ?? `this=${ROOT}`).split(",").map((entry) => {
  const name = entry.slice(0, entry.indexOf("="));
  const [directory, flags] = entry.slice(entry.indexOf("=") + 1).split("|");
  return { name: name as string, directory: directory as string, nodeArgs: [...NODE_ARGS, ...(flags ?? "").split(" ").filter(Boolean)] };
});

/** Per-thread CPU time and run-queue wait (ns) of a process, from /proc/<pid>/task/<tid>/schedstat. */
function schedstat(pid: number): Map<string, { comm: string; run: number; wait: number }> {
  const threads = new Map<string, { comm: string; run: number; wait: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ").map(Number);
      threads.set(tid, { comm: readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim(), run: run ?? 0, wait: wait ?? 0 });
    } catch {
      // the thread ended
    }
  }
  return threads;
}

/** "main run 2510 wait 180 ms; V8 workers run … wait …": where the server's threads spent the run, by thread name. */
function schedText(before: Map<string, { comm: string; run: number; wait: number }>, after: Map<string, { comm: string; run: number; wait: number }>, pid: number): string {
  const byName = new Map<string, { run: number; wait: number }>();
  for (const [tid, thread] of after) {
    const name = tid === String(pid) ? "main" : thread.comm;
    const start = before.get(tid) ?? { run: 0, wait: 0 };
    const entry = byName.get(name) ?? { run: 0, wait: 0 };
    entry.run += (thread.run - start.run) / 1e6;
    entry.wait += (thread.wait - start.wait) / 1e6;
    byName.set(name, entry);
  }
  return [...byName].filter(([, value]) => value.run > 1).map(([name, value]) => `${name} run ${value.run.toFixed(0)} wait ${value.wait.toFixed(0)}`).join("; ");
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
  // Where the slowest requests spent their time: scheduled start → the server parsed the headers ("before"),
  // → the server finished the answer ("inside"), → the generator had the whole answer ("after").
  const split = result.slow
    .map((request) => {
      const seen = probe.requests?.[String(request.seq)];
      return seen && seen[1] > 0 ? { before: seen[0] - request.at, inside: seen[1] - seen[0], after: request.at + request.ms - seen[1] } : null;
    })
    .filter((entry): entry is { before: number; inside: number; after: number } => entry !== null);
  const splitText = split.length
    ? `; split (median/max ms) before ${median(split.map((entry) => entry.before)).toFixed(2)}/${Math.max(...split.map((entry) => entry.before)).toFixed(1)} inside ${median(split.map((entry) => entry.inside)).toFixed(2)}/${Math.max(...split.map((entry) => entry.inside)).toFixed(1)} after ${median(split.map((entry) => entry.after)).toFixed(2)}/${Math.max(...split.map((entry) => entry.after)).toFixed(1)}`
    : "";
  const all = Object.values(probe.requests ?? {}).filter((entry) => entry[1] > 0).map((entry) => entry[1] - entry[0]).sort((left, right) => left - right);
  const insideText = all.length ? `\n    inside the server, all requests: p50 ${all[Math.floor(all.length / 2)]?.toFixed(3)} p99 ${all[Math.floor(all.length * 0.99)]?.toFixed(3)} max ${all.at(-1)?.toFixed(2)} ms` : "";
  return [
    `    loop delay p50 ${probe.eventLoopDelayMs.p50.toFixed(2)} p99 ${probe.eventLoopDelayMs.p99.toFixed(2)} max ${probe.eventLoopDelayMs.max.toFixed(2)} ms; stalls>1ms ×${probe.stalls.length} max ${Math.max(0, ...probe.stalls.map((event) => event.ms)).toFixed(2)} ms`,
    `    gc: ${gcText}; ${sqliteText}${writes.filter((event) => event.ms > 1).map((event) => ` [${event.what}${event.rows ? ` ${event.rows} rows` : ""}${event.sql ? ` ${event.sql}` : ""} ${event.ms.toFixed(2)} ms]`).join("")}`,
    `    slowest 1 % (${result.slow.length}, ≥ ${Math.min(...result.slow.map((request) => request.ms)).toFixed(2)} ms): overlapping gc ${gc}, sqlite>0.2ms ${sqlite}, loop stall ${stall}; their overhead header median ${median(slowOverhead).toFixed(3)} ms${splitText}${insideText}`,
  ].join("\n");
}

async function measureByRounds(targets: Target[]): Promise<string[]> {
  const rows = await measureRounds(
    targets,
    { rounds: ROUNDS, modes: MODES, rate: RATE, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, detail: PROBE },
    async (target, run) => {
      await probeDump(target);
      const cpuBefore = cpuMs(target.pid);
      const schedBefore = schedstat(target.pid);
      const result = await run();
      const cpuPerRequest = (cpuMs(target.pid) - cpuBefore) / result.count;
      const sched = schedText(schedBefore, schedstat(target.pid), target.pid);
      return { cpuPerRequest, sched, rss: rssMiB(target.pid), probe: await probeDump(target) };
    },
    (row) => {
      const { result } = row;
      const overhead = result.overhead ? `  overhead hdr p50 ${result.overhead.p50.toFixed(3)} p99 ${result.overhead.p99.toFixed(3)} max ${result.overhead.max.toFixed(2)}` : "";
      process.stderr.write(
        `round ${row.round + 1} ${row.mode.padEnd(6)} ${row.target.padEnd(8)} p50 ${result.p50.toFixed(3)} p99 ${result.p99.toFixed(3)} max ${result.max.toFixed(2)} ms  cpu/req ${row.cpuPerRequest.toFixed(3)} ms  RSS ${row.rss.toFixed(0)} MiB  gen lag p99 ${result.lagP99.toFixed(3)}${overhead}${result.errors + result.non2xx ? `  ERRORS ${result.errors + result.non2xx}` : ""}\n`,
      );
      process.stderr.write(`    threads (ms over the run): ${row.sched}; generator main thread wait ${result.waitMs?.toFixed(0) ?? "?"} ms\n`);
      const text = blame(result, row.probe);
      if (text) process.stderr.write(`${text}\n`);
    },
  );
  const lines = [
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
    placementLine(),
    `load: ${RATE} req/s open loop, ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up at the same rate, ${CONNECTIONS} connections, ${ROUNDS} rounds, one target at a time; medians of rounds (added = the build's figure minus direct's in the same round)`,
  ];
  for (const mode of MODES) {
    for (const target of targets) {
      const mine = rows.filter((row) => row.mode === mode && row.target === target.name);
      const added = (key: "p50" | "p99") => addedByRound(rows, mode, target.name, key);
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
  return lines;
}

/** The interleaved method (see the module comment); returns the summary lines. */
async function measureInterleaved(targets: Target[]): Promise<string[]> {
  const lines = [
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
    placementLine(),
    `load: bench/interleave.mjs, turns of ${SLOT_MS} ms at ${RATE} req/s (open loop), ${CONNECTIONS} connections per target, ${WARMUP_CYCLES} warm-up cycles then ${CYCLES} measured (${(CYCLES * (SLOT_MS - SETTLE_MS) * RATE) / 1000} requests per target and mode counted, the first ${SETTLE_MS} ms of each turn not, pooled)`,
  ];
  for (const mode of MODES) {
    const stream = mode === "stream";
    process.stderr.write(`${mode}: warm-up, ${WARMUP_CYCLES} cycles …\n`);
    await interleave(targets, stream, { rate: RATE, slotMs: SLOT_MS, cycles: WARMUP_CYCLES, warmupCycles: 0, connections: CONNECTIONS });
    process.stderr.write(`${mode}: measuring, ${CYCLES} cycles …\n`);
    const cpuBefore = new Map(targets.map((target) => [target.name, cpuMs(target.pid)]));
    const schedBefore = new Map(targets.map((target) => [target.name, schedstat(target.pid)]));
    const results = await interleave(targets, stream, { rate: RATE, slotMs: SLOT_MS, settleMs: SETTLE_MS, cycles: CYCLES, warmupCycles: 0, connections: CONNECTIONS });
    const direct = results.direct as InterleavedResult;
    for (const target of targets) {
      const result = results[target.name] as InterleavedResult;
      const cpuPerRequest = (cpuMs(target.pid) - (cpuBefore.get(target.name) ?? 0)) / result.count;
      lines.push(
        [
          mode.padEnd(6),
          target.name.padEnd(8),
          `p50 ${result.p50.toFixed(3)}`,
          `p99 ${result.p99.toFixed(3)} (${result.halves.map((value) => (value ?? Number.NaN).toFixed(2)).join("/")})`,
          `p99.9 ${result.p999.toFixed(2)}`,
          target.name === "direct" ? "" : `added p50 ${(result.p50 - direct.p50).toFixed(3)} p99 ${(result.p99 - direct.p99).toFixed(3)}`,
          result.overhead ? `overhead hdr p50 ${result.overhead.p50.toFixed(3)} p99 ${result.overhead.p99.toFixed(3)}` : "",
          target.name === "direct" ? "" : `cpu/req ${cpuPerRequest.toFixed(3)} ms`,
          `RSS ${rssMiB(target.pid).toFixed(0)} MiB`,
          `gen lag p99 ${result.lagP99.toFixed(3)}`,
          result.heldBackMs >= 100 ? `held next turns back ${(result.heldBackMs / 1000).toFixed(1)} s` : "",
          result.errors + result.non2xx > 0 ? `ERRORS ${result.errors + result.non2xx}` : "",
        ]
          .filter(Boolean)
          .join("  "),
      );
      if (target.name !== "direct") lines.push(`         threads (ms over the run): ${schedText(schedBefore.get(target.name) ?? new Map(), schedstat(target.pid), target.pid)}`);
    }
  }
  return lines;
}

pinBenchProcess();
const children: ChildProcess[] = [];
const dataDirs: string[] = [];
try {
  const upstream = await startUpstream(children);
  const port = Number(new URL(upstream.url).port);
  const targets: Target[] = [{ name: "direct", url: upstream.url, headers: { authorization: "Bearer sk-bench" }, pid: upstream.pid }];
  if (process.env.BENCH_FLOOR === "1") targets.push(await startFloorProxy(children, upstream.url));
  // Portkey as a neighbour: on a slow host it cannot keep up at 500 req/s, which is part of what bench:gateway's
  // other targets live through (its backlog is drained before the next turn, but its CPU use before that is not).
  if (process.env.BENCH_PORTKEY === "1") targets.push(await startPortkey(children, port + 1 + BUILDS.length, upstream.url));
  for (const [index, build] of BUILDS.entries()) {
    const target = await startClawfleet(children, { name: build.name, buildRoot: build.directory, port: port + 1 + index, upstreamUrl: upstream.url, probe: PROBE, nodeArgs: build.nodeArgs, policies: !WITHOUT_POLICIES.has(build.name) });
    dataDirs.push(target.dataDir);
    targets.push(target);
  }
  const lines = METHOD === "rounds" ? await measureByRounds(targets) : await measureInterleaved(targets);
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await stopAll(children, dataDirs);
}
