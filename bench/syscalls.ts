/**
 * System calls per request of one or more Clawfleet builds side by side (`npx tsx bench/syscalls.ts`): each build's
 * `clawfleet serve` in front of the fast fake upstream, BENCH_WARMUP_SECONDS (4) at BENCH_RATE (200) req/s, then
 * `strace -f -c` attached to the server (every thread) for BENCH_SECONDS (5) under the same load. Prints, per build
 * and mode, the calls per request of every syscall made at least 0.05 times per request. Counts, not times: strace
 * slows the server, so its latencies mean nothing here, but how many calls a request costs does not change.
 *
 * Environment: BENCH_BUILDS ("name=/path,…", each a checkout with `dist/` built; default: this checkout as `this`),
 * BENCH_FLOOR=1 (also the floor proxy, bench/floor-proxy.mjs: what a request costs a Node.js process that only proxies), BENCH_MODES ("json,stream"), BENCH_RATE, BENCH_SECONDS, BENCH_WARMUP_SECONDS. Needs `strace` (Debian: strace) and
 * permission to trace another process (root, or kernel.yama.ptrace_scope 0). Bounded: fixed rate and durations.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { load, placementLine, ROOT, startClawfleet, startFloorProxy, startUpstream, stopAll, underStrace, type Target } from "./harness.js";

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 4);
const MODES = (process.env.BENCH_MODES ?? "json,stream").split(",").map((mode) => mode.trim());
const FLOOR = process.env.BENCH_FLOOR === "1";
const BUILDS = (process.env.BENCH_BUILDS ?? `this=${ROOT}`).split(",").map((entry) => {
  const [name, buildRoot] = entry.split("=");
  if (!name || !buildRoot) throw new Error(`BENCH_BUILDS: expected name=/path, got "${entry}"`);
  return { name, buildRoot };
});

/** Calls per syscall from the table `strace -c` writes (`% time seconds usecs/call calls [errors] syscall`). */
function parseStraceSummary(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5 || !/^\d/.test(fields[0] ?? "")) continue;
    const name = fields[fields.length - 1] as string;
    if (name !== "total") calls.set(name, Number(fields[3]));
  }
  return calls;
}

const outDir = mkdtempSync(path.join(tmpdir(), "cf-syscalls-"));
const children: ChildProcess[] = [];
const dataDirs: string[] = [];
const rows: string[] = [];
try {
  const upstream = await startUpstream(children);
  let port = 18_700;
  const targets: Array<{ name: string; target: Target }> = [];
  if (FLOOR) targets.push({ name: "floor", target: await startFloorProxy(children, upstream.url) });
  for (const build of BUILDS) {
    const target = await startClawfleet(children, { name: build.name, buildRoot: build.buildRoot, port: port++, upstreamUrl: upstream.url, probe: false });
    dataDirs.push(target.dataDir);
    targets.push({ name: build.name, target });
  }
  for (const { name, target } of targets) {
    for (const mode of MODES) {
      const stream = mode === "stream";
      process.stderr.write(`${name} ${mode}: warm-up ${WARMUP_SECONDS} s, then strace for ${SECONDS} s at ${RATE} req/s …\n`);
      await load(target, stream, { rate: RATE, concurrency: 16, seconds: WARMUP_SECONDS });
      const summaryFile = path.join(outDir, `${name}-${mode}.txt`);
      // strace detaches on SIGINT and writes its table.
      const result = await underStrace(target.pid, ["-f", "-c", "-o", summaryFile], () => load(target, stream, { rate: RATE, concurrency: 16, seconds: SECONDS }));
      const summary = parseStraceSummary(readFileSync(summaryFile, "utf8"));
      if (summary.size === 0) throw new Error(`strace wrote no table to ${summaryFile}`);
      const perRequest = [...summary]
        .map(([name, count]) => [name, count / result.count] as const)
        .filter(([, rate]) => rate >= 0.05)
        .sort((left, right) => right[1] - left[1]);
      rows.push(`${mode.padEnd(7)} ${name.padEnd(10)} ${result.count} requests  ${perRequest.map(([name, rate]) => `${name} ${rate.toFixed(2)}`).join("  ")}`);
    }
  }
  process.stdout.write(`${placementLine()}\nsyscalls per request (strace -f -c of the server, ${RATE} req/s for ${SECONDS} s):\n${rows.join("\n")}\n`);
} finally {
  await stopAll(children, dataDirs);
  rmSync(outDir, { recursive: true, force: true });
}
