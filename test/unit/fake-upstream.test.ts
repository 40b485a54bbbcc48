/**
 * The fake OpenAI upstream, driven by the official `openai` SDK as the client (and raw `fetch`
 * where the exact bytes on the wire matter).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test, type TestContext } from "node:test";
import OpenAI, { APIConnectionError, APIError, InternalServerError, RateLimitError } from "openai";
import type { ChatCompletionChunk, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import {
  OPENAI_FIXTURE_DIRECTORY,
  lastRealUserText,
  startFakeUpstream,
  toolResultsAfterLastUser,
  type FakeUpstream,
} from "../support/fake-upstream.js";

const API_KEY = "sk-test-tenant1-key";
const MESSAGES: ChatCompletionMessageParam[] = [{ role: "user", content: "hello there\nsecond line" }];

/** A request body shaped like OpenClaw's: real user turn, tool round-trip, then its internal-context message. */
const OPENCLAW_BODY = {
  model: "fake-model",
  stream: true,
  stream_options: { include_usage: true },
  messages: [
    { role: "system", content: "You are a personal assistant running inside OpenClaw." },
    { role: "user", content: "[Sat 2026-11-21 03:21 UTC] please run a command\n\nRuntime: agent=main" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "callfake1", type: "function", function: { name: "exec", arguments: '{"command":"id -un"}' } }],
    },
    { role: "tool", content: "root", tool_call_id: "callfake1" },
    { role: "tool", content: [{ type: "text", text: "second result" }], tool_call_id: "callfake2" },
    {
      role: "user",
      content: [{ type: "text", text: "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nActive exec sessions: none\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>" }],
    },
  ],
};

async function startFake(context: TestContext): Promise<FakeUpstream> {
  const fake = await startFakeUpstream();
  context.after(() => fake.close());
  return fake;
}

