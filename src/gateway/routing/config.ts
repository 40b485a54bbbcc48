/**
 * Configuration of model routing: routes (an alias callers use → ordered provider targets, with timeouts and
 * retries per target), the circuit breaker shared by every target, and policy routing (which route a request
 * gets by tag, tenant or profile). Closed zod schemas; the config loader embeds them in `clawfleet.yaml`:
 *
 * ```yaml
 * routes:
 *   - alias: default
 *     strategy: fallback            # or loadbalance (weighted random order; the others stay fallbacks)
 *     targets:
 *       - { provider: openai, model: gpt-4o-mini, timeouts: { firstByteMs: 60000 }, retries: { attempts: 2 } }
 * circuitBreaker: { failureThreshold: 5, cooldownMs: 30000 }
 * policies:
 *   default: default
 *   overrides:
 *     - { match: { tag: high_privacy }, route: local-only }
 * ```
 *
 * Units are in the names (`…Ms` milliseconds). Numbers are coerced (environment variables land here as text),
 * like the rest of the config schema.
 */
import { z } from "zod";

/** Same rule as the model alias of the config schema: what callers write in `model`. */
const aliasSchema = z.string().min(1).regex(/^[A-Za-z0-9._:/-]+$/, "route alias: letters, digits and . _ : / -");
/** Same rule as `providers[].id`. */
const providerIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "provider id: lowercase letters, digits, '-' or '_'");
const positiveMs = z.coerce.number().int().min(1);
const nonNegativeMs = z.coerce.number().int().min(0);
/** Tags are compared case-insensitively; see `parseTagsHeader`. */
const tagSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, "tag: letters, digits and . _ : -");

/** Timeouts of one target (ms). The provider adapter enforces them; the router adds a backstop (see execute.ts). */
export const targetTimeoutsSchema = z
  .strictObject({
    connectMs: positiveMs.default(5_000).describe("Longest time to establish a connection"),
    firstByteMs: positiveMs.default(60_000).describe("Longest time from sending the request to the first byte (streams: the first event)"),
    idleMs: positiveMs.default(30_000).describe("Longest silence between two chunks of a streamed answer"),
  });

/** Retries of one target after its first try: exponential backoff with full jitter, capped. */
export const targetRetriesSchema = z
  .strictObject({
    attempts: z.coerce.number().int().min(0).max(10).default(2).describe("Retries after the first try (0 = try once)"),
    initialBackoffMs: nonNegativeMs.default(250).describe("Backoff cap of the first retry; doubles per retry"),
    maxBackoffMs: nonNegativeMs.default(8_000).describe("Largest backoff; a retry-after above it moves on to the next target"),
  })
  .refine((retries) => retries.initialBackoffMs <= retries.maxBackoffMs, {
    message: "initialBackoffMs must not exceed maxBackoffMs",
    path: ["initialBackoffMs"],
  });

/** One place a route can send a request: a provider and that provider's own model id. */
export const routeTargetSchema = z.strictObject({
  provider: providerIdSchema.describe("Provider id (providers[].id)"),
  model: z.string().min(1).describe("The provider's own model id"),
  weight: z.coerce.number().positive().finite().optional().describe("loadbalance routes only: relative share of first picks (default 1)"),
  timeouts: targetTimeoutsSchema.prefault({}),
  retries: targetRetriesSchema.prefault({}),
});

/**
 * A route: the model id callers use (`alias`) and its targets. `fallback` tries targets in order;
 * `loadbalance` orders them by weighted random choice without replacement (the others remain fallbacks).
 * A `weight` on a `fallback` route is an error rather than silently ignored.
 */
export const routeSchema = z
  .strictObject({
    alias: aliasSchema.describe("The model id callers use"),
    strategy: z.enum(["fallback", "loadbalance"]).default("fallback"),
    targets: z.array(routeTargetSchema).min(1),
  })
  .superRefine((route, context) => {
    if (route.strategy === "loadbalance") return;
    route.targets.forEach((target, index) => {
      if (target.weight !== undefined) {
        context.addIssue({ code: "custom", path: ["targets", index, "weight"], message: "weight applies to loadbalance routes only" });
      }
    });
  });

/** Circuit breaker per target (provider + model): opens after consecutive failures, half-opens after the cooldown. */
export const circuitBreakerSchema = z.strictObject({
  failureThreshold: z.coerce.number().int().min(1).default(5).describe("Consecutive failures that open the breaker"),
  cooldownMs: positiveMs.default(30_000).describe("How long an open breaker skips its target before one trial call"),
});

