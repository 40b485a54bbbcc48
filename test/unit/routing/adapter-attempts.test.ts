import assert from "node:assert/strict";
import { test } from "node:test";
import type { CanonicalRequest, StreamEvent } from "../../../src/contracts/chat.js";
import { ClawfleetError } from "../../../src/contracts/errors.js";
import type { ProviderAdapter, ProviderCallContext, UpstreamResponse } from "../../../src/contracts/provider.js";
import { generateAttempt, parseRetryAfterSeconds, passthroughAttempt, streamAttempt } from "../../../src/gateway/routing/adapter-attempts.js";
import { CircuitBreakerRegistry } from "../../../src/gateway/routing/circuit-breaker.js";
import { routingConfigSchema } from "../../../src/gateway/routing/config.js";
import { type AttemptFunction, execute } from "../../../src/gateway/routing/execute.js";
import { resolvePlan } from "../../../src/gateway/routing/plan.js";
import { FakeClock, timeoutError, upstreamError } from "../../support/routing-fakes.js";

const usage = { inputTokens: 3, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
const request: CanonicalRequest = { model: "default", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], stream: true };
const start: StreamEvent = { type: "start", id: "x", model: "m", createdAt: 1 };
const happyEvents: StreamEvent[] = [start, { type: "text_delta", index: 0, text: "Hello" }, { type: "block_end", index: 0 }, { type: "finish", finishReason: "stop", usage }];

interface FakeAdapter extends ProviderAdapter {
  streamCalls: Array<{ model: string; context: ProviderCallContext }>;
  iteratorClosed: boolean;
}

/** An adapter whose stream is `events` (an Error item is thrown at that point) and whose generate echoes the model. */
function fakeAdapter(id: string, events: Array<StreamEvent | Error> = happyEvents, passthroughResponse?: () => UpstreamResponse): FakeAdapter {
  const adapter: FakeAdapter = {
    id,
    kind: "fake",
    nativeApi: "openai-chat",
    streamCalls: [],
    iteratorClosed: false,
    async generate(call, context) {
      return {
        response: { id: `${id}-${context.requestId}`, model: call.model, content: [{ type: "text", text: id }], finishReason: "stop", usage, createdAt: 1 },
        warnings: [],
      };
    },
    async stream(call, context) {
      adapter.streamCalls.push({ model: call.model, context });
      async function* generate(): AsyncGenerator<StreamEvent> {
        try {
          for (const item of events) {
            if (item instanceof Error) throw item;
            yield item;
          }
        } finally {
          adapter.iteratorClosed = true;
        }
      }
      return { events: generate(), warnings: [{ parameter: "logprobs", message: "not supported" }] };
    },
    ...(passthroughResponse ? { passthrough: async () => passthroughResponse() } : {}),
    async close() {},
  };
  return adapter;
}

