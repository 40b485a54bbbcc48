/**
 * The routing engine as one object, built from the routing config snapshot: `plan` a request, `execute` the
 * plan. Rebuild it when the config changes and pass the same {@link CircuitBreakerRegistry}, so breaker
 * states survive reloads.
 */
import { CircuitBreakerRegistry } from "./circuit-breaker.js";
import type { RoutingConfig } from "./config.js";
import { type AttemptFunction, type ExecuteResult, type SetTimer, type Sleep, execute } from "./execute.js";
import type { RandomSource } from "./load-balance.js";
import { type PlanOptions, type RoutePlan, type RoutingRequest, resolvePlan, routeAliases } from "./plan.js";

/** Injected effects (all optional; real ones by default). */
export interface RouterDependencies {
  /** Shared breakers; reused across reloads (its settings are replaced by the config's). */
  breakers?: CircuitBreakerRegistry;
  /** Values in [0, 1): load-balancing order and backoff jitter. */
  random?: RandomSource;
  /** Epoch ms. */
  now?: () => number;
  sleep?: Sleep;
  setTimer?: SetTimer;
  /** Serves provider model ids that are no alias (see `PlanOptions.directTarget`). */
  directTarget?: PlanOptions["directTarget"];
}

export interface Router {
  readonly breakers: CircuitBreakerRegistry;
  /**
   * The plan of one request (see plan.ts).
   * @throws ClawfleetError `CF_MODEL_NOT_FOUND` for a model that is no route alias (nor a direct model).
   */
  plan(request: RoutingRequest): RoutePlan;
  /** Runs the plan (see execute.ts for retries, fallbacks, breakers, timeouts and what is thrown). */
  execute<Result>(plan: RoutePlan, attempt: AttemptFunction<Result>, options: { requestId: string; signal?: AbortSignal }): Promise<ExecuteResult<Result>>;
  /** Route aliases in config order, for `/v1/models`. */
  aliases(): string[];
}

/** Builds the routing engine of one config snapshot. Pure construction: no I/O. */
export function createRouter(config: RoutingConfig, dependencies: RouterDependencies = {}): Router {
  const now = dependencies.now ?? Date.now;
  const random = dependencies.random ?? Math.random;
  const breakers = dependencies.breakers ?? new CircuitBreakerRegistry(config.circuitBreaker, now);
  breakers.configure(config.circuitBreaker);
  const planOptions: PlanOptions = { random, ...(dependencies.directTarget ? { directTarget: dependencies.directTarget } : {}) };
  return {
    breakers,
    plan: (request) => resolvePlan(config, request, planOptions),
    execute: (plan, attempt, options) =>
      execute(plan, attempt, {
        breakers,
        requestId: options.requestId,
        ...(options.signal ? { signal: options.signal } : {}),
        random,
        now,
        ...(dependencies.sleep ? { sleep: dependencies.sleep } : {}),
        ...(dependencies.setTimer ? { setTimer: dependencies.setTimer } : {}),
      }),
    aliases: () => routeAliases(config),
  };
}