/** What an override matches. Every field given must match (at least one is required). */
export const policyMatchSchema = z
  .strictObject({
    tag: tagSchema.optional().describe("A tag of the request (x-clawfleet-tags), compared case-insensitively"),
    tenant: z.string().min(1).optional().describe("Tenant id"),
    profile: z.string().min(1).optional().describe("Agent profile name"),
  })
  .refine((match) => match.tag !== undefined || match.tenant !== undefined || match.profile !== undefined, {
    message: "match needs at least one of tag, tenant, profile",
  });

/** A policy override: a request it matches is sent to `route` instead of the route it asked for. */
export const policyOverrideSchema = z.strictObject({
  match: policyMatchSchema,
  route: aliasSchema.describe("Alias of the route that replaces the requested one"),
});

/**
 * Policy routing. `default` is the route used when the caller's model is `default` or absent; `overrides` are
 * checked in order and the first that matches replaces the requested route (e.g. `high_privacy` → local only).
 */
export const routingPolicySchema = z.strictObject({
  default: aliasSchema.optional().describe("Route alias for requests whose model is `default` or absent"),
  overrides: z.array(policyOverrideSchema).default([]),
});

/**
 * The routing section as a whole, with its cross-references checked by {@link routingReferenceIssues}
 * (provider ids excepted: the providers live elsewhere in the config).
 */
export const routingConfigSchema = z
  .strictObject({
    routes: z.array(routeSchema).default([]),
    circuitBreaker: circuitBreakerSchema.prefault({}),
    policies: routingPolicySchema.prefault({}),
  })
  .superRefine((routing, context) => {
    for (const issue of routingReferenceIssues(routing)) context.addIssue({ code: "custom", path: issue.path, message: issue.message });
  });

export type TargetTimeouts = z.infer<typeof targetTimeoutsSchema>;
export type TargetRetries = z.infer<typeof targetRetriesSchema>;
export type RouteTargetConfig = z.infer<typeof routeTargetSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
export type CircuitBreakerConfig = z.infer<typeof circuitBreakerSchema>;
export type PolicyMatch = z.infer<typeof policyMatchSchema>;
export type PolicyOverride = z.infer<typeof policyOverrideSchema>;
export type RoutingPolicy = z.infer<typeof routingPolicySchema>;
/** The validated routing section (defaults applied). */
export type RoutingConfig = z.infer<typeof routingConfigSchema>;
/** What the routing section of a config file may contain. */
export type RoutingConfigInput = z.input<typeof routingConfigSchema>;

/** One problem found by {@link routingReferenceIssues}: a path into the routing section and a message. */
export interface RoutingReferenceIssue {
  path: Array<string | number>;
  message: string;
}

/**
 * Cross-reference problems of the routing settings, all in one pass: duplicate route aliases,
 * `policies.default` or an override's `route` naming no route, and (when `providerIds` is given) targets
 * naming an unknown provider. Paths are relative to the object holding `routes` and `policies` (the config
 * root when they sit there). The config loader calls it from its own superRefine with `providers[].id`.
 * Returns [] when every reference resolves.
 */
export function routingReferenceIssues(
  routing: { routes: readonly RouteConfig[]; policies?: RoutingPolicy },
  providerIds?: Iterable<string>,
): RoutingReferenceIssue[] {
  const issues: RoutingReferenceIssue[] = [];
  const aliases = new Set<string>();
  routing.routes.forEach((route, index) => {
    if (aliases.has(route.alias)) issues.push({ path: ["routes", index, "alias"], message: `duplicate route alias "${route.alias}"` });
    aliases.add(route.alias);
  });
  const policyDefault = routing.policies?.default;
  if (policyDefault !== undefined && !aliases.has(policyDefault)) {
    issues.push({ path: ["policies", "default"], message: `no route with alias "${policyDefault}"` });
  }
  (routing.policies?.overrides ?? []).forEach((override, index) => {
    if (!aliases.has(override.route)) issues.push({ path: ["policies", "overrides", index, "route"], message: `no route with alias "${override.route}"` });
  });
  if (providerIds === undefined) return issues;
  const known = new Set(providerIds);
  routing.routes.forEach((route, routeIndex) => {
    route.targets.forEach((target, targetIndex) => {
      if (!known.has(target.provider)) {
        issues.push({ path: ["routes", routeIndex, "targets", targetIndex, "provider"], message: `no provider with id "${target.provider}"` });
      }
    });
  });
  return issues;
}
