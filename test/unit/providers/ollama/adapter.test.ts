/**
 * The Ollama adapter against the fake Ollama over real sockets (the fake refuses bodies Ollama's server could
 * not decode): what is sent upstream, the canonical result, error mapping, timeouts and abort.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { StreamEvent } from "../../../../src/contracts/chat.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import type { ProviderAdapter } from "../../../../src/contracts/provider.js";
import { OllamaAdapter, ollamaBaseUrl } from "../../../../src/providers/ollama/adapter.js";
import { encodeOllamaChatRequest } from "../../../../src/providers/ollama/request.js";
import { startFakeOllama } from "../../../support/fake-ollama.js";
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

test("OLLAMA_HOST-style addresses become base URLs", () => {
  assert.equal(ollamaBaseUrl(undefined), "http://127.0.0.1:11434");
  assert.equal(ollamaBaseUrl(""), "http://127.0.0.1:11434");
  assert.equal(ollamaBaseUrl("127.0.0.1"), "http://127.0.0.1:11434");
  assert.equal(ollamaBaseUrl("0.0.0.0:8080"), "http://127.0.0.1:8080");
  assert.equal(ollamaBaseUrl("gpu-box.internal"), "http://gpu-box.internal:11434");
  assert.equal(ollamaBaseUrl("https://ollama.example.com"), "https://ollama.example.com");
  assert.equal(ollamaBaseUrl("http://[::]:11434"), "http://[::1]:11434");
});

describe("Ollama adapter", { timeout: 30_000 }, () => {
  let fake: ScriptedFake;
  let adapter: OllamaAdapter;

  before(async () => {
    fake = await startFakeOllama();
    adapter = new OllamaAdapter({ id: "local", host: fake.url });
  });
  after(async () => {
    await adapter.close();
    await fake.close();
  });

  test("identity: kind ollama, no native client API, no pass-through", () => {
    assert.equal(adapter.kind, "ollama");
    assert.equal(adapter.nativeApi, null);
    assert.equal((adapter as ProviderAdapter).passthrough, undefined);
  });

  test("generate: POST /api/chat with stream false and options; the canonical answer; no auth header by default", async () => {
    fake.enqueue({ kind: "fixture", name: "text" });
    const request = userRequest("Hi", { model: "llama3.2", maxTokens: 64, temperature: 0, user: "u1" });
    const { response, warnings } = await adapter.generate(request, callContext({ requestId: "req-42" }));
    const sent = fake.requests.at(-1);
    assert.equal(sent?.path, "/api/chat");
    assert.equal(sent?.headers.authorization, undefined);
    assert.deepEqual(sent?.body, encodeOllamaChatRequest({ ...request, stream: false }).body);
    assert.deepEqual(sent?.body, { model: "llama3.2", messages: [{ role: "user", content: "Hi" }], stream: false, options: { temperature: 0, num_predict: 64 } });
    assert.equal(response.id, "ollama-req-42");
    assert.deepEqual(response.content, [{ type: "text", text: "Hello! How are you today?" }]);
    assert.deepEqual(response.usage, { inputTokens: 26, outputTokens: 298, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
    assert.deepEqual(warnings.map((warning) => warning.parameter), ["user"]);
  });

  test("a configured key is sent as a bearer token", async () => {
    const keyed = new OllamaAdapter({ id: "cloud", host: fake.url, apiKey: () => "ollama-key" });
    fake.enqueue({ kind: "fixture", name: "text" });
    await keyed.generate(userRequest("Hi"), callContext());
    assert.equal(fake.requests.at(-1)?.headers.authorization, "Bearer ollama-key");
    await keyed.close();
  });

  test("stream: NDJSON split into 3-byte pieces → reasoning and two whole tool calls with stable ids", async () => {
    fake.enqueue({ kind: "fixture", name: "tool-call", pieceBytes: 3 });
    const request = userRequest("Weather?", { model: "qwen3", tools: [{ name: "get_current_weather", parameters: { type: "object" } }] });
    const events = mergeDeltas(await collectEvents((await adapter.stream(request, callContext())).events));
    assert.equal((fake.requests.at(-1)?.body as { stream?: unknown }).stream, true);
    assert.deepEqual(
      events.filter((event) => event.type === "tool_call_start"),
      [
        { type: "tool_call_start", index: 1, id: "call_0", name: "get_current_weather" },
        { type: "tool_call_start", index: 2, id: "call_1", name: "get_current_weather" },
      ],
    );
    assert.deepEqual(events.at(-1), { type: "finish", finishReason: "tool_calls", usage: { inputTokens: 187, outputTokens: 64, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } });
  });

  test("an error line mid-stream ends the stream with an error event", async () => {
    fake.enqueue({ kind: "fixture", name: "error-mid-stream" });
    const events = await collectEvents((await adapter.stream(userRequest("Hi"), callContext())).events);
    assert.deepEqual(events.at(-1), { type: "error", status: 500, message: "an error was encountered while running the model: unexpected EOF", errorType: "api_error" });
  });

  test("404 (unknown model), 429 with retry-after, 500 → CF_UPSTREAM_ERROR with the upstream status", async () => {
    fake.enqueue({ kind: "fixture", name: "error-404" }, { kind: "error", status: 429, headers: { "retry-after": "2" } }, { kind: "fixture", name: "error-500" });
    await assert.rejects(
      adapter.generate(userRequest("Hi", { model: "llama9" }), callContext()),
      isClawfleetError("CF_UPSTREAM_ERROR", (error) => assert.deepEqual(error.details, { provider: "local", upstreamStatus: 404, upstreamType: null, upstreamMessage: 'model "llama9" not found, try pulling it first' })),
    );
    await assert.rejects(
      adapter.stream(userRequest("Hi"), callContext()),
      isClawfleetError("CF_UPSTREAM_ERROR", (error) => {
        assert.equal(error.status, 429);
        assert.equal(error.retryAfterSeconds, 2);
      }),
    );
    await assert.rejects(adapter.generate(userRequest("Hi"), callContext()), isClawfleetError("CF_UPSTREAM_ERROR", (error) => assert.equal(error.status, 500)));
  });

  test("connection reset → CF_UPSTREAM_UNREACHABLE", async () => {
    fake.enqueue({ kind: "reset" });
    await assert.rejects(adapter.stream(userRequest("Hi"), callContext()), isClawfleetError("CF_UPSTREAM_UNREACHABLE"));
  });

  test("slow first byte (model loading) → CF_UPSTREAM_TIMEOUT (first_byte), upstream cancelled", async () => {
    const disconnects = fake.clientDisconnects;
    fake.enqueue({ kind: "fixture", name: "text", firstChunkDelayMs: 1_000 });
    await assert.rejects(
      adapter.stream(userRequest("Hi"), callContext({ firstByteTimeoutMs: 200 })),
      isClawfleetError("CF_UPSTREAM_TIMEOUT", (error) => assert.deepEqual(error.details, { provider: "local", phase: "first_byte", timeoutMs: 200 })),
    );
    await fake.waitForClientDisconnects(disconnects + 1, 2_000);
  });

  test("idle stall mid-stream → the iteration throws CF_UPSTREAM_TIMEOUT (idle)", async () => {
    fake.enqueue({ kind: "stall", name: "text", afterChunks: 2 });
    const { events } = await adapter.stream(userRequest("Hi"), callContext({ idleTimeoutMs: 150 }));
    const received: StreamEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of events) received.push(event);
      })(),
      isClawfleetError("CF_UPSTREAM_TIMEOUT", (error) => assert.equal((error.details as { phase: unknown }).phase, "idle")),
    );
    assert.deepEqual(received.map((event) => event.type), ["start", "text_delta", "text_delta"]);
  });

  test("abort cancels the upstream request", async () => {
    const disconnects = fake.clientDisconnects;
    fake.enqueue({ kind: "stall", name: "text", afterChunks: 1 });
    const context = callContext({ firstByteTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
    const { events } = await adapter.stream(userRequest("Hi"), context);
    const iterator = events[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.type, "start");
    assert.equal((await iterator.next()).value?.type, "text_delta");
    const pending = iterator.next();
    const abortedAt = Date.now();
    context.controller.abort();
    await assert.rejects(pending, (error: unknown) => error instanceof Error && error.name === "AbortError");
    assert.ok(Date.now() - abortedAt < 1_000, "the abort cancelled the request at once (not a timeout later)");
    await fake.waitForClientDisconnects(disconnects + 1, 2_000);
  });
});
