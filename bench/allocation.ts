/**
 * What one model call allocates, by function and by file (`npx tsx bench/allocation.ts`): V8's sampling heap
 * profiler inside `clawfleet serve` (through `bench/probe.mjs` with BENCH_PROBE_HEAP, counting objects that minor
 * and major GCs already collected, so it shows what is allocated per request, not what stays) while the load
 * generator holds it at a fixed rate. Allocation drives the young-generation GC: fewer bytes per request, fewer
 * scavenges, and fewer requests that wait behind one.
 *
 * Steps: fake upstream + `clawfleet serve` (the shebang's V8 flags) with the probe; BENCH_WARMUP_SECONDS (10) at
 * BENCH_RATE (500) req/s; the profile is reset; BENCH_SECONDS (10) at the same rate; the profile is read. Output:
 * bytes per request in all, by file (Clawfleet's `dist/` files, npm packages, Node.js internals) and by function
 * (BENCH_TOP rows, 30). The sampling interval is 4 KiB, so rows below ~0.1 KB per request are noise.
 *
 * Environment: BENCH_MODES ("json" or "stream"; the first), BENCH_RATE, BENCH_WARMUP_SECONDS, BENCH_SECONDS,
 * BENCH_TOP, BENCH_BUILD (a build's root directory; default this checkout). Bounded: fixed rate and durations.
 */
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { load, probeDump, ROOT, shebangNodeArgs, startClawfleet, startUpstream, stopAll } from "./harness.js";

const STREAM = (process.env.BENCH_MODES ?? "json").split(",")[0] === "stream";
const RATE = Number(process.env.BENCH_RATE ?? 500);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TOP = Number(process.env.BENCH_TOP ?? 30);
const BUILD = path.resolve(process.env.BENCH_BUILD ?? ROOT);

/** A node of a `.heapprofile` (Chrome DevTools' sampling heap profile): `selfSize` in bytes, estimated from samples. */
interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Where a frame's code lives: a Clawfleet file, an npm package, a Node.js module, or V8/native. */
function fileOf(url: string): string {
  const packageName = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (packageName) return `pkg ${packageName[1]}`;
  const ours = /\/dist\/(\S+?)\.js$/.exec(url);
  if (ours) return `cf ${ours[1]}`;
  if (url.startsWith("node:")) return url;
  return url === "" ? "(native)" : url;
}

function tally(root: ProfileNode): { total: number; byFile: Map<string, number>; byFunction: Map<string, number> } {
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  const add = (table: Map<string, number>, key: string, bytes: number) => table.set(key, (table.get(key) ?? 0) + bytes);
  const visit = (node: ProfileNode) => {
    if (node.selfSize > 0) {
      total += node.selfSize;
      const file = fileOf(node.callFrame.url);
      add(byFile, file, node.selfSize);
      add(byFunction, `${node.callFrame.functionName || "(anonymous)"}  ${file}:${node.callFrame.lineNumber + 1}`, node.selfSize);
    }
    for (const child of node.children) visit(child);
  };
  visit(root);
  return { total, byFile, byFunction };
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  const dataDirs: string[] = [];
  const heapDirectory = mkdtempSync(path.join(tmpdir(), "cf-alloc-"));
  process.env.BENCH_PROBE_HEAP = heapDirectory;
  process.env.BENCH_PROBE_LIGHT = "1";
  try {
    const upstream = await startUpstream(children);
    const target = await startClawfleet(children, { name: "clawfleet", buildRoot: BUILD, port: 18_480, upstreamUrl: upstream.url, probe: true, nodeArgs: shebangNodeArgs(BUILD) });
    dataDirs.push(target.dataDir);
    process.stderr.write(`${STREAM ? "stream" : "json"}: warm-up ${WARMUP_SECONDS} s at ${RATE} req/s …\n`);
    await load(target, STREAM, { rate: RATE, concurrency: 32, seconds: WARMUP_SECONDS });
    await probeDump(target);
    process.stderr.write(`profiling ${SECONDS} s …\n`);
    const result = await load(target, STREAM, { rate: RATE, concurrency: 32, seconds: SECONDS });
    await probeDump(target);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const files = readdirSync(heapDirectory).filter((name) => name.endsWith(".heapprofile")).sort();
    const last = files.at(-1);
    if (!last) throw new Error("the probe wrote no heap profile");
    const profile = JSON.parse(readFileSync(path.join(heapDirectory, last), "utf8")) as { head: ProfileNode };
    const { total, byFile, byFunction } = tally(profile.head);
    const requests = result.count;
    const perRequest = (bytes: number) => `${(bytes / requests / 1024).toFixed(2).padStart(7)} KB`;
    const table = (title: string, counts: Map<string, number>) =>
      [`== ${title}`, ...[...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([key, bytes]) => `${perRequest(bytes)}  ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${key}`)].join("\n");
    process.stdout.write(
      [
        `build ${BUILD}, ${STREAM ? "stream" : "json"}, ${RATE} req/s for ${SECONDS} s: ${requests} requests (${result.errors} errors), ${perRequest(total).trim()} allocated per request`,
        table("by file", byFile),
        table("by function (self)", byFunction),
        "",
      ].join("\n\n"),
    );
  } finally {
    await stopAll(children, dataDirs);
  }
}

await main();
