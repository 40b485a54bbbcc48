// Diagnostic preload for the gateway benchmark (`node --import bench/probe.mjs …`, only with BENCH_PROBE=1):
// inside the measured server it records
//   - the event-loop delay histogram (perf_hooks.monitorEventLoopDelay, 1 ms resolution),
//   - every GC pause (PerformanceObserver "gc": start as epoch ms, duration, kind),
//   - every synchronous better-sqlite3 call on the event loop (transaction functions and statement run/all/get
//     outside a transaction: start as epoch ms, duration),
//   - event-loop stalls seen by a 1 ms interval (gap − 1 ms > 1 ms: start, duration).
// On SIGUSR2 it writes everything since the previous SIGUSR2 as one JSON line to $BENCH_PROBE_OUT and resets.
// BENCH_PROBE_LIGHT=1 leaves out the two 1 ms timers (loop-delay histogram and stall detector): they keep the
// event loop from ever sleeping, which changes how this VM schedules the server; GC pauses and SQLite calls are
// still recorded.
// Epoch times come from performance.timeOrigin + performance.now(), as in bench/load.mjs, so slow requests
// can be matched against pauses.
import { appendFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { Session } from "node:inspector";
import { createRequire } from "node:module";
import path from "node:path";
import { monitorEventLoopDelay, performance, PerformanceObserver } from "node:perf_hooks";

const out = process.env.BENCH_PROBE_OUT;
const epoch = () => performance.timeOrigin + performance.now();
const kinds = { 1: "scavenge", 2: "mark-sweep-compact", 4: "incremental", 8: "weak-callbacks", 16: "minor-mark-sweep" };
let gc = [];
let sqlite = [];
let stalls = [];
// Requests that carry `x-bench-seq` (bench/load.mjs with detail): seq → [arrival, finish] as epoch ms, where
// arrival is when Node's HTTP server emitted 'request' (headers parsed) and finish when the answer was handed to
// the kernel ('finish').
let requests = {};
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function timedEmit(event, request, response) {
  if (event === "request") {
    const seq = request.headers["x-bench-seq"];
    if (seq !== undefined) {
      const entry = [epoch(), 0];
      requests[seq] = entry;
      response.once("finish", () => (entry[1] = epoch()));
    }
  }
  return emit.apply(this, arguments);
};
const light = process.env.BENCH_PROBE_LIGHT === "1";
const histogram = monitorEventLoopDelay({ resolution: 1 });
if (!light) histogram.enable();

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gc.push({ at: performance.timeOrigin + entry.startTime, ms: entry.duration, kind: kinds[entry.detail?.kind] ?? String(entry.detail?.kind) });
}).observe({ entryTypes: ["gc"] });

let last = performance.now();
if (!light) setInterval(() => {
  const now = performance.now();
  if (now - last > 2) stalls.push({ at: performance.timeOrigin + last, ms: now - last - 1 });
  last = now;
}, 1).unref();

// better-sqlite3 from the server's own node_modules (cwd = the build being measured).
try {
  const require = createRequire(path.join(process.cwd(), "package.json"));
  const Database = require("better-sqlite3");
  const transaction = Database.prototype.transaction;
  Database.prototype.transaction = function timedTransaction(fn) {
    const wrapped = transaction.call(this, fn);
    const timed = function (...args) {
      const started = epoch();
      try {
        return wrapped.apply(this, args);
      } finally {
        sqlite.push({ at: started, ms: epoch() - started, what: "transaction", rows: Array.isArray(args[0]) ? args[0].length : undefined });
      }
    };
    for (const variant of ["deferred", "immediate", "exclusive"]) timed[variant] = wrapped[variant];
    return timed;
  };
  const prepare = Database.prototype.prepare;
  let patched = false;
  Database.prototype.prepare = function timedPrepare(...args) {
    const started = epoch();
    const statement = prepare.apply(this, args);
    sqlite.push({ at: started, ms: epoch() - started, what: "prepare" });
    if (!patched) {
      patched = true;
      const proto = Object.getPrototypeOf(statement);
      for (const method of ["run", "all", "get"]) {
        const original = proto[method];
        proto[method] = function (...params) {
          if (this.database.inTransaction) return original.apply(this, params);
          const begun = epoch();
          try {
            return original.apply(this, params);
          } finally {
            sqlite.push({ at: begun, ms: epoch() - begun, what: method, sql: this.source.slice(0, 60) });
          }
        };
      }
    }
    return statement;
  };
} catch (error) {
  process.stderr.write(`probe: better-sqlite3 not patched: ${error}\n`);
}

// BENCH_PROBE_HEAP=<file>: V8's sampling heap profiler, counting objects already collected by minor and major GCs
// too (so it shows what is allocated per request, not what stays); each SIGUSR2 writes the profile since the
// previous one to <file>.<n>.heapprofile (Chrome DevTools format) and restarts sampling.
const heapFile = process.env.BENCH_PROBE_HEAP;
let heapRound = 0;
const session = heapFile ? new Session() : null;
const startSampling = () => session?.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.BENCH_PROBE_HEAP_PROMOTED !== "1" });
if (session) {
  session.connect();
  startSampling();
}

process.on("SIGUSR2", () => {
  if (session) {
    const round = heapRound++;
    session.post("HeapProfiler.stopSampling", (error, result) => {
      if (!error) writeFileSync(`${heapFile}.${round}.heapprofile`, JSON.stringify(result.profile));
      startSampling();
    });
  }
  const percentile = (p) => histogram.percentile(p) / 1e6;
  const line = {
    pid: process.pid,
    at: epoch(),
    eventLoopDelayMs: { p50: percentile(50), p99: percentile(99), p999: percentile(99.9), max: histogram.max / 1e6, mean: histogram.mean / 1e6 },
    gc,
    sqlite,
    stalls,
    requests,
    memory: process.memoryUsage(),
  };
  if (out) appendFileSync(out, `${JSON.stringify(line)}\n`);
  histogram.reset();
  gc = [];
  sqlite = [];
  stalls = [];
  requests = {};
});
