import assert from "node:assert/strict";
import { test } from "node:test";
import { routeSchema, routingConfigSchema, routingPolicySchema, routingReferenceIssues } from "../../../src/gateway/routing/config.js";

test("defaults: fallback strategy, timeouts 5000/60000/30000 ms, 2 retries from 250 to 8000 ms, breaker 5 / 30000 ms", () => {
  const config = routingConfigSchema.parse({ routes: [{ alias: "default", targets: [{ provider: "openai", model: "gpt-4o-mini" }] }] });
  const route = config.routes[0];
  assert.equal(route?.strategy, "fallback");
  assert.deepEqual(route?.targets[0], {
    provider: "openai",
    model: "gpt-4o-mini",
    timeouts: { connectMs: 5000, firstByteMs: 60000, idleMs: 30000 },
    retries: { attempts: 2, initialBackoffMs: 250, maxBackoffMs: 8000 },
  });
  assert.deepEqual(config.circuitBreaker, { failureThreshold: 5, cooldownMs: 30000 });
  assert.deepEqual(config.policies, { overrides: [] });
});

test("partial timeouts and retries keep the other defaults; numbers from the environment are coerced", () => {
  const route = routeSchema.parse({
    alias: "fast",
    strategy: "loadbalance",
    targets: [{ provider: "a", model: "m", weight: "3", timeouts: { firstByteMs: "1000" }, retries: { attempts: 0 } }],
  });
  assert.deepEqual(route.targets[0]?.timeouts, { connectMs: 5000, firstByteMs: 1000, idleMs: 30000 });
  assert.deepEqual(route.targets[0]?.retries, { attempts: 0, initialBackoffMs: 250, maxBackoffMs: 8000 });
  assert.equal(route.targets[0]?.weight, 3);
});

test("closed objects: unknown keys are rejected at every level", () => {
  const target = { provider: "a", model: "m" };
  assert.equal(routingConfigSchema.safeParse({ routes: [], extra: 1 }).success, false);
  assert.equal(routeSchema.safeParse({ alias: "x", targets: [target], fallbacks: [] }).success, false);
  assert.equal(routeSchema.safeParse({ alias: "x", targets: [{ ...target, priority: 1 }] }).success, false);
  assert.equal(routeSchema.safeParse({ alias: "x", targets: [{ ...target, timeouts: { totalMs: 1 } }] }).success, false);
  assert.equal(routeSchema.safeParse({ alias: "x", targets: [{ ...target, retries: { jitter: true } }] }).success, false);
  assert.equal(routingPolicySchema.safeParse({ overrides: [{ match: { header: "x" }, route: "r" }] }).success, false);
  assert.equal(routingConfigSchema.safeParse({ circuitBreaker: { halfOpenCalls: 2 } }).success, false);
});

test("invalid values: empty targets, weight ≤ 0, weight on a fallback route, initial > max backoff, empty match, unknown strategy", () => {
  const target = { provider: "a", model: "m" };
  const failures = [
    { alias: "x", targets: [] },
    { alias: "x", strategy: "loadbalance", targets: [{ ...target, weight: 0 }] },
    { alias: "x", strategy: "loadbalance", targets: [{ ...target, weight: -1 }] },
    { alias: "x", targets: [{ ...target, weight: 2 }] },
    { alias: "x", targets: [{ ...target, retries: { initialBackoffMs: 9000, maxBackoffMs: 8000 } }] },
    { alias: "x", targets: [{ ...target, timeouts: { connectMs: 0 } }] },
    { alias: "x", strategy: "round-robin", targets: [target] },
    { alias: "has space", targets: [target] },
  ];
  for (const route of failures) assert.equal(routeSchema.safeParse(route).success, false, JSON.stringify(route));
  const weightIssue = routeSchema.safeParse(failures[3]);
  assert.equal(weightIssue.success, false);
  assert.deepEqual(weightIssue.error?.issues.map((issue) => issue.path), [["targets", 0, "weight"]]);
  assert.equal(routingPolicySchema.safeParse({ overrides: [{ match: {}, route: "r" }] }).success, false);
});

test("cross-references: duplicate alias, unknown default and override routes are all reported in one pass", () => {
  const result = routingConfigSchema.safeParse({
    routes: [
      { alias: "default", targets: [{ provider: "a", model: "m" }] },
      { alias: "default", targets: [{ provider: "b", model: "m" }] },
    ],
    policies: { default: "missing", overrides: [{ match: { tag: "high_privacy" }, route: "local-only" }] },
  });
  assert.equal(result.success, false);
  assert.deepEqual(
    result.error?.issues.map((issue) => [issue.path.join("."), issue.message]),
    [
      ["routes.1.alias", 'duplicate route alias "default"'],
      ["policies.default", 'no route with alias "missing"'],
      ["policies.overrides.0.route", 'no route with alias "local-only"'],
    ],
  );
});

test("routingReferenceIssues: every broken reference, provider ids included when given", () => {
  const config = routingConfigSchema.parse({
    routes: [
      { alias: "default", targets: [{ provider: "openai", model: "m" }, { provider: "bedrock", model: "n" }] },
      { alias: "local", targets: [{ provider: "ollama", model: "llama3" }] },
    ],
    policies: { default: "default", overrides: [{ match: { tag: "high_privacy" }, route: "local" }] },
  });
  assert.deepEqual(routingReferenceIssues(config, ["openai", "ollama"]), [
    { path: ["routes", 0, "targets", 1, "provider"], message: 'no provider with id "bedrock"' },
  ]);
  assert.deepEqual(routingReferenceIssues(config, new Set(["openai", "ollama", "bedrock"])), []);
  assert.deepEqual(routingReferenceIssues(config), []);
  const broken = { routes: [...config.routes, ...config.routes], policies: { default: "nope", overrides: [{ match: { tenant: "acme" }, route: "gone" }] } };
  assert.deepEqual(
    routingReferenceIssues(broken, ["openai"]).map((issue) => issue.path.join(".")),
    ["routes.2.alias", "routes.3.alias", "policies.default", "policies.overrides.0.route", "routes.0.targets.1.provider", "routes.1.targets.0.provider", "routes.2.targets.1.provider", "routes.3.targets.0.provider"],
  );
});
