/**
 * The bedrock adapter with the REAL `@aws-sdk/client-bedrock-runtime` client (SigV4 signer, REST-JSON
 * serializer, event-stream decoder) against `test/support/fake-bedrock.ts`, which speaks Bedrock's wire format
 * and verifies each request's signature. Verified against recorded wire formats, not live AWS.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import type { CanonicalRequest, StreamEvent } from "../../../../src/contracts/chat.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import type { ProviderCallContext } from "../../../../src/contracts/provider.js";
import { BedrockAdapter, type BedrockAdapterOptions } from "../../../../src/providers/bedrock/adapter.js";
import { loadStreamFixture, startFakeBedrock, type FakeBedrock } from "../../../support/fake-bedrock.js";

const CREDENTIALS = { accessKeyId: "AKIDTEST", secretAccessKey: "secret" };
const MODEL = "anthropic.claude-sonnet-4-20250514-v1:0";
const NOW_MS = 1_760_000_000_000;
const TEST_TIMEOUT = { timeout: 15_000 };
const ZERO_USAGE = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };

async function setup(context: TestContext, options: Partial<BedrockAdapterOptions> = {}): Promise<{ fake: FakeBedrock; adapter: BedrockAdapter }> {
  const fake = await startFakeBedrock({ secrets: { AKIDTEST: "secret", AKIDENV: "env-secret" } });
  const adapter = new BedrockAdapter({ id: "bedrock-test", region: "eu-west-3", endpoint: fake.endpoint, credentials: CREDENTIALS, now: () => NOW_MS, ...options });
  context.after(async () => {
    await adapter.close();
    await fake.close();
  });
  return { fake, adapter };
}

function callContext(overrides: Partial<ProviderCallContext> = {}): ProviderCallContext {
  return { requestId: "req-local-1", signal: new AbortController().signal, connectTimeoutMs: 2_000, firstByteTimeoutMs: 5_000, idleTimeoutMs: 5_000, ...overrides };
}

function chat(overrides: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: MODEL, stream: false, messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }], ...overrides };
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const collected: StreamEvent[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function rejection(promise: Promise<unknown>): Promise<ClawfleetError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ClawfleetError, `expected a ClawfleetError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected a rejection");
}

test("generate: the SDK signs for bedrock in the provider's region and sends Converse JSON; the answer is translated", TEST_TIMEOUT, async (context) => {
  const { fake, adapter } = await setup(context);
  fake.enqueue({ kind: "fixture", name: "text" });
  const { response, warnings } = await adapter.generate(
    chat({
      messages: [
        { role: "system", content: [{ type: "text", text: "Be brief." }] },
        { role: "user", content: [{ type: "text", text: "Hello" }, { type: "image", source: { kind: "base64", mediaType: "image/png", data: "AQID" } }] },
      ],
      maxTokens: 100,
      temperature: 0.5,
      seed: 1,
    }),
    callContext(),
  );
  assert.deepEqual(warnings.map((warning) => warning.parameter), ["seed"]);
  assert.deepEqual(response.content, [{ type: "text", text: "Hello! How can I help you today?" }]);
  assert.equal(response.finishReason, "stop");
  assert.equal(response.model, MODEL);
  assert.equal(response.createdAt, NOW_MS / 1000);
  assert.match(response.id, /^fake-/, "the id is the x-amzn-requestid");

  const [sent] = fake.requests;
  assert.ok(sent);
  assert.equal(sent.operation, "converse");
  assert.equal(sent.path, "/model/anthropic.claude-sonnet-4-20250514-v1%3A0/converse");
  assert.equal(sent.modelId, MODEL);
  assert.match(sent.signature.authorization ?? "", /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-3\/bedrock\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/);
  assert.equal(sent.signature.valid, true, "signature recomputed with the secret matches");
  assert.deepEqual(sent.body, {
    system: [{ text: "Be brief." }],
    messages: [{ role: "user", content: [{ text: "Hello" }, { image: { format: "png", source: { bytes: "AQID" } } }] }],
    inferenceConfig: { maxTokens: 100, temperature: 0.5 },
  });
});

test("generate: tool config and tool use on the wire", TEST_TIMEOUT, async (context) => {
  const { fake, adapter } = await setup(context);
  fake.enqueue({ kind: "fixture", name: "tool-use" });
  const { response } = await adapter.generate(
    chat({ tools: [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }], toolChoice: { type: "tool", name: "get_weather" }, topK: 20 }),
    callContext(),
  );
  assert.equal(response.finishReason, "tool_calls");
  assert.deepEqual(response.content[1], { type: "tool_call", id: "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' });
  const body = fake.requests[0]?.body as Record<string, unknown>;
  assert.deepEqual(body.toolConfig, {
    tools: [{ toolSpec: { name: "get_weather", inputSchema: { json: { type: "object", properties: { city: { type: "string" } } } } } }],
    toolChoice: { tool: { name: "get_weather" } },
  });
  assert.deepEqual(body.additionalModelRequestFields, { top_k: 20 });
});

test("stream: binary event-stream frames decoded by the SDK become canonical events", TEST_TIMEOUT, async (context) => {
  const { fake, adapter } = await setup(context);
  fake.enqueue({ kind: "fixture", name: "text" }, { kind: "fixture", name: "tool-use" }, { kind: "fixture", name: "reasoning-cached" });
  const text = await collect((await adapter.stream(chat({ stream: true }), callContext())).events);
  assert.deepEqual(
    text.map((event) => event.type),
    ["start", "text_delta", "text_delta", "text_delta", "block_end", "finish"],
  );
  assert.equal(text.filter((event) => event.type === "text_delta").map((event) => (event.type === "text_delta" ? event.text : "")).join(""), "Hello! How can I help you today?");
  assert.deepEqual(text.at(-1), { type: "finish", finishReason: "stop", usage: { ...ZERO_USAGE, inputTokens: 12, outputTokens: 10 } });
  assert.equal(fake.requests[0]?.operation, "converse-stream");
  assert.equal(fake.requests[0]?.signature.valid, true);

  const tool = await collect((await adapter.stream(chat({ stream: true }), callContext())).events);
  assert.deepEqual(tool.filter((event) => event.type === "tool_call_start"), [{ type: "tool_call_start", index: 1, id: "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", name: "get_weather" }]);
  const argumentsText = tool.map((event) => (event.type === "tool_call_delta" ? event.argumentsDelta : "")).join("");
  assert.deepEqual(JSON.parse(argumentsText), { city: "Paris", unit: "celsius" });

  const reasoning = await collect((await adapter.stream(chat({ stream: true }), callContext())).events);
  assert.ok(reasoning.some((event) => event.type === "reasoning_delta" && event.signature === "EqoBCkgIARABGAIiQLuBTMNqf1QX2cXK7fbLcUGB"));
  assert.deepEqual(reasoning.at(-1), { type: "finish", finishReason: "stop", usage: { inputTokens: 2069, outputTokens: 96, cacheReadTokens: 1800, cacheWriteTokens: 248, reasoningTokens: 0 } });
});

test("stream: an exception frame mid-stream becomes an error event with the documented status", TEST_TIMEOUT, async (context) => {
  const { fake, adapter } = await setup(context);
  fake.enqueue({ kind: "fixture", name: "throttled-mid-stream" }, { kind: "fixture", name: "model-stream-error" });
  const throttled = await collect((await adapter.stream(chat({ stream: true }), callContext())).events);
  assert.deepEqual(throttled.slice(0, 2), [
    { type: "start", id: throttled[0]?.type === "start" ? throttled[0].id : "", model: MODEL, createdAt: NOW_MS / 1000 },
    { type: "text_delta", index: 0, text: "Once upon" },
  ]);
  const last = throttled.at(-1);
  assert.equal(last?.type, "error");
  assert.equal(last?.type === "error" && last.status, 429);
  assert.equal(last?.type === "error" && last.errorType, "rate_limit_error");
  assert.match(last?.type === "error" ? last.message : "", /answered HTTP 429: Too many tokens/);

  const modelError = await collect((await adapter.stream(chat({ stream: true }), callContext())).events);
  assert.deepEqual(
    modelError.map((event) => (event.type === "error" ? `${event.type}:${event.status}` : event.type)),
    ["start", "error:424"],
  );
});

test("HTTP errors: each documented exception maps per the contract, before any stream starts", TEST_TIMEOUT, async (context) => {
  const { fake, adapter } = await setup(context);
  const cases: Array<[string, string, number]> = [
    ["error-throttling", "CF_UPSTREAM_ERROR", 429],
    ["error-validation", "CF_UPSTREAM_ERROR", 400],
    ["error-access-denied", "CF_UPSTREAM_ERROR", 403],
    ["error-model-timeout", "CF_UPSTREAM_TIMEOUT", 504],
    ["error-service-unavailable", "CF_UPSTREAM_ERROR", 503],
    ["error-internal", "CF_UPSTREAM_ERROR", 500],
    ["error-model-not-ready", "CF_UPSTREAM_ERROR", 429],
  ];
  for (const [fixture, code, status] of cases) {
    fake.enqueue({ kind: "fixture", name: fixture });
    const error = await rejection(adapter.generate(chat(), callContext()));
    assert.equal(error.code, code, fixture);
    assert.equal(error.status, status, fixture);
  }
  assert.equal(fake.requests.length, cases.length, "the SDK does not retry (maxAttempts 1)");

  fake.enqueue({ kind: "error", status: 429, errorType: "ThrottlingException", message: "Rate exceeded", headers: { "retry-after": "7" } });
  const streamError = await rejection(adapter.stream(chat({ stream: true }), callContext()));
  assert.equal(streamError.status, 429);
  assert.equal(streamError.retryAfterSeconds, 7);
  const { upstreamRequestId, ...details } = streamError.details as { upstreamRequestId?: unknown };
  assert.deepEqual(details, { provider: "bedrock-test", upstreamStatus: 429, upstreamType: "ThrottlingException", upstreamMessage: "Rate exceeded" });
  assert.match(String(upstreamRequestId), /^fake-[0-9a-f]+-[0-9a-f]+$/, "x-amzn-RequestId, read by the SDK into $metadata.requestId");
});

test("connection refused and reset are CF_UPSTREAM_UNREACHABLE", TEST_TIMEOUT, async (context) => {
  const { fake, adapter } = await setup(context);
  fake.enqueue({ kind: "reset" });
  assert.equal((await rejection(adapter.generate(chat(), callContext()))).code, "CF_UPSTREAM_UNREACHABLE");

  const closed = await startFakeBedrock();
  const endpoint = closed.endpoint;
  await closed.close();
  const refused = new BedrockAdapter({ id: "bedrock-down", region: "us-east-1", endpoint, credentials: CREDENTIALS });
  context.after(() => refused.close());
  const error = await rejection(refused.generate(chat(), callContext()));
  assert.equal(error.code, "CF_UPSTREAM_UNREACHABLE");
  assert.equal((error.details as { reason: string }).reason, "ECONNREFUSED");
});

test("first-byte timeout (no headers) and idle timeout (stream goes silent)", TEST_TIMEOUT, async (context) => {
  const { fake, adapter } = await setup(context);
  fake.enqueue({ kind: "stall" });
  const started = Date.now();
  const error = await rejection(adapter.generate(chat(), callContext({ firstByteTimeoutMs: 300 })));
  assert.equal(error.code, "CF_UPSTREAM_TIMEOUT");
  assert.deepEqual(error.details, { provider: "bedrock-test", phase: "first_byte", timeoutMs: 300 });
  assert.ok(Date.now() - started < 3_000);

  fake.enqueue({ kind: "stall", frames: await loadStreamFixture("text"), afterFrames: 2 });
  const { events } = await adapter.stream(chat({ stream: true }), callContext({ idleTimeoutMs: 300 }));
  const received = await collect(events);
  assert.deepEqual(received.slice(0, 2).map((event) => event.type), ["start", "text_delta"]);
  const last = received.at(-1);
  assert.equal(last?.type === "error" && last.status, 504);
  assert.deepEqual(last, { type: "error", status: 504, errorType: "timeout_error", message: "provider bedrock-test did not send the next chunk within 300 ms" });
});

test("the caller's abort cancels the upstream request, before and during a stream", TEST_TIMEOUT, async (context) => {
  const { fake, adapter } = await setup(context);
  const beforeHeaders = new AbortController();
  fake.enqueue({ kind: "stall" });
  const pending = adapter.generate(chat(), callContext({ signal: beforeHeaders.signal }));
  setTimeout(() => beforeHeaders.abort(new ClawfleetError("CF_UPSTREAM_TIMEOUT", "router deadline")), 100);
  const error = await rejection(pending);
  assert.equal(error.message, "router deadline", "the abort reason is reported");

  const during = new AbortController();
  fake.enqueue({ kind: "stall", frames: await loadStreamFixture("text"), afterFrames: 2 });
  const { events } = await adapter.stream(chat({ stream: true }), callContext({ signal: during.signal }));
  const iterator = events[Symbol.asyncIterator]();
  assert.equal((await iterator.next()).value?.type, "start");
  during.abort();
  await assert.rejects(async () => {
    for (;;) if ((await iterator.next()).done) return;
  }, (thrown: unknown) => thrown instanceof Error && thrown.name === "AbortError");
  await waitFor(() => fake.openConnections() === 0, "the upstream connection is closed");
});

test("a consumer that stops reading early cancels the upstream request", TEST_TIMEOUT, async (context) => {
  const { fake, adapter } = await setup(context);
  fake.enqueue({ kind: "stall", frames: await loadStreamFixture("text"), afterFrames: 3 });
  const { events } = await adapter.stream(chat({ stream: true }), callContext());
  for await (const event of events) if (event.type === "text_delta") break;
  await waitFor(() => fake.openConnections() === 0, "the upstream connection is closed");
});

test("default credential chain: keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY sign the request", TEST_TIMEOUT, async (context) => {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, token: process.env.AWS_SESSION_TOKEN, bearer: process.env.AWS_BEARER_TOKEN_BEDROCK };
  process.env.AWS_ACCESS_KEY_ID = "AKIDENV";
  process.env.AWS_SECRET_ACCESS_KEY = "env-secret";
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_BEARER_TOKEN_BEDROCK;
  context.after(() => {
    for (const [name, value] of [["AWS_ACCESS_KEY_ID", saved.id], ["AWS_SECRET_ACCESS_KEY", saved.secret], ["AWS_SESSION_TOKEN", saved.token], ["AWS_BEARER_TOKEN_BEDROCK", saved.bearer]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  const { fake, adapter } = await setup(context, { credentials: undefined, region: "ap-southeast-2" });
  fake.enqueue({ kind: "fixture", name: "text" });
  await adapter.generate(chat(), callContext());
  const signature = fake.requests[0]?.signature;
  assert.equal(signature?.accessKeyId, "AKIDENV");
  assert.equal(signature?.region, "ap-southeast-2");
  assert.equal(signature?.valid, true);
});

test("a wrong secret is refused by the fake's signature check (the check can fail)", TEST_TIMEOUT, async (context) => {
  const { fake, adapter } = await setup(context, { credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "not-the-secret" } });
  fake.enqueue({ kind: "fixture", name: "text" });
  const error = await rejection(adapter.generate(chat(), callContext()));
  assert.equal(error.status, 403);
  assert.equal((error.details as { upstreamType: string }).upstreamType, "InvalidSignatureException");
  assert.equal(fake.requests[0]?.signature.valid, false);
});
