// Interleaved load generator for the gateway benchmarks: ONE process, one keep-alive pool per target, and the
// targets take turns in slots (bench:gateway: 5 s) at the same open-loop rate, in a different order every cycle
// (a balanced Latin square: every target follows every other about equally often; see `balancedOrders`). Every
// target is thus measured across the same stretch of wall-clock time, so a slow spell of the machine (this VM
// descheduling a vCPU, another tenant's job) lands on all of them alike instead of on whichever ran then; the
// percentiles are pooled over all of a target's slots (p99 of 16,000 requests is the 160th slowest, not the
// 40th of one 8 s run). Run as its own process so its work does not share the measuring script's event loop.
//
// Argument: JSON {targets: [{name, url, headers}], path, body, rate, slotMs, settleMs?, drainLimitMs?, cycles,
// warmupCycles, connections}.
// - Each cycle gives every target one slot of `slotMs`; within a slot requests start at `rate` per second,
//   open loop (request k at slotStart + k / rate, whatever the answers do; latency is measured from that
//   scheduled start, so queueing inside a target cannot hide: no coordinated omission).
// - The first `warmupCycles` cycles are sent but not counted (connections, JIT, the server's caches), nor are
//   the requests of the first `settleMs` (default 0) of every slot: a server that sat idle while the others had
//   their turns starts its turn with cold CPU caches and, after more than its keep-alive timeout, with new
//   connections, which a server under steady load does not have.
// Prints one JSON line: {elapsedSeconds, targets: {<name>: {count, errors, non2xx, p50, p90, p99, p999, max,
// halves: [p99 of even cycles, p99 of odd cycles], lagP50, lagP99, heldBackMs, overhead?}}} (latencies in ms).
// `halves` shows how stable the pooled p99 is; `lag*` is the generator's own lateness (handed to undici minus
// scheduled: part of every target's latency); `heldBackMs`, how long the target's backlog delayed the next turn
// (below); `overhead` is the distribution of the `x-clawfleet-overhead-ms` answer header.
import { performance } from "node:perf_hooks";
import { Pool } from "undici";

const options = JSON.parse(process.argv[2]);
const state = options.targets.map((target) => ({
  ...target,
  pool: new Pool(target.url, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 }),
  latencies: [],
  byHalf: [[], []],
  lags: [],
  overheads: [],
  errors: 0,
  non2xx: 0,
  heldBackMs: 0,
}));

async function one(target, scheduledMs, counted, half) {
  const lag = performance.now() - scheduledMs;
  let overhead = Number.NaN;
  let failed = false;
  let status = 0;
  try {
    const response = await target.pool.request({ method: "POST", path: options.path, headers: target.headers, body: options.body });
    await response.body.dump({ limit: 1 << 30 });
    status = response.statusCode;
    const header = response.headers["x-clawfleet-overhead-ms"];
    if (typeof header === "string") overhead = Number(header);
  } catch {
    failed = true;
  }
  const ms = performance.now() - scheduledMs;
  if (!counted) return;
  if (failed) target.errors += 1;
  else if (status >= 300) target.non2xx += 1;
  target.latencies.push(ms);
  target.byHalf[half].push(ms);
  target.lags.push(lag);
  if (!Number.isNaN(overhead)) target.overheads.push(overhead);
}

const intervalMs = 1000 / options.rate;
const settleMs = options.settleMs ?? 0;
const perSlot = Math.round((options.slotMs / 1000) * options.rate);
const startedMs = performance.now();
const inFlight = new Set();
const totalCycles = options.warmupCycles + options.cycles;
/**
 * The orders of a balanced Latin square (Williams design, E. J. Williams, "Experimental designs balanced for the
 * estimation of residual effects of treatments", Australian Journal of Scientific Research A 2 (1949) 149-168) for `n`
 * targets: `n` orders (`2n` when `n` is odd: each order and its reverse) in which every target takes every position
 * once and directly follows every other target once (twice for odd `n`). A plain rotation would not do: it keeps
 * the same neighbours in every cycle, so whatever an overloaded target leaves behind (its backlog's aftermath,
 * its garbage collection) would always land on the one target that follows it.
 */
