/**
 * Prometheus metrics (prom-client), served at `/metrics`. One registry per Clawfleet instance so tests and
 * several instances in one process do not collide.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface GatewayMetrics {
  registry: Registry;
  /** Time spent inside Clawfleet per model call, excluding the upstream (ms). */
  overhead: Histogram<"api">;
  /** Model calls by client API, provider and status code. */
  requests: Counter<"api" | "provider" | "status">;
  /** Upstream time per model call until the answer was complete (ms). */
  upstreamDuration: Histogram<"provider">;
  /** Tokens by provider and kind (`input`, `output`, `cache_read`, `cache_write`). */
  tokens: Counter<"provider" | "kind">;
  /** Cost in USD by provider. */
  costUsd: Counter<"provider">;
}

/**
 * How often the event-loop delay (`clawfleet_process_nodejs_eventloop_lag_*`) is sampled, in ms. prom-client's default,
 * 10 ms, wakes the event loop 100 times a second even when no request is in flight, and each wake-up is one more
 * time the main thread waits for a CPU beside the requests it serves.
 */
const EVENT_LOOP_MONITORING_PRECISION_MS = 100;

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "clawfleet_process_", eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_PRECISION_MS });
  return {
    registry,
    overhead: new Histogram({
      name: "clawfleet_gateway_overhead_ms",
      help: "Time spent inside Clawfleet per model call, excluding the upstream, in milliseconds",
      labelNames: ["api"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100],
      registers: [registry],
    }),
    requests: new Counter({ name: "clawfleet_gateway_requests_total", help: "Model calls by client API, provider and HTTP status", labelNames: ["api", "provider", "status"], registers: [registry] }),
    upstreamDuration: new Histogram({
      name: "clawfleet_gateway_upstream_duration_ms",
      help: "Upstream time per model call until the answer was complete, in milliseconds",
      labelNames: ["provider"],
      buckets: [5, 25, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000],
      registers: [registry],
    }),
    tokens: new Counter({ name: "clawfleet_gateway_tokens_total", help: "Tokens by provider and kind", labelNames: ["provider", "kind"], registers: [registry] }),
    costUsd: new Counter({ name: "clawfleet_gateway_cost_usd_total", help: "Cost of model calls in US dollars", labelNames: ["provider"], registers: [registry] }),
  };
}