function setup(threshold = 5) {
  const clock = new FakeClock();
  const config = routingConfigSchema.parse({
    routes: [{ alias: "default", targets: [{ provider: "a", model: "model-a", retries: { attempts: 0 } }, { provider: "b", model: "model-b" }] }],
    circuitBreaker: { failureThreshold: threshold, cooldownMs: 1000 },
  });
  const breakers = new CircuitBreakerRegistry(config.circuitBreaker, clock.now);
  const plan = resolvePlan(config, { model: "default" });
  const run = <Result>(attempt: AttemptFunction<Result>) =>
    execute(plan, attempt, { breakers, requestId: "req-9", random: () => 0.5, now: clock.now, sleep: clock.sleep, setTimer: clock.setTimer });
  return { clock, breakers, run };
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const seen: StreamEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

test("generateAttempt sends the target's model id and the context to the target's adapter", async () => {
  const { run } = setup();
  const adapters = new Map([["a", fakeAdapter("a")], ["b", fakeAdapter("b")]]);
  const outcome = await run(generateAttempt(adapters, { ...request, stream: false }));
  assert.equal(outcome.result.response.model, "model-a");
  assert.equal(outcome.result.response.id, "a-req-9");
});

test("a provider without an adapter is CF_CONFIG_INVALID and does not fall back", async () => {
  const { run } = setup();
  const b = fakeAdapter("b");
  await assert.rejects(run(streamAttempt((id) => (id === "b" ? b : undefined), request)), (error) => error instanceof ClawfleetError && error.code === "CF_CONFIG_INVALID");
  assert.equal(b.streamCalls.length, 0);
});

test("streamAttempt resolves with the first event held back and replays the whole stream", async () => {
  const { run, breakers } = setup();
  const a = fakeAdapter("a");
  const outcome = await run(streamAttempt(new Map([["a", a]]), request));
  assert.equal(a.streamCalls[0]?.model, "model-a");
  assert.deepEqual(outcome.result.warnings, [{ parameter: "logprobs", message: "not supported" }]);
  assert.deepEqual(await collect(outcome.result.events), happyEvents);
  assert.equal(breakers.state("a/model-a"), "closed");
});

test("a failure before the first event (e.g. a first-byte timeout) still falls back", async () => {
  const { run } = setup();
  const a = fakeAdapter("a", [timeoutError()]);
  const b = fakeAdapter("b");
  const outcome = await run(streamAttempt(new Map([["a", a], ["b", b]]), request));
  assert.equal(outcome.target.provider, "b");
  assert.deepEqual(outcome.attempts.map((attempt) => attempt.outcome), ["timeout", "success"]);
  assert.deepEqual(await collect(outcome.result.events), happyEvents);
});

test("an `error` event first is a failure of the attempt: 5xx falls back, a caller's 4xx is final", async () => {
  const overloaded = fakeAdapter("a", [{ type: "error", status: 529, message: "Overloaded", errorType: "overloaded_error" }]);
  const first = await setup().run(streamAttempt(new Map([["a", overloaded], ["b", fakeAdapter("b")]]), request));
  assert.equal(first.target.provider, "b");
  assert.deepEqual(first.attempts.map((attempt) => [attempt.outcome, attempt.status]), [["upstream_error", 529], ["success", undefined]]);
  assert.equal(overloaded.iteratorClosed, true);

  const invalid = fakeAdapter("a", [{ type: "error", status: 400, message: "bad tools", errorType: "invalid_request_error" }]);
  const b = fakeAdapter("b");
  const error = await setup().run(streamAttempt(new Map([["a", invalid], ["b", b]]), request)).catch((caught: unknown) => caught);
  assert.ok(error instanceof ClawfleetError && error.code === "CF_UPSTREAM_ERROR" && error.status === 400 && error.message === "bad tools");
  assert.equal(b.streamCalls.length, 0);
});

test("a stream that ends before any event is a 502 and falls back", async () => {
  const outcome = await setup().run(streamAttempt(new Map([["a", fakeAdapter("a", [])], ["b", fakeAdapter("b")]]), request));
  assert.equal(outcome.target.provider, "b");
  assert.equal(outcome.attempts[0]?.status, 502);
});

test("a failure after the first event ends the stream with that error: no fallback, and it counts on the breaker", async () => {
  const { run, breakers } = setup(1);
  const failure = timeoutError();
  const a = fakeAdapter("a", [start, { type: "text_delta", index: 0, text: "Hel" }, failure]);
  const b = fakeAdapter("b");
  const outcome = await run(streamAttempt(new Map([["a", a], ["b", b]]), request));
  assert.equal(outcome.target.provider, "a");
  const seen: StreamEvent[] = [];
  await assert.rejects(
    (async () => {
      for await (const event of outcome.result.events) seen.push(event);
    })(),
    (error) => error === failure,
  );
  assert.deepEqual(seen.map((event) => event.type), ["start", "text_delta"]);
  assert.equal(b.streamCalls.length, 0);
  assert.equal(breakers.state("a/model-a"), "open");
});

test("a half-open trial stream closes the breaker only when it finishes", async () => {
  const { run, clock, breakers } = setup(1);
  breakers.recordFailure("a/model-a");
  clock.advance(1000);
  const outcome = await run(streamAttempt(new Map([["a", fakeAdapter("a")]]), request));
  assert.equal(outcome.attempts[0]?.breaker, "trial");
  const iterator = outcome.result.events[Symbol.asyncIterator]();
  await iterator.next();
  assert.equal(breakers.state("a/model-a"), "half_open");
  await collect({ [Symbol.asyncIterator]: () => iterator });
  assert.equal(breakers.state("a/model-a"), "closed");
});

test("a consumer that stops early closes the upstream iterator and gives no verdict", async () => {
  const { run, clock, breakers } = setup(1);
  breakers.recordFailure("a/model-a");
  clock.advance(1000);
  const a = fakeAdapter("a");
  const outcome = await run(streamAttempt(new Map([["a", a]]), request));
  for await (const event of outcome.result.events) if (event.type === "start") break;
  assert.equal(a.iteratorClosed, true);
  assert.equal(breakers.state("a/model-a"), "half_open");
  assert.equal(breakers.acquire("a/model-a"), "trial", "the trial slot was freed");
});

/** A passed-through upstream answer whose body is `texts`, one chunk each; `bytes()` fails with `failure` if given. */
function answer(status: number, headers: Record<string, string>, texts: string[], failure?: Error): UpstreamResponse {
  const body = (async function* () {
    for (const text of texts) yield Buffer.from(text);
    if (failure) throw failure;
  })();
  return {
    status,
    headers,
    body,
    async bytes() {
      const parts: Buffer[] = [];
      for await (const chunk of body) parts.push(Buffer.from(chunk));
      return Buffer.concat(parts);
    },
  };
}

test("passthroughAttempt: a 503 with retry-after is a retryable failure; a caller's 4xx is returned untouched", async () => {
  const a = fakeAdapter("a", happyEvents, () => answer(503, { "retry-after": "120" }, ['{"error":{"message":"busy"}}']));
  const b = fakeAdapter("b", happyEvents, () => answer(200, { "content-type": "application/json" }, ['{"id":', '"b"}']));
  const bodies: string[] = [];
  const attempt = passthroughAttempt(new Map([["a", a], ["b", b]]), (target) => {
    bodies.push(target.model);
    return { body: Buffer.from(`{"model":"${target.model}"}`), stream: false };
  });
  const outcome = await setup().run(attempt);
  assert.equal(outcome.target.provider, "b");
  assert.deepEqual(bodies, ["model-a", "model-b"]);
  assert.deepEqual(outcome.attempts.map((entry) => [entry.outcome, entry.status]), [["upstream_error", 503], ["success", undefined]]);
  assert.equal(outcome.result.kind, "whole", "a JSON answer is read whole inside the attempt");
  assert.equal(outcome.result.body.toString(), '{"id":"b"}');

  const rejecting = fakeAdapter("a", happyEvents, () => answer(401, {}, ['{"error":"bad key"}']));
  const rejected = await setup().run(passthroughAttempt(new Map([["a", rejecting], ["b", b]]), () => ({ body: Buffer.from("{}"), stream: false })));
  assert.equal(rejected.target.provider, "a");
  assert.equal(rejected.result.status, 401);
  assert.equal(rejected.result.kind === "whole" && rejected.result.body.toString(), '{"error":"bad key"}');

  const lastOnly = await setup()
    .run(passthroughAttempt(new Map([["a", a], ["b", a]]), () => ({ body: Buffer.from("{}"), stream: false })))
    .catch((caught: unknown) => caught);
  assert.ok(lastOnly instanceof ClawfleetError && lastOnly.status === 503 && lastOnly.retryAfterSeconds === 120);
  assert.equal(lastOnly.details?.upstreamMessage, '{"error":{"message":"busy"}}');
});

test("passthroughAttempt: a JSON answer that breaks midway falls back (nothing reached the caller); a stream is returned after its first chunk", async () => {
  const reset = new ClawfleetError("CF_UPSTREAM_UNREACHABLE", "provider a: connection reset", { status: 502 });
  const broken = fakeAdapter("a", happyEvents, () => answer(200, { "content-type": "application/json" }, ['{"id":"a","cho'], reset));
  const b = fakeAdapter("b", happyEvents, () => answer(200, { "content-type": "application/json" }, ['{"id":"b"}']));
  const { breakers, run } = setup();
  const outcome = await run(passthroughAttempt(new Map([["a", broken], ["b", b]]), () => ({ body: Buffer.from("{}"), stream: false })));
  assert.equal(outcome.target.provider, "b");
  assert.deepEqual(outcome.attempts.map((entry) => [entry.provider, entry.outcome]), [["a", "unreachable"], ["b", "success"]]);
  assert.equal(outcome.result.kind === "whole" && outcome.result.body.toString(), '{"id":"b"}');
  assert.equal(breakers.state("b/model-b"), "closed");

  const sse = ["data: {\"id\":1}\n\n", "data: [DONE]\n\n"];
  const streaming = fakeAdapter("a", happyEvents, () => answer(200, { "content-type": "text/event-stream" }, sse));
  const streamed = await setup().run(passthroughAttempt(new Map([["a", streaming]]), () => ({ body: Buffer.from("{}"), stream: true })));
  assert.equal(streamed.result.kind, "stream");
  const chunks: string[] = [];
  if (streamed.result.kind === "stream") for await (const chunk of streamed.result.body) chunks.push(Buffer.from(chunk).toString());
  assert.deepEqual(chunks, sse);
});

test("retry-after: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(parseRetryAfterSeconds("1", now), 1);
  assert.equal(parseRetryAfterSeconds(" 2.5 ", now), 2.5);
  assert.equal(parseRetryAfterSeconds("Wed, 01 Jan 2025 00:00:30 GMT", now), 30);
  assert.equal(parseRetryAfterSeconds("Tue, 31 Dec 2024 23:00:00 GMT", now), 0);
  assert.equal(parseRetryAfterSeconds("soon", now), undefined);
  assert.equal(parseRetryAfterSeconds(undefined, now), undefined);
});

test("an upstream 4xx from generate is final (sanity check of the contract wiring)", async () => {
  const failing: ProviderAdapter = { ...fakeAdapter("a"), generate: async () => Promise.reject(upstreamError(404)) };
  const b = fakeAdapter("b");
  await assert.rejects(setup().run(generateAttempt(new Map([["a", failing], ["b", b]]), request)), (error) => error instanceof ClawfleetError && error.status === 404);
});
