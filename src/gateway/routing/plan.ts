/**
 * Plan resolution: which targets, in which order, serve one request. Input: the caller's model id (an alias,
 * `default`, or absent), the request's tags, tenant and agent profile. Output: a {@link RoutePlan}.
 *
 * Order of rules:
 * 1. The first policy override whose `match` applies replaces the requested route (so a request tagged
 *    `high_privacy` goes only to the targets of, say, `local-only`, whatever model it asked for).
 * 2. A model that is `default` or absent uses `policies.default` (or the route aliased `default` when unset).
 * 3. A route alias is used as it is.
 * 4. Optionally (`directTarget`), a provider's own model id is served by that provider alone.
 * Otherwise `CF_MODEL_NOT_FOUND`.
 */
import { ClawfleetError } from "../../contracts/errors.js";
import type { PolicyMatch, RouteConfig, RoutingConfig, TargetRetries, TargetTimeouts } from "./config.js";
import { targetRetriesSchema, targetTimeoutsSchema } from "./config.js";
import { type RandomSource, weightedOrder } from "./load-balance.js";

/** The model id that means "the default route". */
export const DEFAULT_MODEL_ALIAS = "default";

/** The request attributes routing looks at. */
export interface RoutingRequest {
  /** The caller's `model`; `default`, empty or absent selects the default route. */
  model?: string | undefined;
  /** Request tags (from `x-clawfleet-tags`, see {@link parseTagsHeader}); compared case-insensitively. */
  tags?: readonly string[];
  tenantId?: string | undefined;
  /** The agent profile the request runs under. */
  profile?: string | undefined;
}

/** One target of a plan, with every setting resolved. Its breaker key is `provider` + `model`. */
export interface PlannedTarget {
  provider: string;
  /** The provider's own model id (what is sent upstream). */
  model: string;
  /** Load-balancing weight (1 on fallback routes). */
  weight: number;
  timeouts: TargetTimeouts;
  retries: TargetRetries;
}

/** Why the plan uses its route. */
export type PlanReason = "requested" | "default" | "override" | "direct";

/** The ordered targets that serve one request. */
export interface RoutePlan {
  /** The model the caller asked for (`undefined` when absent): report this one back to the caller. */
  requestedModel: string | undefined;
  /** The alias of the route used (for `direct`, the requested provider model id). */
  routeAlias: string;
  reason: PlanReason;
  /** The override that applied (`reason: "override"`), with its position in `policies.overrides`. */
  override?: { index: number; match: PolicyMatch };
  strategy: RouteConfig["strategy"];
  /** Targets in the order they are tried. Never empty. */
  targets: PlannedTarget[];
}

/** Options of {@link resolvePlan}. */
export interface PlanOptions {
  /** Random source for load-balanced routes, values in [0, 1). Default `Math.random`. */
  random?: RandomSource;
  /**
   * Serves a model id that is no route alias: return the provider offering it (first one wins), or undefined.
   * The target gets default timeouts and retries. Omit to accept route aliases only.
   */
  directTarget?: (model: string) => { provider: string } | undefined;
}

/**
 * Lowercased, trimmed, de-duplicated tags of an `x-clawfleet-tags` header value (comma-separated; repeated
 * headers are joined). Empty items are dropped; `undefined` gives [].
 */
export function parseTagsHeader(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = typeof value === "string" ? value : value.join(",");
  const tags = new Set<string>();
  for (const item of text.split(",")) {
    const tag = item.trim().toLowerCase();
    if (tag !== "") tags.add(tag);
  }
  return [...tags];
}

/** True when every field of `match` that is set matches the request. */
export function policyMatches(match: PolicyMatch, request: RoutingRequest): boolean {
  if (match.tag !== undefined) {
    const wanted = match.tag.toLowerCase();
    if (!(request.tags ?? []).some((tag) => tag.toLowerCase() === wanted)) return false;
  }
  if (match.tenant !== undefined && match.tenant !== request.tenantId) return false;
  if (match.profile !== undefined && match.profile !== request.profile) return false;
  return true;
}

function modelNotFound(model: string, detail: string): ClawfleetError {
  return new ClawfleetError("CF_MODEL_NOT_FOUND", `model "${model}" is not offered by this gateway (${detail}; see GET /v1/models)`, {
    details: { model },
  });
}

