/**
 * Routing under real upstream faults: two fake OpenAI upstreams on 127.0.0.1 (test/support/fake-upstream.ts),
 * a minimal undici adapter per upstream, and the routing engine with its real clock. Asserts both what the
 * caller gets and what each upstream received.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CanonicalRequest, StreamEvent } from "../../src/contracts/chat.js";
import { ClawfleetError } from "../../src/contracts/errors.js";
import type { ProviderAdapter } from "../../src/contracts/provider.js";
import { generateAttempt, streamAttempt } from "../../src/gateway/routing/adapter-attempts.js";
import { type RouteConfig, routingConfigSchema } from "../../src/gateway/routing/config.js";
import { createRouter } from "../../src/gateway/routing/router.js";
import { type FakeUpstream, startFakeUpstream } from "../support/fake-upstream.js";
import { createMinimalOpenAIAdapter } from "../support/minimal-openai-adapter.js";

type TargetSettings = Partial<Pick<RouteConfig["targets"][number], "retries" | "timeouts">>;

const request = (stream: boolean): CanonicalRequest => ({
  model: "default",
  messages: [{ role: "user", content: [{ type: "text", text: "hello there" }] }],
  stream,
});

/** Upstreams `a` and `b`, their adapters, and a router whose route `default` is [a, b] with the given settings. */
async function setup(
  context: { after(callback: () => Promise<void>): void },
  settings: { a?: TargetSettings; b?: TargetSettings; circuitBreaker?: { failureThreshold: number; cooldownMs: number } } = {},
) {
  const upstreamA = await startFakeUpstream();
  const upstreamB = await startFakeUpstream();
  const adapters = new Map<string, ProviderAdapter>([
    ["a", createMinimalOpenAIAdapter({ id: "a", baseUrl: upstreamA.url })],
    ["b", createMinimalOpenAIAdapter({ id: "b", baseUrl: upstreamB.url })],
  ]);
  context.after(async () => {
    await Promise.all([upstreamA.close(), upstreamB.close()]);
    await Promise.all([...adapters.values()].map((adapter) => adapter.close()));
  });
  const fastRetries = { attempts: 0, initialBackoffMs: 10, maxBackoffMs: 50 };
  const config = routingConfigSchema.parse({
    routes: [
      {
        alias: "default",
        targets: [
          { provider: "a", model: "model-a", retries: fastRetries, ...settings.a },
          { provider: "b", model: "model-b", retries: fastRetries, ...settings.b },
        ],
      },
    ],
    ...(settings.circuitBreaker ? { circuitBreaker: settings.circuitBreaker } : {}),
  });
  const router = createRouter(config);
  let requestNumber = 0;
  const generate = () => {
    requestNumber += 1;
    return router.execute(router.plan({ model: "default" }), generateAttempt(adapters, request(false)), { requestId: `req-${requestNumber}` });
  };
  const stream = () => {
    requestNumber += 1;
    return router.execute(router.plan({ model: "default" }), streamAttempt(adapters, request(true)), { requestId: `req-${requestNumber}` });
  };
  return { upstreamA, upstreamB, router, generate, stream };
}

const chatRequests = (upstream: FakeUpstream) => upstream.requests.filter((recorded) => recorded.path === "/v1/chat/completions");
const sentModels = (upstream: FakeUpstream) => chatRequests(upstream).map((recorded) => (recorded.body as { model: string }).model);
const textOf = (events: StreamEvent[]) => events.map((event) => (event.type === "text_delta" ? event.text : "")).join("");
const outcomes = (attempts: Array<{ provider: string; outcome: string; status?: number }>) =>
  attempts.map((attempt) => `${attempt.provider}:${attempt.outcome}${attempt.status === undefined ? "" : `:${attempt.status}`}`);

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const seen: StreamEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

