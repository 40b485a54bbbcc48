/**
 * Model routing: config schemas, plan resolution (aliases, default, policy overrides, load balancing), and
 * plan execution (retries with backoff and jitter, fallbacks, circuit breakers, timeouts). Core logic with
 * injected clock, randomness and sleep; provider adapters come in through an {@link AdapterLookup}.
 */
export * from "./adapter-attempts.js";
export * from "./circuit-breaker.js";
export * from "./config.js";
export * from "./execute.js";
export * from "./load-balance.js";
export * from "./plan.js";
export * from "./retry.js";
export * from "./router.js";
