/**
 * Where a gateway's CPU goes, by component (`npx tsx bench/profile.ts`): Linux `perf` samples one server while the
 * load generator holds it at a fixed rate, and the samples are attributed to packages, Node.js modules and
 * Clawfleet's own files, inclusive (the share of samples with that component anywhere on the stack) and by
 * innermost JavaScript frame (what a function costs with the builtins, runtime and kernel work below it).
 *
 * Steps: fake upstream + target (`clawfleet serve` with the shebang's V8 flags plus `--perf-basic-prof-only-functions
 * --interpreted-frames-native-stack`, or the floor proxy); BENCH_WARMUP_SECONDS (20) at BENCH_RATE (500) req/s so V8
 * has compiled the hot path; then `perf record -F 4999 -g` for BENCH_SECONDS (20) under the same load; the servers
 * stop; the perf map is cleaned (below); `perf script` is read and summarized. Output: BENCH_OUT (a new temporary
 * directory unless given) keeps `perf.data`, the original and cleaned maps, and `summary.txt`.
 *
 * Why the map is cleaned: V8 writes one `/tmp/perf-<pid>.map` line per compiled function and never removes one, but
 * code space is reused after garbage collection, so an address can be listed for several functions over the run;
 * perf then names samples after whichever it finds (here: module top-level code compiled at startup, e.g.
 * `semver/ranges/subset.js`, "calling" node's `connectionListener`). The newest entry is the function that lived
 * there last, so for overlapping ranges only the newest is kept.
 *
 * Environment: BENCH_TARGET (`clawfleet` | `floor`), BENCH_MODES ("json" or "stream"; one mode per run: the first),
 * BENCH_RATE, BENCH_WARMUP_SECONDS, BENCH_SECONDS, BENCH_OUT, BENCH_TOP (rows per table, 40). Needs `perf`
 * (Debian: linux-perf) and permission to profile another process (root, or kernel.perf_event_paranoid ≤ 1).
 * BENCH_PIN=1: the load on CPU 0, the server on CPU 1 (harness.ts `PIN`).
 * Bounded: fixed rate and durations.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { load, pinBenchProcess, placementLine, ROOT, shebangNodeArgs, startClawfleet, startFloorProxy, startUpstream, stopAll, type Target } from "./harness.js";

const TARGET = process.env.BENCH_TARGET ?? "clawfleet";
const STREAM = (process.env.BENCH_MODES ?? "json").split(",")[0] === "stream";
const RATE = Number(process.env.BENCH_RATE ?? 500);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const TOP = Number(process.env.BENCH_TOP ?? 40);
/** perf's sampling frequency (cpu-clock), samples per second of CPU time. */
const SAMPLE_HZ = 4999;
const OUT = process.env.BENCH_OUT ?? mkdtempSync(path.join(tmpdir(), "cf-profile-"));
mkdirSync(OUT, { recursive: true });
/** The shebang's V8 flags (bin/clawfleet.js) plus what perf needs to name JavaScript frames. */
const PROFILED_NODE_ARGS = [...shebangNodeArgs(ROOT), "--perf-basic-prof-only-functions", "--interpreted-frames-native-stack"];

interface MapEntry {
  start: number;
  size: number;
  name: string;
}

/**
 * Keeps, for every address range, only the newest entry of a perf map (`<start hex> <size hex> <name>` per line,
 * appended in time order). Returns the entries sorted by address.
 */