function clientFor(fake: FakeUpstream, maxRetries = 0): OpenAI {
  return new OpenAI({ apiKey: API_KEY, baseURL: fake.url, maxRetries });
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function contentOf(chunks: ChatCompletionChunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
}

/** POSTs a raw chat body and returns the SSE `data:` payloads as sent. */
async function rawStream(fake: FakeUpstream, body: unknown): Promise<{ response: Response; payloads: string[] }> {
  const response = await fetch(`${fake.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const payloads = text
    .split("\n\n")
    .filter((event) => event !== "")
    .map((event) => {
      assert.ok(event.startsWith("data: "), `SSE event without data: ${event}`);
      return event.slice("data: ".length);
    });
  return { response, payloads };
}

/** Blanks the per-response values (completion and tool-call ids, `created`, `obfuscation`) of a JSON text, keeping its layout. */
function normalizeIdentity(jsonText: string): string {
  return jsonText
    .replace(/("id":\s*)"chatcmpl-[A-Za-z0-9]+"/g, '$1"chatcmpl-X"')
    .replace(/("id":\s*)"call_[A-Za-z0-9]+"/g, '$1"call_X"')
    .replace(/("created":\s*)\d+/g, "$10")
    .replace(/("obfuscation":\s*)"[A-Za-z0-9]*"/g, '$1"X"');
}

async function fixtureLines(name: string): Promise<string[]> {
  const text = await readFile(path.join(OPENAI_FIXTURE_DIRECTORY, `${name}.chunks.txt`), "utf8");
  return text.split("\n").filter((line) => line !== "");
}

test("non-streaming text reply has OpenAI's chat.completion shape", async (context) => {
  const fake = await startFake(context);
  fake.enqueue({ kind: "text", text: "Hello from the fake" });
  const completion = await clientFor(fake).chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
  assert.equal(completion.object, "chat.completion");
  assert.match(completion.id, /^chatcmpl-[A-Za-z0-9]{29}$/);
  assert.equal(completion.model, "gpt-4o-mini");
  assert.equal(completion.choices[0]?.message.content, "Hello from the fake");
  assert.equal(completion.choices[0]?.finish_reason, "stop");
  assert.equal(completion.usage?.total_tokens, 1249);
  assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 1024);
  assert.equal(completion.usage?.completion_tokens_details?.reasoning_tokens, 0);
});

test("streamed text: deltas assemble and the usage chunk comes last when include_usage is set", async (context) => {
  const fake = await startFake(context);
  const client = clientFor(fake);
  fake.enqueue({
    kind: "text",
    text: "Streaming works, token by token.",
    usage: { promptTokens: 10, completionTokens: 5, cachedTokens: 3, reasoningTokens: 2 },
  });
  const chunks = await collect(
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true, stream_options: { include_usage: true } }),
  );
  assert.equal(contentOf(chunks), "Streaming works, token by token.");
  assert.ok(chunks.filter((chunk) => chunk.choices[0]?.delta.content).length > 3, "text is split across chunks");
  assert.equal(chunks[0]?.choices[0]?.delta.role, "assistant");
  const usageChunk = chunks.at(-1);
  assert.deepEqual(usageChunk?.choices, []);
  assert.deepEqual(usageChunk?.usage, {
    prompt_tokens: 10,
    completion_tokens: 5,
    total_tokens: 15,
    prompt_tokens_details: { cached_tokens: 3, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 2, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  });
  assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage === null), "earlier chunks carry usage: null");
  assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, "stop");
  assert.ok(new Set(chunks.map((chunk) => chunk.id)).size === 1, "one id per stream");

  fake.enqueue({ kind: "text", text: "No usage please." });
  const withoutUsage = await collect(await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true }));
  assert.equal(contentOf(withoutUsage), "No usage please.");
  assert.ok(withoutUsage.every((chunk) => !("usage" in chunk) && chunk.choices.length === 1), "no usage field, no usage chunk");
});

test("generated text stream reproduces the recorded `text` fixture (ids, created and obfuscation aside)", async (context) => {
  const fake = await startFake(context);
  const recorded = await fixtureLines("text");
  const recordedText = recorded
    .filter((line) => line !== "[DONE]")
    .map((line) => (JSON.parse(line) as ChatCompletionChunk).choices[0]?.delta.content ?? "")
    .join("");
  fake.enqueue({ kind: "text", text: recordedText });
  const { response, payloads } = await rawStream(fake, {
    model: "gpt-4o-mini-2024-07-18",
    messages: MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "no-cache");
  assert.match(response.headers.get("x-request-id") ?? "", /^req_[0-9a-f]{32}$/);
  assert.deepEqual(payloads.map(normalizeIdentity), recorded.map(normalizeIdentity), "same keys, same order, same values");

  fake.enqueue({ kind: "text", text: recordedText });
  const json = await fetch(`${fake.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini-2024-07-18", messages: MESSAGES }),
  });
  assert.equal(json.headers.get("content-type"), "application/json");
  const recordedJson = await readFile(path.join(OPENAI_FIXTURE_DIRECTORY, "text.json"), "utf8");
  assert.equal(normalizeIdentity(await json.text()), normalizeIdentity(recordedJson), "byte-identical apart from id and created");
});

test("generated tool call reproduces the recorded `tool-call` fixture, streamed and not", async (context) => {
  const fake = await startFake(context);
  const request = { model: "gpt-4o-mini-2024-07-18", messages: MESSAGES };
  fake.enqueue({ kind: "tool_call", name: "read", arguments: { path: "/etc/hostname" } });
  const { payloads } = await rawStream(fake, { ...request, stream: true, stream_options: { include_usage: true } });
  assert.deepEqual(payloads.map(normalizeIdentity), (await fixtureLines("tool-call")).map(normalizeIdentity));
  fake.enqueue({ kind: "tool_call", name: "read", arguments: { path: "/etc/hostname" } });
  const json = await fetch(`${fake.url}/chat/completions`, { method: "POST", body: JSON.stringify(request) });
  const recordedJson = await readFile(path.join(OPENAI_FIXTURE_DIRECTORY, "tool-call.json"), "utf8");
  assert.equal(normalizeIdentity(await json.text()), normalizeIdentity(recordedJson));
});

