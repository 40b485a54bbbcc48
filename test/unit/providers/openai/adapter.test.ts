/**
 * The OpenAI-compatible adapter against the fake OpenAI upstream (`test/support/fake-upstream.ts`) over real
 * sockets: what is sent upstream, the canonical result, error mapping, timeouts, abort and pass-through.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { StreamEvent } from "../../../../src/contracts/chat.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { OpenAIAdapter, OpenAICompatibleAdapter } from "../../../../src/providers/openai/adapter.js";
import { encodeChatRequest } from "../../../../src/providers/openai/request.js";
import { type FakeUpstream, startFakeUpstream } from "../../../support/fake-upstream.js";
import { callContext, collectEvents, fixtureText, mergeDeltas, userRequest } from "../../../support/provider-test-helpers.js";
import OpenAI from "openai";
import { startPassthroughProxy } from "../../../support/passthrough-proxy.js";
import { startSilentUpstream } from "../../../support/silent-upstream.js";

function isClawfleetError(code: string, check: (error: ClawfleetError) => void = () => undefined) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ClawfleetError, `expected a ClawfleetError, got ${String(error)}`);
    assert.equal(error.code, code);
    check(error);
    return true;
  };
}

describe("OpenAI-compatible adapter", { timeout: 30_000 }, () => {
  let fake: FakeUpstream;
  let adapter: OpenAICompatibleAdapter;
  let apiKey = "sk-provider-one";

  before(async () => {
    fake = await startFakeUpstream();
    adapter = new OpenAIAdapter({ id: "openai-main", baseUrl: fake.url, apiKey: () => apiKey, headers: { "openai-organization": "org-clawfleet" } });
  });
  after(async () => {
    await adapter.close();
    await fake.close();
  });

  test("identity: kind openai, native API openai-chat, has pass-through", () => {
    assert.equal(adapter.id, "openai-main");
    assert.equal(adapter.kind, "openai");
    assert.equal(adapter.nativeApi, "openai-chat");
    assert.equal(typeof adapter.passthrough, "function");
  });

  test("generate: sends the translated body with the provider key and returns the canonical answer", async () => {
    fake.enqueue({ kind: "fixture", name: "text" });
    const request = userRequest("Hi there", { model: "gpt-4o-mini", maxTokens: 50, topK: 3 });
    const { response, warnings } = await adapter.generate(request, callContext());
    const sent = fake.requests.at(-1);
    assert.equal(sent?.path, "/v1/chat/completions");
    assert.equal(sent?.headers.authorization, "Bearer sk-provider-one");
    assert.equal(sent?.headers["content-type"], "application/json");
    assert.equal(sent?.headers["openai-organization"], "org-clawfleet");
    assert.equal(sent?.headers["x-request-id"], "req-test-1");
    assert.deepEqual(sent?.body, encodeChatRequest({ ...request, stream: false }).body);
    assert.deepEqual(sent?.body, { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi there" }], max_completion_tokens: 50 });
    assert.deepEqual(response.content, [{ type: "text", text: "Hello! How can I help you today?" }]);
    assert.equal(response.finishReason, "stop");
    assert.deepEqual(response.usage, { inputTokens: 1240, outputTokens: 9, cacheReadTokens: 1024, cacheWriteTokens: 0, reasoningTokens: 0 });
    assert.deepEqual(
      warnings.map((warning) => warning.parameter),
      ["top_k"],
    );
  });

  test("the key is read per call (rotation without restart)", async () => {
    apiKey = "sk-provider-two";
    await adapter.generate(userRequest("again"), callContext());
    assert.equal(fake.requests.at(-1)?.headers.authorization, "Bearer sk-provider-two");
    apiKey = "sk-provider-one";
  });

  test("generate: a tool call comes back as a canonical tool call", async () => {
    fake.enqueue({ kind: "tool_call", name: "read", arguments: { path: "/etc/hostname" } });
    const { response } = await adapter.generate(userRequest("read it"), callContext());
    assert.equal(response.finishReason, "tool_calls");
    const call = response.content[0];
    assert.equal(call?.type, "tool_call");
    assert.equal(call?.type === "tool_call" ? call.arguments : "", '{"path":"/etc/hostname"}');
  });

  test("stream: asks for usage, and yields start, deltas, block_end and finish with usage", async () => {
    fake.enqueue({ kind: "fixture", name: "text" });
    const { events } = await adapter.stream(userRequest("Hi", { model: "gpt-4o-mini" }), callContext());
    const collected = await collectEvents(events);
    const sent = fake.requests.at(-1);
    assert.equal(sent?.headers.accept, "text/event-stream");
    assert.deepEqual(sent?.body, { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }], stream: true, stream_options: { include_usage: true } });
    assert.deepEqual(mergeDeltas(collected), [
      { type: "start", id: "chatcmpl-CdR7mQa5cTf1YwB8uNp3vZk6Gh2Jd", model: "gpt-4o-mini-2024-07-18", createdAt: 1763540315 },
      { type: "text_delta", index: 0, text: "Hello! How can I help you today?" },
      { type: "block_end", index: 0 },
      { type: "finish", finishReason: "stop", usage: { inputTokens: 1240, outputTokens: 9, cacheReadTokens: 1024, cacheWriteTokens: 0, reasoningTokens: 0 } },
    ]);
  });

  test("stream: a generated tool call streams its arguments", async () => {
    fake.enqueue({ kind: "tool_call", name: "exec", arguments: { command: "id -un" } });
    const collected = mergeDeltas(await collectEvents((await adapter.stream(userRequest("run"), callContext())).events));
    const deltas = collected.filter((event): event is Extract<StreamEvent, { type: "tool_call_delta" }> => event.type === "tool_call_delta");
    assert.equal(collected[1]?.type === "tool_call_start" ? collected[1].name : "", "exec");
    assert.deepEqual(JSON.parse(deltas[0]?.argumentsDelta ?? ""), { command: "id -un" });
    assert.equal(collected.at(-1)?.type === "finish" ? collected.at(-1)?.type : "", "finish");
  });

  test("429 with retry-after → CF_UPSTREAM_ERROR, status 429, retryAfterSeconds, details", async () => {
    fake.enqueue({ kind: "fixture", name: "error-429" });
    const body = JSON.parse(fixtureText("openai", "error-429.json")) as { error: { type: string; message: string } };
    await assert.rejects(
      adapter.generate(userRequest("Hi"), callContext()),
      isClawfleetError("CF_UPSTREAM_ERROR", (error) => {
        assert.equal(error.status, 429);
        assert.equal(error.retryAfterSeconds, 1);
        const { upstreamRequestId, ...details } = error.details as { upstreamRequestId?: unknown };
        assert.deepEqual(details, { provider: "openai-main", upstreamStatus: 429, upstreamType: body.error.type, upstreamMessage: body.error.message });
        assert.match(String(upstreamRequestId), /^req_[0-9a-f]{32}$/, "the provider's x-request-id (the fake's, as OpenAI's)");
      }),
    );
  });

  test("an error status on a stream request rejects stream() itself (the router can still fall back)", async () => {
    fake.enqueue({ kind: "error", status: 500 });
    await assert.rejects(adapter.stream(userRequest("Hi"), callContext()), isClawfleetError("CF_UPSTREAM_ERROR", (error) => assert.equal(error.status, 500)));
    fake.enqueue({ kind: "error", status: 401 });
    await assert.rejects(adapter.generate(userRequest("Hi"), callContext()), isClawfleetError("CF_UPSTREAM_ERROR", (error) => assert.equal(error.status, 401)));
  });

  test("connection reset → CF_UPSTREAM_UNREACHABLE; connection refused too", async () => {
    fake.enqueue({ kind: "reset" });
    await assert.rejects(adapter.generate(userRequest("Hi"), callContext()), isClawfleetError("CF_UPSTREAM_UNREACHABLE"));
    const silent = await startSilentUpstream();
    const url = silent.url;
    await silent.close();
    const refused = new OpenAIAdapter({ id: "gone", baseUrl: `${url}/v1`, apiKey: () => "k" });
    await assert.rejects(refused.generate(userRequest("Hi"), callContext()), isClawfleetError("CF_UPSTREAM_UNREACHABLE", (error) => assert.equal(error.status, 502)));
    await refused.close();
  });

  test("slow first byte: headers accepted but no first event within the limit → stream() rejects with CF_UPSTREAM_TIMEOUT", async () => {
    fake.enqueue({ kind: "stall", afterChunks: 0 });
    const startedAt = Date.now();
    await assert.rejects(
      adapter.stream(userRequest("Hi"), callContext({ firstByteTimeoutMs: 150, idleTimeoutMs: 5_000 })),
      isClawfleetError("CF_UPSTREAM_TIMEOUT", (error) => assert.deepEqual(error.details, { provider: "openai-main", phase: "first_byte", timeoutMs: 150 })),
    );
    assert.ok(Date.now() - startedAt < 2_000);
  });

  test("no response headers within the first-byte limit → CF_UPSTREAM_TIMEOUT (first_byte), upstream connection closed", async () => {
    const silent = await startSilentUpstream();
    const slow = new OpenAIAdapter({ id: "slow", baseUrl: `${silent.url}/v1`, apiKey: () => "k" });
    await assert.rejects(
      slow.generate(userRequest("Hi"), callContext({ firstByteTimeoutMs: 150 })),
      isClawfleetError("CF_UPSTREAM_TIMEOUT", (error) => assert.equal((error.details as { phase: string }).phase, "first_byte")),
    );
    await silent.waitForClosedConnections(1, 2_000);
    await slow.close();
    await silent.close();
  });

  test("idle stall mid-stream → the iteration throws CF_UPSTREAM_TIMEOUT (idle) after the events already received", async () => {
    fake.enqueue({ kind: "stall", afterChunks: 3 });
    const { events } = await adapter.stream(userRequest("tell me more"), callContext({ idleTimeoutMs: 200 }));
    const received: StreamEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of events) received.push(event);
      })(),
      isClawfleetError("CF_UPSTREAM_TIMEOUT", (error) => assert.deepEqual(error.details, { provider: "openai-main", phase: "idle", timeoutMs: 200 })),
    );
    assert.equal(received[0]?.type, "start");
    assert.ok(received.some((event) => event.type === "text_delta"));
  });

  test("abort mid-stream cancels the upstream request and surfaces the abort reason", async () => {
    const firstChunk = fixtureText("openai", "text.chunks.txt").split("\n")[0];
    const silent = await startSilentUpstream({ headers: { "content-type": "text/event-stream" }, body: `data: ${firstChunk}\n\n` });
    const aborting = new OpenAIAdapter({ id: "abortable", baseUrl: `${silent.url}/v1`, apiKey: () => "k" });
    const context = callContext({ firstByteTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
    const { events } = await aborting.stream(userRequest("Hi"), context);
    const iterator = events[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.type, "start");
    const reason = new ClawfleetError("CF_UPSTREAM_TIMEOUT", "router deadline");
    const pending = iterator.next();
    const abortedAt = Date.now();
    context.controller.abort(reason);
    await assert.rejects(pending, (error: unknown) => error === reason);
    assert.ok(Date.now() - abortedAt < 1_000, "the abort cancelled the request at once (not a timeout later)");
    await silent.waitForClosedConnections(1, 2_000);
    await aborting.close();
    await silent.close();
  });

  test("an already-aborted signal sends nothing", async () => {
    const context = callContext();
    context.controller.abort();
    const before = fake.requests.length;
    await assert.rejects(adapter.generate(userRequest("Hi"), context), (error: unknown) => error instanceof Error && error.name === "AbortError");
    assert.equal(fake.requests.length, before);
  });

  test("passthrough: forwards the exact bytes with the provider key; upstream errors come back as responses", async () => {
    const bytes = Buffer.from('{ "model":"gpt-4o-mini",\n  "messages":[{"role":"user","content":"héllo"}], "logprobs":true }');
    fake.enqueue({ kind: "fixture", name: "text" }, { kind: "fixture", name: "error-429" });
    const ok = await adapter.passthrough({ body: bytes, stream: false }, callContext());
    const chunks: Buffer[] = [];
    for await (const chunk of ok.body) chunks.push(Buffer.from(chunk));
    const sent = fake.requests.at(-1);
    assert.equal(sent?.rawBody, bytes.toString("utf8"));
    assert.equal(sent?.headers.authorization, "Bearer sk-provider-one");
    assert.equal(ok.status, 200);
    assert.equal(ok.headers["content-type"], "application/json");
    assert.ok(ok.headers["x-request-id"]?.startsWith("req_"));
    assert.equal(Buffer.concat(chunks).toString("utf8"), fixtureText("openai", "text.json"));

    const limited = await adapter.passthrough({ body: bytes, stream: false }, callContext());
    assert.equal(limited.status, 429);
    assert.equal(limited.headers["retry-after"], "1");
    assert.equal(limited.headers["x-ratelimit-remaining-tokens"], "320");
    for await (const chunk of limited.body) assert.ok(chunk.byteLength > 0);
  });

  test("passthrough of a stream returns the SSE bytes untouched", async () => {
    fake.enqueue({ kind: "fixture", name: "text" });
    const body = Buffer.from(JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }], stream: true }));
    const reply = await adapter.passthrough({ body, stream: true }, callContext());
    let text = "";
    for await (const chunk of reply.body) text += Buffer.from(chunk).toString("utf8");
    assert.equal(reply.headers["content-type"], "text/event-stream; charset=utf-8");
    assert.ok(text.endsWith("data: [DONE]\n\n"));
    assert.equal(fake.requests.at(-1)?.headers.accept, "text/event-stream");
  });

  test("pass-through, with the official SDK as the caller: stream with usage and a 429 come back untouched", async () => {
    const proxy = await startPassthroughProxy(adapter);
    try {
      const client = new OpenAI({ apiKey: "sk-caller-key-is-not-forwarded", baseURL: `${proxy.url}/v1`, maxRetries: 0 });
      fake.enqueue({ kind: "fixture", name: "tool-call" });
      const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "read it" }], stream: true, stream_options: { include_usage: true } });
      let argumentsText = "";
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        argumentsText += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(argumentsText, '{"path":"/etc/hostname"}');
      assert.equal(usage?.prompt_tokens, 1310);
      assert.equal(fake.requests.at(-1)?.headers.authorization, "Bearer sk-provider-one");

      fake.enqueue({ kind: "fixture", name: "error-429" });
      await assert.rejects(client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError);
        assert.equal(error.headers?.get("x-ratelimit-remaining-tokens"), "320");
        return true;
      });
    } finally {
      await proxy.close();
    }
  });
});
