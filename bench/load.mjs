// Load generator for the gateway benchmark, run as its own process so its work does not share the event loop
// of the measuring script. Argument: JSON {url, path, headers, body, durationSeconds, rate?, concurrency, detail?}.
// - with `rate`: open loop, requests started at that many per second whatever the answers do (latency is
//   measured from the scheduled start, so a stalled server cannot hide queueing: no coordinated omission);
// - without: closed loop, `concurrency` requests in flight for the whole duration (maximum throughput).
// Prints one JSON line: {waitMs, count, errors, non2xx, requestsPerSecond, p50, p90, p99, max, lagP50, lagP99,
// lagMax, overhead?} (latencies in ms; `waitMs`: how long this process's main thread waited for a CPU). `lag*` is the generator's own lateness: when a request was handed to undici minus
// when it was scheduled (timer accuracy and the generator's own pauses; it is part of every target's latency).
// `overhead` is the distribution of the `x-clawfleet-overhead-ms` answer header when the target sends one.
// With `detail: true` it also prints `slow`: the slowest 1 % as {seq, at (epoch ms of the scheduled start), ms,
// overheadMs}, to match against pauses recorded inside the server (bench/probe.mjs); each request then carries
// `x-bench-seq: <seq>` so the probe can also time it inside the server. `detail: "all"` adds `all`: every request.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";

const options = JSON.parse(process.argv[2]);
const pool = new Pool(options.url, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
const latencies = [];
const lags = [];
const overheads = [];
const detail = options.detail ? [] : null;
let errors = 0;
let non2xx = 0;

let sequence = 0;
async function one(scheduledMs) {
  lags.push(performance.now() - scheduledMs);
  const seq = sequence++;
  let overhead = Number.NaN;
  try {
    const headers = detail ? { ...options.headers, "x-bench-seq": String(seq) } : options.headers;
    const response = await pool.request({ method: "POST", path: options.path, headers, body: options.body });
    await response.body.dump({ limit: 1 << 30 });
    if (response.statusCode >= 300) non2xx += 1;
    const header = response.headers["x-clawfleet-overhead-ms"];
    if (typeof header === "string") overhead = Number(header);
  } catch {
    errors += 1;
  }
  const ms = performance.now() - scheduledMs;
  latencies.push(ms);
  if (!Number.isNaN(overhead)) overheads.push(overhead);
  if (detail) detail.push({ seq, at: performance.timeOrigin + scheduledMs, ms, overheadMs: overhead });
}

// Run-queue wait of this process's main thread (ns, /proc/self/task/<pid>/schedstat): time it was ready but had no CPU.
const mainWaitNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[1]);
const waitBefore = mainWaitNs();
const startedMs = performance.now();
const endMs = startedMs + options.durationSeconds * 1000;
const inFlight = new Set();
if (options.rate) {
  const intervalMs = 1000 / options.rate;
  let sent = 0;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= endMs) {
        clearInterval(timer);
        resolve();
        return;
      }
      // Requests 0 … due-1 are scheduled at or before now (request k at startedMs + k × intervalMs).
      const due = Math.floor((now - startedMs) / intervalMs) + 1;
      for (; sent < due; sent += 1) {
        const promise = one(startedMs + sent * intervalMs).finally(() => inFlight.delete(promise));
        inFlight.add(promise);
      }
    }, 1);
  });
} else {
  const worker = async () => {
    while (performance.now() < endMs) await one(performance.now());
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}
await Promise.all(inFlight);
const elapsedSeconds = (performance.now() - startedMs) / 1000;
const sorted = (values) => Float64Array.from(values).sort();
const at = (values, fraction) => values[Math.min(values.length - 1, Math.floor(fraction * values.length))] ?? Number.NaN;
const latency = sorted(latencies);
const lag = sorted(lags);
const overhead = sorted(overheads);
const result = {
  waitMs: (mainWaitNs() - waitBefore) / 1e6,
  count: latency.length,
  errors,
  non2xx,
  requestsPerSecond: latency.length / elapsedSeconds,
  p50: at(latency, 0.5),
  p90: at(latency, 0.9),
  p99: at(latency, 0.99),
  max: latency.at(-1) ?? Number.NaN,
  lagP50: at(lag, 0.5),
  lagP99: at(lag, 0.99),
  lagMax: lag.at(-1) ?? Number.NaN,
  ...(overhead.length > 0 ? { overhead: { p50: at(overhead, 0.5), p90: at(overhead, 0.9), p99: at(overhead, 0.99), max: overhead.at(-1) } } : {}),
  ...(options.detail === "all" ? { all: [...detail] } : {}),
  ...(detail ? { slow: detail.sort((left, right) => right.ms - left.ms).slice(0, Math.ceil(detail.length / 100)) } : {}),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
await pool.close();