test("streamed tool call: arguments arrive split and parse to what was scripted", async (context) => {
  const fake = await startFake(context);
  const client = clientFor(fake);
  const scripted = { command: "echo hello-from-tool", title: "probe", options: { timeoutMs: 5000, tags: ["a", "ü"] } };
  fake.enqueue({ kind: "tool_call", name: "exec", arguments: scripted });
  const chunks = await collect(
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true, stream_options: { include_usage: true } }),
  );
  const toolDeltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
  assert.ok(toolDeltas.length > 3, "arguments are streamed across several chunks");
  assert.equal(toolDeltas[0]?.function?.name, "exec");
  assert.match(toolDeltas[0]?.id ?? "", /^call_[A-Za-z0-9]{24}$/);
  assert.ok(toolDeltas.slice(1).every((delta) => delta.id === undefined && delta.index === 0));
  const argumentsText = toolDeltas.map((delta) => delta.function?.arguments ?? "").join("");
  assert.deepEqual(JSON.parse(argumentsText), scripted);
  assert.equal(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason, "tool_calls");
  assert.equal(chunks.at(-1)?.usage?.total_tokens, 1327);

  fake.enqueue({ kind: "tool_call", name: "read", arguments: { path: "/etc/hostname" } });
  const completion = await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
  const call = completion.choices[0]?.message.tool_calls?.[0];
  assert.equal(completion.choices[0]?.message.content, null);
  assert.equal(call?.type === "function" ? call.function.name : undefined, "read");
  assert.deepEqual(JSON.parse(call?.type === "function" ? call.function.arguments : "null"), { path: "/etc/hostname" });
});

test("429 with retry-after surfaces as APIError status 429", async (context) => {
  const fake = await startFake(context);
  const client = clientFor(fake);
  fake.enqueue({ kind: "fixture", name: "error-429" });
  const error: unknown = await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true }).then(
    () => assert.fail("expected a 429"),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof APIError && error instanceof RateLimitError);
  assert.equal(error.status, 429);
  assert.equal(error.headers?.get("retry-after"), "1");
  assert.equal(error.code, "rate_limit_exceeded");
  assert.equal(error.type, "tokens");

  fake.enqueue({ kind: "error", status: 429, headers: { "retry-after": "7" } });
  await assert.rejects(client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES }), (caught: unknown) => {
    assert.ok(caught instanceof RateLimitError);
    assert.equal(caught.headers?.get("retry-after"), "7");
    assert.equal(caught.code, "rate_limit_exceeded");
    return true;
  });

  fake.enqueue({ kind: "error", status: 429, headers: { "retry-after-ms": "10" } }, { kind: "text", text: "after retry" });
  const retried = await clientFor(fake, 1).chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
  assert.equal(retried.choices[0]?.message.content, "after retry");
  assert.equal(fake.requests.at(-1)?.headers["x-stainless-retry-count"], "1");
});

