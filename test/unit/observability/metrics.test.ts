import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { createGatewayMetrics } from "../../../src/observability/metrics.js";

/** The value of the sample named `name` (no labels) in Prometheus text `exposition`. */
function sample(exposition: string, name: string): number {
  const line = exposition.split("\n").find((candidate) => candidate.startsWith(`${name} `));
  assert.ok(line, `${name} is exposed`);
  return Number(line.slice(name.length + 1));
}

const LAG_MAX = "clawfleet_process_nodejs_eventloop_lag_max_seconds";
const LAG_MIN = "clawfleet_process_nodejs_eventloop_lag_min_seconds";

test("the event-loop delay is sampled every 100 ms, not prom-client's 10 ms, and a 300 ms stall still shows in its maximum", async () => {
  const metrics = createGatewayMetrics();
  await sleep(250);
  // Node records the time between two samples: on an idle loop that is the sampling interval, so the shortest one
  // says how often the monitor wakes the loop (prom-client's default would give ~0.010 s).
  const idle = await metrics.registry.metrics();
  const lagMinSeconds = sample(idle, LAG_MIN);
  assert.ok(lagMinSeconds >= 0.095 && lagMinSeconds < 0.2, `lag min ${lagMinSeconds} s`);
  await sleep(250);
  // Each scrape reads the delay histogram and resets it; a stall within one sampling interval (100 ms) after a reset is
  // not seen (Node restarts its interval there), so the stall comes two intervals later.
  assert.ok(sample(await metrics.registry.metrics(), LAG_MAX) < 0.2, "no stall yet");
  await sleep(250);
  const stallEnds = Date.now() + 300;
  while (Date.now() < stallEnds) {
    // a synchronous stall of the event loop
  }
  await sleep(250);
  const lagMaxSeconds = sample(await metrics.registry.metrics(), LAG_MAX);
  // The sample due during the stall is taken at its end: 300 ms after the one before, up to 100 ms more.
  assert.ok(lagMaxSeconds >= 0.3 && lagMaxSeconds < 1, `lag max ${lagMaxSeconds} s`);
  metrics.registry.clear();
});