test("connection reset → fallback to the second upstream (JSON and stream)", { timeout: 10_000 }, async (context) => {
  const { upstreamA, upstreamB, generate, stream } = await setup(context);
  upstreamA.enqueue({ kind: "reset" }, { kind: "reset" });

  const answer = await generate();
  assert.equal(answer.target.provider, "b");
  assert.deepEqual(answer.result.response.content, [{ type: "text", text: "FAKE-REPLY to: hello there" }]);
  assert.deepEqual(outcomes(answer.attempts), ["a:unreachable:502", "b:success"]);

  const streamed = await stream();
  assert.equal(streamed.target.provider, "b");
  const events = await collect(streamed.result.events);
  assert.equal(textOf(events), "FAKE-REPLY to: hello there");
  assert.equal(events.at(-1)?.type, "finish");

  assert.deepEqual(sentModels(upstreamA), ["model-a", "model-a"]);
  assert.deepEqual(sentModels(upstreamB), ["model-b", "model-b"], "the second upstream got its own model id");
});

test("429 with retry-after: 1 → the same upstream is retried after ≥ 1 s, then succeeds", { timeout: 10_000 }, async (context) => {
  const { upstreamA, upstreamB, generate } = await setup(context, { a: { retries: { attempts: 1, initialBackoffMs: 10, maxBackoffMs: 2000 } } });
  upstreamA.enqueue({ kind: "fixture", name: "error-429" });
  const startedMs = Date.now();
  const answer = await generate();
  assert.equal(answer.target.provider, "a");
  assert.deepEqual(outcomes(answer.attempts), ["a:upstream_error:429", "a:success"]);
  const [first, second] = chatRequests(upstreamA);
  assert.ok(first && second);
  assert.ok(second.receivedAtMs - first.receivedAtMs >= 1000, `retried after ${second.receivedAtMs - first.receivedAtMs} ms`);
  assert.ok(Date.now() - startedMs < 5000);
  assert.equal(chatRequests(upstreamB).length, 0);
});

test("429 with a retry-after above maxBackoffMs → no wait, straight to the next upstream", { timeout: 10_000 }, async (context) => {
  const { upstreamA, upstreamB, generate } = await setup(context, { a: { retries: { attempts: 2, initialBackoffMs: 10, maxBackoffMs: 500 } } });
  upstreamA.enqueue({ kind: "fixture", name: "error-429" });
  const startedMs = Date.now();
  const answer = await generate();
  assert.equal(answer.target.provider, "b");
  assert.ok(Date.now() - startedMs < 900, "did not wait for the 1 s retry-after");
  assert.equal(chatRequests(upstreamA).length, 1);
  assert.equal(chatRequests(upstreamB).length, 1);
});

test("500 → retried on the same upstream, then fallback", { timeout: 10_000 }, async (context) => {
  const { upstreamA, upstreamB, generate } = await setup(context, { a: { retries: { attempts: 1, initialBackoffMs: 10, maxBackoffMs: 50 } } });
  upstreamA.enqueue({ kind: "fixture", name: "error-500" }, { kind: "fixture", name: "error-500" });
  const answer = await generate();
  assert.equal(answer.target.provider, "b");
  assert.deepEqual(outcomes(answer.attempts), ["a:upstream_error:500", "a:upstream_error:500", "b:success"]);
  assert.equal(chatRequests(upstreamA).length, 2);
  assert.equal(chatRequests(upstreamB).length, 1);
});

test("a caller's 400 from the upstream → returned at once, no retry, no fallback", { timeout: 10_000 }, async (context) => {
  const { upstreamA, upstreamB, generate } = await setup(context, { a: { retries: { attempts: 2, initialBackoffMs: 10, maxBackoffMs: 50 } } });
  upstreamA.enqueue({ kind: "error", status: 400 });
  const error = await generate().catch((caught: unknown) => caught);
  assert.ok(error instanceof ClawfleetError);
  assert.equal(error.code, "CF_UPSTREAM_ERROR");
  assert.equal(error.status, 400);
  assert.deepEqual(outcomes(error.details?.attempts as Array<{ provider: string; outcome: string; status?: number }>), ["a:rejected:400"]);
  assert.equal(chatRequests(upstreamA).length, 1);
  assert.equal(chatRequests(upstreamB).length, 0);
});

