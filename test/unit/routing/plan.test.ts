import assert from "node:assert/strict";
import { test } from "node:test";
import { ClawfleetError } from "../../../src/contracts/errors.js";
import { type RoutingConfigInput, routingConfigSchema } from "../../../src/gateway/routing/config.js";
import { weightedOrder } from "../../../src/gateway/routing/load-balance.js";
import { parseTagsHeader, resolvePlan, routeAliases } from "../../../src/gateway/routing/plan.js";
import { seededRandom, sequenceRandom } from "../../support/routing-fakes.js";

const input: RoutingConfigInput = {
  routes: [
    { alias: "default", targets: [{ provider: "bedrock", model: "claude-sonnet" }, { provider: "openai", model: "gpt-4o-mini" }] },
    { alias: "cheap", targets: [{ provider: "openai", model: "gpt-4o-mini", retries: { attempts: 0 } }] },
    { alias: "local-only", targets: [{ provider: "ollama", model: "llama3" }] },
    { alias: "eu", targets: [{ provider: "azure-eu", model: "gpt-4o" }] },
    { alias: "finance", targets: [{ provider: "anthropic", model: "claude-opus" }] },
  ],
  policies: {
    default: "cheap",
    overrides: [
      { match: { tag: "high_privacy" }, route: "local-only" },
      { match: { tenant: "acme" }, route: "eu" },
      { match: { profile: "finance-agent" }, route: "finance" },
      { match: { tenant: "globex", profile: "finance-agent" }, route: "local-only" },
    ],
  },
};
const config = routingConfigSchema.parse(input);
const targetsOf = (plan: { targets: Array<{ provider: string; model: string }> }) => plan.targets.map((target) => `${target.provider}/${target.model}`);
const isModelNotFound = (model: string) => (error: unknown) =>
  error instanceof ClawfleetError && error.code === "CF_MODEL_NOT_FOUND" && error.status === 404 && error.details?.model === model;

test("a route alias resolves to its targets in order, with their settings", () => {
  const plan = resolvePlan(config, { model: "cheap" });
  assert.equal(plan.routeAlias, "cheap");
  assert.equal(plan.reason, "requested");
  assert.equal(plan.requestedModel, "cheap");
  assert.deepEqual(plan.targets, [
    {
      provider: "openai",
      model: "gpt-4o-mini",
      weight: 1,
      timeouts: { connectMs: 5000, firstByteMs: 60000, idleMs: 30000 },
      retries: { attempts: 0, initialBackoffMs: 250, maxBackoffMs: 8000 },
    },
  ]);
});

test("model `default`, empty or absent uses policies.default", () => {
  for (const model of ["default", "", undefined]) {
    const plan = resolvePlan(config, { model });
    assert.equal(plan.routeAlias, "cheap", String(model));
    assert.equal(plan.reason, "default");
  }
  assert.equal(resolvePlan(config, {}).requestedModel, undefined);
});

test("without policies.default, `default` is the route aliased `default`; without one it is CF_MODEL_NOT_FOUND", () => {
  const withoutPolicy = routingConfigSchema.parse({ routes: input.routes });
  assert.deepEqual(targetsOf(resolvePlan(withoutPolicy, { model: "default" })), ["bedrock/claude-sonnet", "openai/gpt-4o-mini"]);
  const noDefault = routingConfigSchema.parse({ routes: [{ alias: "x", targets: [{ provider: "a", model: "m" }] }] });
  assert.throws(() => resolvePlan(noDefault, {}), isModelNotFound("default"));
});

test("an unknown alias is CF_MODEL_NOT_FOUND (404)", () => {
  assert.throws(() => resolvePlan(config, { model: "gpt-5" }), isModelNotFound("gpt-5"));
  assert.throws(() => resolvePlan(config, { model: "CHEAP" }), isModelNotFound("CHEAP"));
});

test("overrides by tag, tenant and profile replace the requested route", () => {
  const tagged = resolvePlan(config, { model: "default", tags: ["high_privacy"] });
  assert.deepEqual(targetsOf(tagged), ["ollama/llama3"]);
  assert.equal(tagged.reason, "override");
  assert.deepEqual(tagged.override, { index: 0, match: { tag: "high_privacy" } });
  assert.equal(tagged.requestedModel, "default");
  assert.deepEqual(targetsOf(resolvePlan(config, { model: "cheap", tenantId: "acme" })), ["azure-eu/gpt-4o"]);
  assert.deepEqual(targetsOf(resolvePlan(config, { model: "cheap", profile: "finance-agent" })), ["anthropic/claude-opus"]);
  assert.deepEqual(targetsOf(resolvePlan(config, { model: "cheap", tenantId: "initech", profile: "support" })), ["openai/gpt-4o-mini"]);
});

test("an override wins even over an explicitly requested or unknown model: high_privacy never leaves the local route", () => {
  for (const model of ["default", "cheap", "eu", "finance", "gpt-5", undefined]) {
    const plan = resolvePlan(config, { model, tags: ["team-x", "high_privacy"], tenantId: "acme", profile: "finance-agent" });
    assert.deepEqual(targetsOf(plan), ["ollama/llama3"], String(model));
  }
});

