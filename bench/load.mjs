// Load generator for the gateway benchmark, run as its own process so its work does not share the event loop
// of the measuring script. Argument: JSON {url, path, headers, body, durationSeconds, rate?, concurrency}.
// - with `rate`: open loop, requests started at that many per second whatever the answers do (latency is
//   measured from the scheduled start, so a stalled server cannot hide queueing: no coordinated omission);
// - without: closed loop, `concurrency` requests in flight for the whole duration (maximum throughput).
// Prints one JSON line: {count, errors, non2xx, requestsPerSecond, p50, p90, p99, max} (latencies in ms).
import { Pool } from "undici";

const options = JSON.parse(process.argv[2]);
const pool = new Pool(options.url, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
const latencies = [];
let errors = 0;
let non2xx = 0;

async function one(scheduledNs) {
  try {
    const response = await pool.request({ method: "POST", path: options.path, headers: options.headers, body: options.body });
    await response.body.dump({ limit: 1 << 30 });
    if (response.statusCode >= 300) non2xx += 1;
  } catch {
    errors += 1;
  }
  latencies.push(Number(process.hrtime.bigint() - scheduledNs) / 1e6);
}

const startedNs = process.hrtime.bigint();
const endNs = startedNs + BigInt(Math.round(options.durationSeconds * 1e9));
const inFlight = new Set();
if (options.rate) {
  const intervalNs = 1e9 / options.rate;
  let sent = 0;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = process.hrtime.bigint();
      if (now >= endNs) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor(Number(now - startedNs) / intervalNs);
      for (; sent < due; sent += 1) {
        const scheduledNs = startedNs + BigInt(Math.round(sent * intervalNs));
        const promise = one(scheduledNs).finally(() => inFlight.delete(promise));
        inFlight.add(promise);
      }
    }, 1);
  });
} else {
  const worker = async () => {
    while (process.hrtime.bigint() < endNs) await one(process.hrtime.bigint());
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}
await Promise.all(inFlight);
const elapsedSeconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
latencies.sort((left, right) => left - right);
const at = (fraction) => latencies[Math.min(latencies.length - 1, Math.floor(fraction * latencies.length))] ?? Number.NaN;
process.stdout.write(`${JSON.stringify({ count: latencies.length, errors, non2xx, requestsPerSecond: latencies.length / elapsedSeconds, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies.at(-1) ?? Number.NaN })}\n`);
await pool.close();