test("slow first byte beyond firstByteMs → CF_UPSTREAM_TIMEOUT, then fallback (stream and JSON)", { timeout: 10_000 }, async (context) => {
  const { upstreamA, upstreamB, generate, stream } = await setup(context, { a: { timeouts: { connectMs: 1000, firstByteMs: 300, idleMs: 5000 } } });
  upstreamA.enqueue({ kind: "stall", afterChunks: 0 }, { kind: "stall", afterChunks: 0 });

  let startedMs = Date.now();
  const streamed = await stream();
  const streamElapsedMs = Date.now() - startedMs;
  assert.equal(streamed.target.provider, "b");
  assert.deepEqual(outcomes(streamed.attempts), ["a:timeout:504", "b:success"]);
  assert.ok(streamElapsedMs >= 290 && streamElapsedMs < 3000, `fell back after ${streamElapsedMs} ms`);
  assert.equal(textOf(await collect(streamed.result.events)), "FAKE-REPLY to: hello there");

  startedMs = Date.now();
  const answer = await generate();
  const jsonElapsedMs = Date.now() - startedMs;
  assert.equal(answer.target.provider, "b");
  assert.deepEqual(outcomes(answer.attempts), ["a:timeout:504", "b:success"]);
  assert.ok(jsonElapsedMs >= 290 && jsonElapsedMs < 3000, `fell back after ${jsonElapsedMs} ms`);
  assert.equal(chatRequests(upstreamA).length, 2);
  assert.equal(chatRequests(upstreamB).length, 2);
});

test("stall mid-stream after the first chunk reached the caller → the stream ends with an error, NO fallback", { timeout: 10_000 }, async (context) => {
  const { upstreamA, upstreamB, router, stream } = await setup(context, {
    a: { timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 300 } },
    circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 },
  });
  upstreamA.enqueue({ kind: "stall", afterChunks: 2 });
  const streamed = await stream();
  assert.equal(streamed.target.provider, "a");
  const received: StreamEvent[] = [];
  const startedMs = Date.now();
  const failure = await (async () => {
    for await (const event of streamed.result.events) received.push(event);
  })().catch((caught: unknown) => caught);
  assert.ok(failure instanceof ClawfleetError, `the stream ended with ${String(failure)}`);
  assert.equal(failure.code, "CF_UPSTREAM_TIMEOUT");
  assert.ok(Date.now() - startedMs >= 290);
  assert.deepEqual(received.map((event) => event.type), ["start", "text_delta"]);
  assert.equal(textOf(received), "FAKE");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(chatRequests(upstreamA).length, 1);
  assert.equal(chatRequests(upstreamB).length, 0, "the second upstream got no request");
  assert.equal(router.breakers.state("a/model-a"), "open", "the mid-stream failure counted on a's breaker");
});

test("circuit breaker: opens after N failures; the broken upstream gets no request until the cooldown, then one trial closes it", { timeout: 15_000 }, async (context) => {
  const { upstreamA, upstreamB, router, generate } = await setup(context, { circuitBreaker: { failureThreshold: 2, cooldownMs: 1500 } });
  upstreamA.setDefault({ kind: "error", status: 500 });

  for (let request = 0; request < 2; request += 1) assert.equal((await generate()).target.provider, "b");
  assert.equal(chatRequests(upstreamA).length, 2);
  assert.equal(router.breakers.state("a/model-a"), "open");

  for (let request = 0; request < 3; request += 1) {
    const answer = await generate();
    assert.equal(answer.target.provider, "b");
    assert.deepEqual(answer.skippedTargets, [{ provider: "a", model: "model-a", reason: "circuit_open" }]);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await generate()).target.provider, "b");
  assert.equal(chatRequests(upstreamA).length, 2, "no request reached the broken upstream while its breaker was open");
  assert.equal(chatRequests(upstreamB).length, 6);

  upstreamA.setDefault({ kind: "text", text: "a is back" });
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const trial = await generate();
  assert.equal(trial.target.provider, "a");
  assert.equal(trial.attempts[0]?.breaker, "trial");
  assert.deepEqual(trial.result.response.content, [{ type: "text", text: "a is back" }]);
  assert.equal(router.breakers.state("a/model-a"), "closed");
  assert.equal((await generate()).target.provider, "a");
  assert.equal(chatRequests(upstreamA).length, 4);
  assert.equal(chatRequests(upstreamB).length, 6);
});