test("fixture replay is verbatim; the 500 fixture surfaces as InternalServerError", async (context) => {
  const fake = await startFake(context);
  const client = clientFor(fake);
  fake.enqueue({ kind: "fixture", name: "text" });
  const response = await fetch(`${fake.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "other-model", messages: MESSAGES }),
  });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), await readFile(path.join(OPENAI_FIXTURE_DIRECTORY, "text.json"), "utf8"));

  fake.enqueue({ kind: "fixture", name: "tool-call" });
  const { payloads } = await rawStream(fake, { model: "other-model", messages: MESSAGES, stream: true, stream_options: { include_usage: true } });
  assert.deepEqual(payloads, await fixtureLines("tool-call"));

  fake.enqueue({ kind: "fixture", name: "text" });
  const chunks = await collect(await client.chat.completions.create({ model: "other-model", messages: MESSAGES, stream: true }));
  assert.equal(contentOf(chunks), "Hello! How can I help you today?");
  assert.equal(chunks[0]?.model, "gpt-4o-mini-2024-07-18", "model kept from the fixture");

  fake.enqueue({ kind: "fixture", name: "error-500" });
  await assert.rejects(client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES }), (caught: unknown) => {
    assert.ok(caught instanceof InternalServerError);
    assert.equal(caught.status, 500);
    assert.equal(caught.type, "server_error");
    return true;
  });
  assert.throws(() => fake.enqueue({ kind: "fixture", name: "no-such-case" }), TypeError);
  assert.throws(() => fake.enqueue({ kind: "fixture", name: "../text" }), TypeError);
});

test("request log records method, path, headers (Authorization) and body, for every route", async (context) => {
  const fake = await startFake(context);
  const client = clientFor(fake);
  const models = await client.models.list();
  assert.ok(models.data.some((model) => model.id === "gpt-4o-mini"));
  await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, temperature: 0.2 });
  assert.equal(fake.requests.length, 2);
  const [modelsRequest, chatRequest] = fake.requests;
  assert.equal(modelsRequest?.method, "GET");
  assert.equal(modelsRequest?.path, "/v1/models");
  assert.equal(chatRequest?.method, "POST");
  assert.equal(chatRequest?.path, "/v1/chat/completions");
  assert.equal(chatRequest?.headers.authorization, `Bearer ${API_KEY}`);
  assert.deepEqual(chatRequest?.body, { model: "gpt-4o-mini", messages: MESSAGES, temperature: 0.2 });
  assert.deepEqual(JSON.parse(chatRequest?.rawBody ?? ""), chatRequest?.body);
  assert.ok(Math.abs((chatRequest?.receivedAtMs ?? 0) - Date.now()) < 10_000);
});

test("reset destroys the socket: the SDK raises a connection error", async (context) => {
  const fake = await startFake(context);
  fake.enqueue({ kind: "reset" });
  await assert.rejects(
    clientFor(fake).chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true }),
    APIConnectionError,
  );
  assert.equal(fake.requests.length, 1);
});

test("stall sends N chunks then hangs; close() ends the stalled connection", async (context) => {
  const fake = await startFake(context);
  fake.enqueue({ kind: "stall", afterChunks: 2 });
  const stream = await clientFor(fake).chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true });
  const received: ChatCompletionChunk[] = [];
  const consumed = (async () => {
    for await (const chunk of stream) received.push(chunk);
  })();
  const deadline = Date.now() + 2000;
  while (received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(received.length, 2);
  const closeStartedAt = Date.now();
  await fake.close();
  assert.ok(Date.now() - closeStartedAt < 1000, "close() does not wait for the stalled response");
  await assert.rejects(consumed);
  assert.equal(contentOf(received), "FAKE");
});

test("default reply echoes the last real user message, skipping OpenClaw's internal context", async (context) => {
  const fake = await startFake(context);
  const client = clientFor(fake);
  const { payloads } = await rawStream(fake, OPENCLAW_BODY);
  const streamed = payloads
    .filter((payload) => payload !== "[DONE]")
    .map((payload) => (JSON.parse(payload) as ChatCompletionChunk).choices[0]?.delta.content ?? "")
    .join("");
  assert.equal(streamed, "FAKE-REPLY to: [Sat 2026-11-21 03:21 UTC] please run a command");

  const long = "x".repeat(300);
  const echoed = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: long }] });
  assert.equal(echoed.choices[0]?.message.content, `FAKE-REPLY to: ${"x".repeat(120)}`);

  fake.setDefault((body) => {
    const results = toolResultsAfterLastUser(body);
    return results.length > 0
      ? { kind: "text", text: `got ${results.join("|")}` }
      : { kind: "tool_call", name: "exec", arguments: { command: "id" } };
  });
  const final = await client.chat.completions.create({ model: "gpt-4o-mini", messages: OPENCLAW_BODY.messages as ChatCompletionMessageParam[] });
  assert.equal(final.choices[0]?.message.content, "got root|second result");
  fake.enqueue({ kind: "text", text: "queued first" });
  const queued = await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
  assert.equal(queued.choices[0]?.message.content, "queued first");
  const fallback = await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
  assert.equal(fallback.choices[0]?.message.tool_calls?.length, 1);
});

test("lastRealUserText and toolResultsAfterLastUser read OpenClaw-shaped bodies", () => {
  assert.equal(lastRealUserText(OPENCLAW_BODY), "[Sat 2026-11-21 03:21 UTC] please run a command\n\nRuntime: agent=main");
  assert.deepEqual(toolResultsAfterLastUser(OPENCLAW_BODY), ["root", "second result"]);
  const parts = [{ type: "text", text: "a" }, { type: "image_url" }, { type: "text", text: "b" }];
  assert.equal(lastRealUserText({ messages: [{ role: "user", content: parts }] }), "a\nb");
  assert.equal(lastRealUserText(null), "");
  assert.equal(lastRealUserText({ messages: "nope" }), "");
  assert.deepEqual(toolResultsAfterLastUser({ messages: [{ role: "user", content: "q" }] }), []);
});

test("bad input gets 400/404 in OpenAI's error shape and never crashes the server", async (context) => {
  const fake = await startFake(context);
  const post = async (body: string): Promise<{ status: number; json: unknown }> => {
    const response = await fetch(`${fake.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: response.status, json: await response.json() };
  };
  const invalidJson = await post("{not json");
  assert.equal(invalidJson.status, 400);
  assert.match(JSON.stringify(invalidJson.json), /"type":"invalid_request_error"/);
  assert.deepEqual((await post(JSON.stringify({ model: "m" }))).json, {
    error: {
      message: "Missing required parameter: 'messages'.",
      type: "invalid_request_error",
      param: "messages",
      code: "missing_required_parameter",
    },
  });
  const badRole = await post(JSON.stringify({ model: "m", messages: [{ role: 5 }] }));
  assert.equal(badRole.status, 400);
  assert.match(JSON.stringify(badRole.json), /"param":"messages\[0\]\.role"/);
  const streamOptions = await post(JSON.stringify({ model: "m", messages: MESSAGES, stream_options: { include_usage: true } }));
  assert.equal(streamOptions.status, 400);
  assert.match(JSON.stringify(streamOptions.json), /"param":"stream_options"/);
  assert.equal((await post("[]")).status, 400);

  const notFound = await fetch(`${fake.url}/embeddings`, { method: "POST", body: "{}" });
  assert.equal(notFound.status, 404);
  assert.deepEqual(await notFound.json(), {
    error: { message: "Invalid URL (POST /v1/embeddings)", type: "invalid_request_error", param: null, code: null },
  });
  await assert.rejects(
    clientFor(fake).embeddings.create({ model: "text-embedding-3-small", input: "x" }),
    (caught: unknown) => caught instanceof APIError && caught.status === 404,
  );

  fake.setDefault(() => {
    throw new Error("test default exploded");
  });
  const exploded = await post(JSON.stringify({ model: "m", messages: MESSAGES }));
  assert.equal(exploded.status, 500);
  assert.match(JSON.stringify(exploded.json), /test default exploded/);
  assert.throws(() => fake.enqueue({ kind: "error", status: 42 }), TypeError);
  const models = await fetch(`${fake.url}/models`);
  assert.equal(models.status, 200, "server still up");
});

test("waitForRequests resolves on the Nth chat request and rejects on timeout", async (context) => {
  const fake = await startFake(context);
  const client = clientFor(fake);
  const pending = fake.waitForRequests(2, 5000);
  await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
  await client.models.list();
  await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
  await pending;
  await assert.rejects(fake.waitForRequests(3, 50), /expected 3 chat request\(s\) within 50 ms, got 2/);
});
