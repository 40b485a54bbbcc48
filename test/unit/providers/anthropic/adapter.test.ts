/**
 * The Anthropic adapter against the fake Anthropic upstream over real sockets (the fake refuses requests
 * Anthropic would refuse): what is sent upstream, the canonical result, error mapping, timeouts, abort, and
 * pass-through with the official SDK as the caller.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import type { StreamEvent } from "../../../../src/contracts/chat.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { AnthropicAdapter } from "../../../../src/providers/anthropic/adapter.js";
import { encodeMessagesRequest } from "../../../../src/providers/anthropic/request.js";
import { startFakeAnthropic } from "../../../support/fake-anthropic.js";
import { startPassthroughProxy } from "../../../support/passthrough-proxy.js";
import { callContext, collectEvents, mergeDeltas, userRequest } from "../../../support/provider-test-helpers.js";
import type { ScriptedFake } from "../../../support/scripted-provider-fake.js";

function isClawfleetError(code: string, check: (error: ClawfleetError) => void = () => undefined) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ClawfleetError, `expected a ClawfleetError, got ${String(error)}`);
    assert.equal(error.code, code);
    check(error);
    return true;
  };
}

async function drain(events: AsyncIterable<StreamEvent>, received: StreamEvent[]): Promise<void> {
  for await (const event of events) received.push(event);
}

describe("Anthropic adapter", { timeout: 30_000 }, () => {
  let fake: ScriptedFake;
  let adapter: AnthropicAdapter;

  before(async () => {
    fake = await startFakeAnthropic();
    adapter = new AnthropicAdapter({ id: "claude", baseUrl: fake.url, apiKey: () => "sk-ant-provider", headers: { "anthropic-beta": "prompt-caching-2024-07-31" } });
  });
  after(async () => {
    await adapter.close();
    await fake.close();
  });

  test("identity: kind anthropic, native API anthropic-messages, has pass-through", () => {
    assert.equal(adapter.kind, "anthropic");
    assert.equal(adapter.nativeApi, "anthropic-messages");
    assert.equal(typeof adapter.passthrough, "function");
  });

  test("generate: x-api-key and anthropic-version, the translated body, the canonical answer and warnings", async () => {
    fake.enqueue({ kind: "fixture", name: "text" });
    const request = userRequest("Hi", { model: "claude-haiku-4-5", messages: [{ role: "system", content: [{ type: "text", text: "Be brief." }] }, { role: "user", content: [{ type: "text", text: "Hi" }] }], seed: 3 });
    const { response, warnings } = await adapter.generate(request, callContext());
    const sent = fake.requests.at(-1);
    assert.equal(sent?.path, "/v1/messages");
    assert.equal(sent?.headers["x-api-key"], "sk-ant-provider");
    assert.equal(sent?.headers["anthropic-version"], "2023-06-01");
    assert.equal(sent?.headers["anthropic-beta"], "prompt-caching-2024-07-31");
    assert.equal(sent?.headers.authorization, undefined);
    assert.deepEqual(sent?.body, encodeMessagesRequest({ ...request, stream: false }).body);
    assert.deepEqual(sent?.body, { model: "claude-haiku-4-5", max_tokens: 4096, system: "Be brief.", messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }] });
    assert.deepEqual(response.content, [{ type: "text", text: "Hello! How can I help you today?" }]);
    assert.deepEqual(response.usage, { inputTokens: 1845, outputTokens: 12, cacheReadTokens: 1824, cacheWriteTokens: 0, reasoningTokens: 0 });
    assert.deepEqual(warnings.map((warning) => warning.parameter), ["max_tokens", "seed"]);
  });

  test("stream: a tool call split into 5-byte pieces arrives whole; keep-alive connection reused", async () => {
    const connectionsBefore = fake.connections;
    fake.enqueue({ kind: "fixture", name: "tool-call", pieceBytes: 5 }, { kind: "fixture", name: "text" });
    const request = userRequest("Weather?", { maxTokens: 200, tools: [{ name: "get_weather", parameters: { type: "object", properties: { location: { type: "string" } } } }] });
    const events = mergeDeltas(await collectEvents((await adapter.stream(request, callContext())).events));
    assert.equal(fake.requests.at(-1)?.headers.accept, "text/event-stream");
    assert.equal((fake.requests.at(-1)?.body as { stream?: unknown }).stream, true);
    assert.deepEqual(events.slice(3), [
      { type: "tool_call_start", index: 1, id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather" },
      { type: "tool_call_delta", index: 1, argumentsDelta: '{"location": "San Francisco, CA", "unit": "fahrenheit"}' },
      { type: "block_end", index: 1 },
      { type: "finish", finishReason: "tool_calls", usage: { inputTokens: 472, outputTokens: 89, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } },
    ]);
    await collectEvents((await adapter.stream(userRequest("again", { maxTokens: 10 }), callContext())).events);
    assert.equal(fake.connections - connectionsBefore <= 1, true, "both streams used one keep-alive connection");
  });

  test("an overloaded error mid-stream ends the stream with an error event", async () => {
    fake.enqueue({ kind: "fixture", name: "overloaded-mid-stream" });
    const events = await collectEvents((await adapter.stream(userRequest("story", { maxTokens: 10 }), callContext())).events);
    assert.deepEqual(events.at(-1), { type: "error", status: 529, message: "Overloaded", errorType: "overloaded_error" });
  });

  test("429 with retry-after, 529 and 500 → CF_UPSTREAM_ERROR with the upstream status", async () => {
    fake.enqueue({ kind: "fixture", name: "error-429" }, { kind: "fixture", name: "error-529" }, { kind: "error", status: 500 });
    await assert.rejects(
      adapter.generate(userRequest("Hi", { maxTokens: 5 }), callContext()),
      isClawfleetError("CF_UPSTREAM_ERROR", (error) => {
        assert.equal(error.status, 429);
        assert.equal(error.retryAfterSeconds, 17);
        assert.equal((error.details as { upstreamType: unknown }).upstreamType, "rate_limit_error");
      }),
    );
    await assert.rejects(
      adapter.stream(userRequest("Hi", { maxTokens: 5 }), callContext()),
      isClawfleetError("CF_UPSTREAM_ERROR", (error) => {
        const { upstreamRequestId, ...details } = error.details as { upstreamRequestId?: unknown };
        assert.deepEqual(details, { provider: "claude", upstreamStatus: 529, upstreamType: "overloaded_error", upstreamMessage: "Overloaded" });
        assert.match(String(upstreamRequestId), /^req_[0-9a-f]{24}$/, "the provider's request-id header (the fake's, as Anthropic's)");
      }),
    );
    await assert.rejects(adapter.generate(userRequest("Hi", { maxTokens: 5 }), callContext()), isClawfleetError("CF_UPSTREAM_ERROR", (error) => assert.equal(error.status, 500)));
  });

  test("a request Anthropic refuses comes back as a 400 invalid_request_error", async () => {
    await assert.rejects(
      adapter.generate(userRequest("Hi", { maxTokens: 5, temperature: -1 }), callContext()),
      isClawfleetError("CF_UPSTREAM_ERROR", (error) => {
        assert.equal(error.status, 400);
        assert.equal((error.details as { upstreamType: unknown }).upstreamType, "invalid_request_error");
      }),
    );
  });

  test("connection reset → CF_UPSTREAM_UNREACHABLE", async () => {
    fake.enqueue({ kind: "reset" });
    await assert.rejects(adapter.generate(userRequest("Hi", { maxTokens: 5 }), callContext()), isClawfleetError("CF_UPSTREAM_UNREACHABLE"));
  });

  test("slow headers → CF_UPSTREAM_TIMEOUT (first_byte) and the upstream request is cancelled", async () => {
    const disconnects = fake.clientDisconnects;
    fake.enqueue({ kind: "fixture", name: "text", headersDelayMs: 1_000 });
    await assert.rejects(
      adapter.generate(userRequest("Hi", { maxTokens: 5 }), callContext({ firstByteTimeoutMs: 150 })),
      isClawfleetError("CF_UPSTREAM_TIMEOUT", (error) => assert.deepEqual(error.details, { provider: "claude", phase: "first_byte", timeoutMs: 150 })),
    );
    await fake.waitForClientDisconnects(disconnects + 1, 2_000);
  });

  test("slow first event of a stream (headers on time) → stream() rejects with CF_UPSTREAM_TIMEOUT (first_byte)", async () => {
    const disconnects = fake.clientDisconnects;
    fake.enqueue({ kind: "fixture", name: "text", firstChunkDelayMs: 1_000 });
    await assert.rejects(
      adapter.stream(userRequest("Hi", { maxTokens: 5 }), callContext({ firstByteTimeoutMs: 150 })),
      isClawfleetError("CF_UPSTREAM_TIMEOUT", (error) => assert.equal((error.details as { phase: unknown }).phase, "first_byte")),
    );
    await fake.waitForClientDisconnects(disconnects + 1, 2_000);
  });

  test("idle stall mid-stream → CF_UPSTREAM_TIMEOUT (idle) thrown by the iteration, upstream cancelled", async () => {
    const disconnects = fake.clientDisconnects;
    fake.enqueue({ kind: "stall", name: "text", afterChunks: 4 });
    const { events } = await adapter.stream(userRequest("Hi", { maxTokens: 5 }), callContext({ idleTimeoutMs: 150 }));
    const received: StreamEvent[] = [];
    await assert.rejects(drain(events, received), isClawfleetError("CF_UPSTREAM_TIMEOUT", (error) => assert.equal((error.details as { phase: unknown }).phase, "idle")));
    assert.deepEqual(received.map((event) => event.type), ["start", "text_delta", "text_delta"]);
    await fake.waitForClientDisconnects(disconnects + 1, 2_000);
  });

  test("abort mid-stream: the iteration rejects with the abort reason and the upstream request is cancelled", async () => {
    const disconnects = fake.clientDisconnects;
    fake.enqueue({ kind: "stall", name: "text", afterChunks: 1 });
    const context = callContext({ firstByteTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
    const { events } = await adapter.stream(userRequest("Hi", { maxTokens: 5 }), context);
    const iterator = events[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.type, "start");
    const pending = iterator.next();
    const reason = new Error("caller went away");
    const abortedAt = Date.now();
    context.controller.abort(reason);
    await assert.rejects(pending, (error: unknown) => error === reason);
    assert.ok(Date.now() - abortedAt < 1_000, "the abort cancelled the request at once (not a timeout later)");
    await fake.waitForClientDisconnects(disconnects + 1, 2_000);
  });

  test("pass-through, with the official SDK as the caller: exact bytes out, stream and errors back untouched", async () => {
    const proxy = await startPassthroughProxy(adapter);
    try {
      const client = new Anthropic({ apiKey: "sk-ant-caller-key-is-not-forwarded", baseURL: proxy.url, maxRetries: 0 });
      fake.enqueue({ kind: "fixture", name: "thinking", pieceBytes: 9 });
      const message = await client.messages
        .stream({ model: "claude-haiku-4-5", max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 1024 }, messages: [{ role: "user", content: "27 * 453?" }] })
        .finalMessage();
      const sent = fake.requests.at(-1);
      assert.equal(sent?.headers["x-api-key"], "sk-ant-provider");
      assert.equal(sent?.headers["anthropic-version"], "2023-06-01");
      assert.deepEqual(sent?.body, { model: "claude-haiku-4-5", max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 1024 }, messages: [{ role: "user", content: "27 * 453?" }], stream: true });
      assert.equal(message.content[0]?.type, "thinking");
      assert.deepEqual(message.content[1], { type: "text", text: "27 * 453 = 12,231" });

      fake.enqueue({ kind: "fixture", name: "error-429" });
      await assert.rejects(client.messages.create({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "Hi" }] }), (error: unknown) => {
        assert.ok(error instanceof Anthropic.RateLimitError);
        assert.equal(error.headers?.get("retry-after"), "17");
        assert.equal(error.headers?.get("anthropic-ratelimit-requests-remaining"), "0");
        return true;
      });
    } finally {
      await proxy.close();
    }
  });
});