function balancedOrders(n) {
  const first = Array.from({ length: n }, (_, position) => (position === 0 ? 0 : position % 2 === 1 ? (position + 1) / 2 : n - position / 2));
  const orders = Array.from({ length: n }, (_, shift) => first.map((index) => (index + shift) % n));
  return n % 2 === 1 ? [...orders, ...orders.map((order) => [...order].reverse())] : orders;
}

// The slot plan: cycle c runs the targets in order c of the balanced square (cycling through its orders), so no
// target always follows the same other. Within the orders the neighbours are exactly balanced; the turns where one
// cycle ends and the next begins add a few pairs more (bench:gateway, 5 targets, 8 cycles: every target follows
// every other one to three times).
const orders = balancedOrders(state.length);
const slots = [];
for (let cycle = 0; cycle < totalCycles; cycle += 1) {
  for (const index of orders[cycle % orders.length]) slots.push({ cycle, target: state[index] });
}
// A target that cannot keep up builds a backlog; were the next turn to start on time, that backlog would still be
// burning CPU during another target's turn and charge it the overloaded target's cost. So a turn starts at the
// nominal end of the one before or once all of that turn's requests are answered, whichever is later (at most
// `drainLimitMs` later, default 10 s); the time a target held the next turn back is reported as its `heldBackMs`.
const drainLimitMs = options.drainLimitMs ?? 10_000;
await new Promise((resolve) => {
  let slotIndex = 0;
  let sentInSlot = 0;
  let slotStart = startedMs;
  let turn = { pending: 0, lastAnsweredMs: 0 };
  const timer = setInterval(() => {
    const now = performance.now();
    for (;;) {
      const slot = slots[slotIndex];
      if (!slot) {
        clearInterval(timer);
        resolve();
        return;
      }
      // Requests 0 … due-1 of this slot are scheduled at or before now.
      const due = Math.min(perSlot, Math.floor((now - slotStart) / intervalMs) + 1);
      for (; sentInSlot < due; sentInSlot += 1) {
        const counted = slot.cycle >= options.warmupCycles && sentInSlot * intervalMs >= settleMs;
        const current = turn;
        current.pending += 1;
        const promise = one(slot.target, slotStart + sentInSlot * intervalMs, counted, slot.cycle % 2).finally(() => {
          inFlight.delete(promise);
          current.pending -= 1;
          current.lastAnsweredMs = performance.now();
        });
        inFlight.add(promise);
      }
      if (sentInSlot < perSlot) return;
      const nominalEndMs = slotStart + options.slotMs;
      if (now < nominalEndMs) return;
      const drained = turn.pending === 0;
      if (!drained && now < nominalEndMs + drainLimitMs) return;
      const nextStart = drained ? Math.max(nominalEndMs, turn.lastAnsweredMs) : now;
      slot.target.heldBackMs += nextStart - nominalEndMs;
      slotIndex += 1;
      sentInSlot = 0;
      slotStart = nextStart;
      turn = { pending: 0, lastAnsweredMs: 0 };
      if (slotStart > now) return;
    }
  }, 1);
});
await Promise.all(inFlight);

const sorted = (values) => Float64Array.from(values).sort();
const at = (values, fraction) => values[Math.min(values.length - 1, Math.floor(fraction * values.length))] ?? Number.NaN;
const targets = {};
for (const target of state) {
  const latency = sorted(target.latencies);
  const lag = sorted(target.lags);
  const overhead = sorted(target.overheads);
  targets[target.name] = {
    count: latency.length,
    errors: target.errors,
    non2xx: target.non2xx,
    p50: at(latency, 0.5),
    p90: at(latency, 0.9),
    p99: at(latency, 0.99),
    p999: at(latency, 0.999),
    max: latency.at(-1) ?? Number.NaN,
    halves: target.byHalf.map((values) => at(sorted(values), 0.99)),
    lagP50: at(lag, 0.5),
    lagP99: at(lag, 0.99),
    heldBackMs: target.heldBackMs,
    ...(overhead.length > 0 ? { overhead: { p50: at(overhead, 0.5), p90: at(overhead, 0.9), p99: at(overhead, 0.99), max: overhead.at(-1) } } : {}),
  };
  await target.pool.close();
}
process.stdout.write(`${JSON.stringify({ elapsedSeconds: (performance.now() - startedMs) / 1000, targets })}\n`);