test("the first matching override wins; a match with several fields needs them all", () => {
  assert.equal(resolvePlan(config, { tenantId: "acme", profile: "finance-agent" }).routeAlias, "eu");
  assert.equal(resolvePlan(config, { tenantId: "globex", profile: "finance-agent" }).routeAlias, "finance");
  const reordered = routingConfigSchema.parse({
    ...input,
    policies: { overrides: [{ match: { tenant: "globex", profile: "finance-agent" }, route: "local-only" }, { match: { profile: "finance-agent" }, route: "finance" }] },
  });
  assert.equal(resolvePlan(reordered, { model: "default", tenantId: "globex", profile: "finance-agent" }).routeAlias, "local-only");
  assert.equal(resolvePlan(reordered, { model: "default", tenantId: "globex", profile: "other" }).routeAlias, "default");
  assert.equal(resolvePlan(reordered, { model: "default", tenantId: "initech", profile: "finance-agent" }).routeAlias, "finance");
});

test("tags: the header is split on commas, trimmed, lowercased and de-duplicated; matching ignores case", () => {
  assert.deepEqual(parseTagsHeader(" High_Privacy, team-x,,high_privacy ,"), ["high_privacy", "team-x"]);
  assert.deepEqual(parseTagsHeader(["a, b", "c"]), ["a", "b", "c"]);
  assert.deepEqual(parseTagsHeader(undefined), []);
  assert.deepEqual(parseTagsHeader(""), []);
  assert.equal(resolvePlan(config, { model: "cheap", tags: ["HIGH_PRIVACY"] }).routeAlias, "local-only");
  assert.equal(resolvePlan(config, { model: "cheap", tags: ["high_privacy_not"] }).routeAlias, "cheap");
});

test("directTarget serves a provider's own model id alone; without it such ids are CF_MODEL_NOT_FOUND", () => {
  const directTarget = (model: string) => (model === "llama3.1" ? { provider: "ollama" } : undefined);
  const plan = resolvePlan(config, { model: "llama3.1" }, { directTarget });
  assert.equal(plan.reason, "direct");
  assert.deepEqual(targetsOf(plan), ["ollama/llama3.1"]);
  assert.equal(plan.targets[0]?.retries.attempts, 2);
  assert.throws(() => resolvePlan(config, { model: "llama3.1" }), isModelNotFound("llama3.1"));
  assert.throws(() => resolvePlan(config, { model: "other" }, { directTarget }), isModelNotFound("other"));
  assert.equal(resolvePlan(config, { model: "llama3.1", tags: ["high_privacy"] }, { directTarget }).reason, "override");
});

test("routeAliases lists aliases in config order", () => {
  assert.deepEqual(routeAliases(config), ["default", "cheap", "local-only", "eu", "finance"]);
});

const balanced = routingConfigSchema.parse({
  routes: [
    {
      alias: "pool",
      strategy: "loadbalance",
      targets: [
        { provider: "a", model: "m", weight: 1 },
        { provider: "b", model: "m", weight: 2 },
        { provider: "c", model: "m", weight: 7 },
      ],
    },
  ],
});

test("loadbalance: over 10,000 plans the first target follows the weights within 3 %, and every plan keeps all targets", () => {
  const random = seededRandom(20240611);
  const firsts = new Map<string, number>();
  const seconds = new Map<string, number>();
  const runs = 10_000;
  for (let run = 0; run < runs; run += 1) {
    const order = targetsOf(resolvePlan(balanced, { model: "pool" }, { random }));
    assert.deepEqual([...order].sort(), ["a/m", "b/m", "c/m"]);
    firsts.set(order[0] as string, (firsts.get(order[0] as string) ?? 0) + 1);
    seconds.set(order[1] as string, (seconds.get(order[1] as string) ?? 0) + 1);
  }
  const expectedFirst = { "a/m": 0.1, "b/m": 0.2, "c/m": 0.7 };
  for (const [key, share] of Object.entries(expectedFirst)) {
    const observed = (firsts.get(key) ?? 0) / runs;
    assert.ok(Math.abs(observed - share) <= 0.03, `${key} first ${observed} vs ${share}`);
  }
  // Without replacement: P(second = a) = P(b first)·1/8 + P(c first)·1/3 = 0.2/8 + 0.7/3.
  const expectedSecondA = 0.2 / 8 + 0.7 / 3;
  const observedSecondA = (seconds.get("a/m") ?? 0) / runs;
  assert.ok(Math.abs(observedSecondA - expectedSecondA) <= 0.03, `a second ${observedSecondA} vs ${expectedSecondA}`);
});

test("weightedOrder: picks by cumulative weight, one draw per position, and rejects non-positive weights", () => {
  const items = [
    { name: "a", weight: 1 },
    { name: "b", weight: 2 },
    { name: "c", weight: 7 },
  ];
  const names = (random: () => number) => weightedOrder(items, (item) => item.weight, random).map((item) => item.name);
  // 0.05·10 = 0.5 < 1 → a; then 0.5·9 = 4.5 ≥ 2 → c; b last.
  assert.deepEqual(names(sequenceRandom(0.05, 0.5)), ["a", "c", "b"]);
  // 0.25·10 = 2.5 → b (1 ≤ 2.5 < 3); 0.1·8 = 0.8 < 1 → a.
  assert.deepEqual(names(sequenceRandom(0.25, 0.1)), ["b", "a", "c"]);
  assert.deepEqual(names(sequenceRandom(0.999999, 0.999999)), ["c", "b", "a"]);
  assert.throws(() => weightedOrder([{ weight: 0 }], (item) => item.weight, Math.random), RangeError);
  assert.deepEqual(weightedOrder([], () => 1, Math.random), []);
});

test("a fallback route ignores randomness: the order is the configured one", () => {
  const withoutPolicy = routingConfigSchema.parse({ routes: input.routes });
  assert.deepEqual(targetsOf(resolvePlan(withoutPolicy, { model: "default" }, { random: () => 0.99 })), ["bedrock/claude-sonnet", "openai/gpt-4o-mini"]);
});
