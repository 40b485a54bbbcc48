/**
 * How often the main thread's event loop polls and wakes per request (`npx tsx bench/loop-wakeups.ts`): the floor
 * proxy and this checkout's `clawfleet serve` (`dist/` built) in front of the fast fake upstream, each warmed 4 s at
 * 200 req/s, then `strace -e epoll_pwait` of its main thread (strace without -f: that thread only) for 5 s at the same
 * rate. Prints, per request, the polls that could sleep (timeout > 0 or -1) and those that could not (timeout 0), and
 * how many of each returned no event: a sleeping poll that returns empty is a timer waking the loop, one more time
 * the thread waits for a CPU. Counts, not times (strace slows the server). BENCH_MODES ("json,stream").
 * Needs `strace` (Debian: strace) and permission to trace another process. Bounded: fixed rate and durations.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { load, placementLine, ROOT, startClawfleet, startFloorProxy, startUpstream, stopAll, underStrace, type Target } from "./harness.js";

const children: ChildProcess[] = [];
const dataDirs: string[] = [];
const MODES = (process.env.BENCH_MODES ?? "json,stream").split(",").map((mode) => mode.trim());
const outDir = mkdtempSync(path.join(tmpdir(), "cf-wakeups-"));
try {
  const upstream = await startUpstream(children);
  const targets: Array<{ name: string; target: Target }> = [];
  targets.push({ name: "floor", target: await startFloorProxy(children, upstream.url) });
  const cf = await startClawfleet(children, { name: "this", buildRoot: ROOT, port: 18_790, upstreamUrl: upstream.url, probe: false });
  dataDirs.push(cf.dataDir);
  targets.push({ name: "this", target: cf });
  const rows: string[] = [];
  for (const { name, target } of targets) for (const MODE of MODES) {
    await load(target, MODE === "stream", { rate: 200, concurrency: 16, seconds: 4 });
    const file = path.join(outDir, `${name}-${MODE}.txt`);
    const result = await underStrace(target.pid, ["-e", "trace=epoll_pwait", "-o", file], () => load(target, MODE === "stream", { rate: 200, concurrency: 16, seconds: 5 }));
    const lines = readFileSync(file, "utf8").split("\n").filter((line) => line.includes("epoll_pwait("));
    const byTimeout = new Map<string, { calls: number; events: number; zero: number }>();
    for (const line of lines) {
      // epoll_pwait(13, [{events=EPOLLIN, …}], 1024, 6, NULL, 8) = 1
      const match = /epoll_pwait\(\d+, (?:\[.*?\]|0x[0-9a-f]+), \d+, (-?\d+)[^=]*= (\d+)/.exec(line);
      if (!match) continue;
      const key = match[1] === "0" ? "0 (no sleep)" : "> 0 or -1 (may sleep)";
      const row = byTimeout.get(key) ?? { calls: 0, events: 0, zero: 0 };
      row.calls++;
      row.events += Number(match[2]);
      if (match[2] === "0") row.zero++;
      byTimeout.set(key, row);
    }
    const kinds = [...byTimeout].sort(([left], [right]) => right.localeCompare(left));
    rows.push(`${MODE.padEnd(7)} ${name.padEnd(6)} ${result.count} requests  epoll_pwait ${(lines.length / result.count).toFixed(2)}: ${kinds.map(([kind, row]) => `timeout ${kind} ${(row.calls / result.count).toFixed(2)} (empty ${(row.zero / result.count).toFixed(2)}, events ${(row.events / result.count).toFixed(2)})`).join(", ")}`);
  }
  process.stdout.write(`${placementLine()}\nevent-loop polls of the main thread per request (strace, 200 req/s for 5 s):\n${rows.join("\n")}\n`);
} finally {
  await stopAll(children, dataDirs);
  rmSync(outDir, { recursive: true, force: true });
}