/**
 * Routes by alias, built once per routes array (the config is immutable; a reload brings a new array). Hot
 * path: building this Map on every request showed up in allocation profiles.
 */
const routeMaps = new WeakMap<readonly RouteConfig[], ReadonlyMap<string, RouteConfig>>();
function routesByAlias(routes: readonly RouteConfig[]): ReadonlyMap<string, RouteConfig> {
  let map = routeMaps.get(routes);
  if (map === undefined) {
    map = new Map(routes.map((route) => [route.alias, route]));
    routeMaps.set(routes, map);
  }
  return map;
}

/**
 * The schema defaults of a direct target's timeouts and retries, parsed once (zod parsing per request was a
 * measurable share of the hot path's allocation); each plan gets its own shallow copies.
 */
let defaultSettings: { timeouts: PlannedTarget["timeouts"]; retries: PlannedTarget["retries"] } | undefined;
function defaultTargetSettings(): { timeouts: PlannedTarget["timeouts"]; retries: PlannedTarget["retries"] } {
  defaultSettings ??= { timeouts: targetTimeoutsSchema.parse({}), retries: targetRetriesSchema.parse({}) };
  return { timeouts: { ...defaultSettings.timeouts }, retries: { ...defaultSettings.retries } };
}

function plannedTargets(route: RouteConfig, random: RandomSource): PlannedTarget[] {
  const targets = route.targets.map((target) => ({
    provider: target.provider,
    model: target.model,
    weight: target.weight ?? 1,
    timeouts: target.timeouts,
    retries: target.retries,
  }));
  return route.strategy === "loadbalance" ? weightedOrder(targets, (target) => target.weight, random) : targets;
}

/**
 * Resolves the plan of one request (rules in the module docstring). Load-balanced routes draw a fresh order
 * on every call.
 * @throws ClawfleetError `CF_MODEL_NOT_FOUND` (404) when the model is neither a route alias nor (with
 *   `directTarget`) a provider model, or when the default route is requested and none is configured.
 */
export function resolvePlan(config: Pick<RoutingConfig, "routes" | "policies">, request: RoutingRequest, options: PlanOptions = {}): RoutePlan {
  const random = options.random ?? Math.random;
  const routes = routesByAlias(config.routes);
  const requestedModel = request.model === undefined || request.model === "" ? undefined : request.model;
  const build = (route: RouteConfig, reason: PlanReason, override?: RoutePlan["override"]): RoutePlan => ({
    requestedModel,
    routeAlias: route.alias,
    reason,
    ...(override ? { override } : {}),
    strategy: route.strategy,
    targets: plannedTargets(route, random),
  });

  const overrides = config.policies.overrides;
  for (let index = 0; index < overrides.length; index += 1) {
    const override = overrides[index];
    if (override === undefined || !policyMatches(override.match, request)) continue;
    const route = routes.get(override.route);
    // The config schema rejects dangling references; failing closed keeps a privacy override from leaking.
    if (!route) throw new ClawfleetError("CF_CONFIG_INVALID", `policy override ${index} names unknown route "${override.route}"`);
    return build(route, "override", { index, match: override.match });
  }

  if (requestedModel === undefined || requestedModel === DEFAULT_MODEL_ALIAS) {
    const alias = config.policies.default ?? DEFAULT_MODEL_ALIAS;
    const route = routes.get(alias);
    if (!route) throw modelNotFound(requestedModel ?? DEFAULT_MODEL_ALIAS, "no default route is configured");
    return build(route, "default");
  }

  const route = routes.get(requestedModel);
  if (route) return build(route, "requested");

  const direct = options.directTarget?.(requestedModel);
  if (direct) {
    const target: PlannedTarget = {
      provider: direct.provider,
      model: requestedModel,
      weight: 1,
      ...defaultTargetSettings(),
    };
    return { requestedModel, routeAlias: requestedModel, reason: "direct", strategy: "fallback", targets: [target] };
  }
  throw modelNotFound(requestedModel, "no route has this alias");
}

/** Route aliases callers may use, in config order (for `/v1/models`). */
export function routeAliases(config: Pick<RoutingConfig, "routes">): string[] {
  return config.routes.map((route) => route.alias);
}