export function cleanPerfMap(text: string): MapEntry[] {
  const entries: MapEntry[] = [];
  for (const line of text.split("\n")) {
    const first = line.indexOf(" ");
    const second = line.indexOf(" ", first + 1);
    if (first < 0 || second < 0) continue;
    entries.push({ start: Number.parseInt(line.slice(0, first), 16), size: Number.parseInt(line.slice(first + 1, second), 16), name: line.slice(second + 1) });
  }
  const kept: MapEntry[] = []; // sorted by start, non-overlapping
  /** Index of the first kept entry starting at or after `start`. */
  const lowerBound = (start: number): number => {
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((kept[middle] as MapEntry).start < start) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  for (let index = entries.length - 1; index >= 0; index -= 1) {
    const entry = entries[index] as MapEntry;
    const position = lowerBound(entry.start);
    const before = kept[position - 1];
    const after = kept[position];
    if (before !== undefined && before.start + before.size > entry.start) continue;
    if (after !== undefined && after.start < entry.start + entry.size) continue;
    kept.splice(position, 0, entry);
  }
  return kept;
}

/** The component a frame belongs to: an npm package, a Clawfleet file, a Node.js module, GC, kernel or native. */
function componentOf(symbol: string, dso: string): string {
  if (dso.includes("kernel")) return "kernel";
  const packageName = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(symbol);
  if (packageName) return `pkg ${packageName[1]}`;
  const ours = /\/dist\/(\S+?)\.js/.exec(symbol);
  if (ours) return `cf ${ours[1]}`;
  const nodeModule = / (node:[a-z_/]+)/.exec(symbol);
  if (nodeModule) return nodeModule[1] as string;
  if (/Scaveng|MarkCompact|Heap::|GCTracer|Sweeper/.test(symbol)) return "v8 gc";
  return "native";
}

interface Frame {
  symbol: string;
  dso: string;
}

/** Reads `perf script` output (one block per sample: a header line, then indented frames, leaf first) and tallies it. */
async function summarize(perfData: string, requests: number): Promise<string> {
  const script = spawn("perf", ["script", "-i", perfData], { stdio: ["ignore", "pipe", "ignore"] });
  const lines = createInterface({ input: script.stdout, crlfDelay: Infinity });
  const threads = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const innermost = new Map<string, number>();
  const byModule = new Map<string, number>();
  let samples = 0;
  let mainThread = "";
  let stack: Frame[] = [];
  let thread = "";
  const add = (table: Map<string, number>, key: string) => table.set(key, (table.get(key) ?? 0) + 1);
  const flush = () => {
    if (stack.length === 0) return;
    add(threads, thread);
    if (thread === mainThread) {
      samples += 1;
      for (const component of new Set(stack.map((frame) => componentOf(frame.symbol, frame.dso)))) add(inclusive, component);
      const js = stack.find((frame) => frame.symbol.startsWith("JS:"));
      const name = js ? js.symbol.replace(/\+0x[0-9a-f]+$/, "").replace(/file:\/\//, "").replace(`${ROOT}/`, "") : `(native) ${stack[0]?.symbol.replace(/\+0x[0-9a-f]+$/, "")}`;
      add(innermost, name);
      add(byModule, js ? componentOf(js.symbol, js.dso) : "native (no JS frame)");
    }
    stack = [];
  };
  for await (const line of lines) {
    if (line.trim() === "") {
      flush();
      continue;
    }
    if (!/^\s/.test(line)) {
      flush();
      // Header line: `<comm> <tid> <time>: <period> <event>:` (perf script's default fields).
      thread = line.trim().split(/\s+/)[1] ?? "";
      // The process's main thread has the process id as its thread id: the first sample tells which that is
      // only if it is on the main thread, so take the lowest thread id seen.
      if (mainThread === "" || Number(thread) < Number(mainThread)) mainThread = thread;
      continue;
    }
    const frame = /^\s*[0-9a-f]+ (.*) \((.*)\)$/.exec(line);
    if (frame) stack.push({ symbol: frame[1] as string, dso: frame[2] as string });
  }
  flush();
  const table = (title: string, counts: Map<string, number>, total: number) =>
    [`== ${title}`, ...[...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([key, count]) => `${((100 * count) / total).toFixed(2).padStart(6)} %  ${key}`)].join("\n");
  const allSamples = [...threads.values()].reduce((sum, count) => sum + count, 0);
  // cpu-clock samples at 4999 Hz: each stands for 1/4999 s of CPU time.
  const msPerRequest = (count: number) => ((1000 * count) / SAMPLE_HZ / requests).toFixed(3);
  return [
    `CPU per request from the samples (${requests} requests recorded): all threads ${msPerRequest(allSamples)} ms, main thread ${msPerRequest(samples)} ms`,
    table("samples per thread (all threads; the tables below are the main thread's)", threads, allSamples),
    table("inclusive, by component (share of main-thread samples with it anywhere on the stack)", inclusive, samples),
    table("by innermost JavaScript frame (its own code plus the builtins, runtime and kernel work below it)", innermost, samples),
    table("by module of the innermost JavaScript frame", byModule, samples),
  ].join("\n\n");
}

async function main(): Promise<void> {
  if (spawnSync("perf", ["--version"]).status !== 0) {
    process.stderr.write("perf is not installed (Debian: apt-get install linux-perf); nothing to do\n");
    process.exitCode = 2;
    return;
  }
  pinBenchProcess();
  const children: ChildProcess[] = [];
  const dataDirs: string[] = [];
  let target: Target;
  try {
    const upstream = await startUpstream(children);
    if (TARGET === "floor") target = await startFloorProxy(children, upstream.url);
    else {
      const started = await startClawfleet(children, { name: "clawfleet", buildRoot: ROOT, port: 18_470, upstreamUrl: upstream.url, probe: false, nodeArgs: PROFILED_NODE_ARGS });
      dataDirs.push(started.dataDir);
      target = started;
    }
    process.stderr.write(`${TARGET} ${STREAM ? "stream" : "json"}: warm-up ${WARMUP_SECONDS} s at ${RATE} req/s …\n`);
    await load(target, STREAM, { rate: RATE, concurrency: 32, seconds: WARMUP_SECONDS });
    process.stderr.write(`recording ${SECONDS} s …\n`);
    const perfData = path.join(OUT, "perf.data");
    const perf = spawn("perf", ["record", "-q", "-F", String(SAMPLE_HZ), "-g", "-o", perfData, "-p", String(target.pid), "--", "sleep", String(SECONDS)], { stdio: "ignore" });
    const recorded = new Promise<void>((resolve) => perf.on("exit", () => resolve()));
    const result = await load(target, STREAM, { rate: RATE, concurrency: 32, seconds: SECONDS + 1 });
    await recorded;
    // Stopped now (V8 has written its last map lines); the `finally` below then has nothing left to stop.
    await stopAll(children.splice(0), dataDirs.splice(0));
    const mapFile = `/tmp/perf-${target.pid}.map`;
    try {
      copyFileSync(mapFile, path.join(OUT, "perf.map.orig"));
      const cleaned = cleanPerfMap(readFileSync(mapFile, "utf8"));
      const text = cleaned.map((entry) => `${entry.start.toString(16)} ${entry.size.toString(16)} ${entry.name}`).join("\n");
      writeFileSync(mapFile, `${text}\n`);
      copyFileSync(mapFile, path.join(OUT, "perf.map"));
    } catch {
      // the floor proxy runs without a perf map: its JavaScript frames stay unnamed
    }
    const loadLine = `load: ${result.count} requests, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms (client-side, while recording)`;
    const summary = `${TARGET} ${STREAM ? "stream" : "json"} at ${RATE} req/s, ${SECONDS} s recorded; ${loadLine}\n${placementLine()}\n\n${await summarize(perfData, RATE * SECONDS)}\n`;
    writeFileSync(path.join(OUT, "summary.txt"), summary);
    process.stdout.write(summary);
    process.stderr.write(`perf.data, maps and summary.txt in ${OUT}\n`);
  } finally {
    if (children.length > 0) await stopAll(children, dataDirs);
  }
}

await main();
