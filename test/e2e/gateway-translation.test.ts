/**
 * Any client API to any provider, over real sockets, with the official SDKs as callers and local fakes that
 * speak each provider's wire format (OpenAI SSE, Anthropic SSE, Bedrock event-stream with SigV4, Ollama
 * NDJSON). Also: warnings for parameters a provider cannot honour, fallback across providers, no fallback on
 * a caller's 4xx, and policy routing by tag.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startFakeAnthropic } from "../support/fake-anthropic.js";
import { startFakeBedrock, type FakeBedrock } from "../support/fake-bedrock.js";
import { startFakeOllama } from "../support/fake-ollama.js";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import type { ScriptedFake } from "../support/scripted-provider-fake.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

const HELLO = "Hello! How can I help you today?";

describe("translation between every client API and every provider", { timeout: 120_000 }, () => {
  let openaiUpstream: FakeUpstream;
  let anthropicUpstream: ScriptedFake;
  let ollamaUpstream: ScriptedFake;
  let bedrockUpstream: FakeBedrock;
  let platform: TestPlatform;
  let key: string;
  const keyFile = path.join(mkdtempSync(path.join(tmpdir(), "cf-key-")), "provider-key");
  const savedAws = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  before(async () => {
    openaiUpstream = await startFakeUpstream();
    openaiUpstream.setDefault({ kind: "text", text: "from openai" });
    anthropicUpstream = await startFakeAnthropic();
    ollamaUpstream = await startFakeOllama();
    bedrockUpstream = await startFakeBedrock({ secrets: { AKIDTESTGATEWAY: "gateway-secret" } });
    writeFileSync(keyFile, "sk-first-key\n", { mode: 0o600 });
    process.env.AWS_ACCESS_KEY_ID = "AKIDTESTGATEWAY";
    process.env.AWS_SECRET_ACCESS_KEY = "gateway-secret";
    const configYaml = [
      "providers:",
      `  - { id: openai, kind: openai, baseUrl: '${openaiUpstream.url}', apiKeyEnv: OPENAI_KEY, models: [gpt-4o-mini] }`,
      `  - { id: anthropic, kind: anthropic, baseUrl: '${anthropicUpstream.url}', apiKeyEnv: ANTHROPIC_KEY }`,
      `  - { id: bedrock, kind: bedrock, region: eu-west-1, endpoint: '${bedrockUpstream.endpoint}' }`,
      `  - { id: ollama, kind: ollama, baseUrl: '${ollamaUpstream.url}' }`,
      `  - { id: rotating, kind: openai, baseUrl: '${openaiUpstream.url}', apiKey: { source: file, path: '${keyFile}' } }`,
      "routes:",
      "  - { alias: gpt, targets: [{ provider: openai, model: gpt-4o-mini }] }",
      "  - { alias: claude, targets: [{ provider: anthropic, model: claude-sonnet-4-5, retries: { attempts: 0 } }] }",
      "  - { alias: nova, targets: [{ provider: bedrock, model: amazon.nova-lite-v1:0 }] }",
      "  - { alias: llama, targets: [{ provider: ollama, model: llama3.2 }] }",
      "  - alias: resilient",
      "    targets:",
      "      - { provider: anthropic, model: claude-sonnet-4-5, retries: { attempts: 1, initialBackoffMs: 10, maxBackoffMs: 20 } }",
      "      - { provider: openai, model: gpt-4o-mini }",
      "  - { alias: local-only, targets: [{ provider: ollama, model: llama3.2 }] }",
      "  - { alias: rotated, targets: [{ provider: rotating, model: gpt-4o-mini }] }",
      "policies:",
      "  default: gpt",
      "  overrides: [{ match: { tag: high_privacy }, route: local-only }]",
      "",
    ].join("\n");
    platform = await startTestPlatform({ OPENAI_KEY: "sk-openai-upstream", ANTHROPIC_KEY: "sk-ant-upstream" }, { configYaml });
    const created = await platform.admin("POST", "/tenants", { id: "polyglot" });
    key = (created.body as { apiKey: string }).apiKey;
  });

  after(async () => {
    await platform?.stop();
    await Promise.all([openaiUpstream?.close(), anthropicUpstream?.close(), ollamaUpstream?.close(), bedrockUpstream?.close()]);
    process.env.AWS_ACCESS_KEY_ID = savedAws.id;
    process.env.AWS_SECRET_ACCESS_KEY = savedAws.secret;
    if (savedAws.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (savedAws.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  });

  const openai = () => new OpenAI({ apiKey: key, baseURL: `${platform.url}/v1`, maxRetries: 0 });
  const anthropic = () => new Anthropic({ apiKey: key, baseURL: platform.url, maxRetries: 0 });

  test("OpenAI Chat Completions caller → Anthropic provider, JSON and stream", async () => {
    const before = anthropicUpstream.requests.length;
    const completion = await openai().chat.completions.create({ model: "claude", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }], max_tokens: 100 });
    assert.equal(completion.choices[0]?.message.content, HELLO);
    assert.equal(completion.choices[0]?.finish_reason, "stop");
    assert.equal(completion.model, "claude", "the caller's model name is reported back");
    assert.equal(completion.usage?.prompt_tokens, 21 + 1824, "Anthropic's uncached + cached input tokens");
    assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 1824);
    const sent = anthropicUpstream.requests[before];
    assert.ok(sent);
    assert.equal(sent.headers["x-api-key"], "sk-ant-upstream");
    assert.equal((sent.body as { system?: unknown }).system !== undefined, true, "the system message became Anthropic's system field");
    assert.equal((sent.body as { model: string }).model, "claude-sonnet-4-5");

    const stream = await openai().chat.completions.create({ model: "claude", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage?.completion_tokens ?? usage;
    }
    assert.equal(text, HELLO);
    assert.ok(usage > 0);
  });

  test("Anthropic Messages caller → Bedrock Converse (SigV4, event-stream), JSON and stream", async () => {
    const before = bedrockUpstream.requests.length;
    bedrockUpstream.enqueue({ kind: "fixture", name: "text" }, { kind: "fixture", name: "text" });
    const message = await anthropic().messages.create({ model: "nova", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    assert.equal(message.content[0]?.type === "text" ? message.content[0].text : "", HELLO);
    assert.equal(message.stop_reason, "end_turn");
    assert.equal(message.usage.input_tokens, 12);
    const sent = bedrockUpstream.requests[before];
    assert.ok(sent);
    assert.equal(sent.operation, "converse");
    assert.equal(sent.modelId, "amazon.nova-lite-v1:0");
    assert.match(String(sent.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDTESTGATEWAY\/\d{8}\/eu-west-1\/bedrock\/aws4_request/);
    assert.equal(sent.signature.valid, true, "the SigV4 signature verifies with the secret");

    const final = await anthropic().messages.stream({ model: "nova", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }).finalMessage();
    assert.equal(final.content[0]?.type === "text" ? final.content[0].text : "", HELLO);
    assert.equal(bedrockUpstream.requests.at(-1)?.operation, "converse-stream");
  });

  test("OpenAI Responses caller → Ollama native /api/chat (NDJSON), JSON and stream", async () => {
    const response = await openai().responses.create({ model: "llama", input: "hi" });
    assert.equal(response.output_text, "Hello! How are you today?");
    assert.equal(ollamaUpstream.requests.at(-1)?.path, "/api/chat");
    const final = await openai().responses.stream({ model: "llama", input: "hi" }).finalResponse();
    assert.equal(final.output_text, "Hello! How are you today?");
    assert.equal(final.usage?.input_tokens, 26);
  });

  test("Anthropic Messages caller → Anthropic provider: passed through without the account's rate limits or organization", async () => {
    for (const stream of [false, true]) {
      const response = await fetch(`${platform.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify({ model: "claude", max_tokens: 64, stream, messages: [{ role: "user", content: "Hi" }] }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      // The fake sends what Anthropic sends on every answer: request-id, anthropic-organization-id, anthropic-ratelimit-*.
      assert.match(response.headers.get("request-id") ?? "", /^req_/, "the provider's request id still passes");
      assert.equal(response.headers.get("anthropic-organization-id"), null);
      assert.deepEqual([...response.headers.keys()].filter((name) => name.startsWith("anthropic-ratelimit-")), []);
      assert.ok((await response.text()).includes(stream ? "message_stop" : HELLO));
    }
    assert.equal(anthropicUpstream.requests.at(-1)?.headers["x-api-key"], "sk-ant-upstream", "same schema: passed through with the provider key");
  });

  test("Anthropic Messages caller → OpenAI provider", async () => {
    const message = await anthropic().messages.create({ model: "gpt", max_tokens: 50, messages: [{ role: "user", content: "hello" }] });
    assert.equal(message.content[0]?.type === "text" ? message.content[0].text : "", "from openai");
    assert.equal(openaiUpstream.requests.at(-1)?.headers.authorization, "Bearer sk-openai-upstream");
  });

  test("a parameter the provider cannot honour is reported in x-clawfleet-warnings, not dropped silently", async () => {
    const response = await fetch(`${platform.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "claude", max_tokens: 50, seed: 7, messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("x-clawfleet-warnings") ?? "", /seed/);
  });

  test("fallback: Anthropic fails with 500 (retried once), OpenAI answers; a caller's 400 never falls back", async () => {
    const openaiBefore = openaiUpstream.requests.length;
    const anthropicBefore = anthropicUpstream.requests.length;
    anthropicUpstream.enqueue({ kind: "error", status: 500 }, { kind: "error", status: 500 });
    const completion = await openai().chat.completions.create({ model: "resilient", messages: [{ role: "user", content: "hi" }] });
    assert.equal(completion.choices[0]?.message.content, "from openai");
    assert.equal(anthropicUpstream.requests.length - anthropicBefore, 2, "first try + one retry");
    assert.equal(openaiUpstream.requests.length - openaiBefore, 1, "then the fallback");

    anthropicUpstream.enqueue({ kind: "error", status: 400 });
    await assert.rejects(openai().chat.completions.create({ model: "resilient", messages: [{ role: "user", content: "hi" }] }), (error: unknown) => error instanceof OpenAI.APIError && error.status === 400);
    assert.equal(openaiUpstream.requests.length - openaiBefore, 1, "no fallback after a caller's 4xx");
  });

  test("every request record and answer keeps the provider's own request id: translated, passed through, streamed, failed; none from Ollama", async () => {
    const ANTHROPIC_ID = /^req_[0-9a-f]{24}$/; // the fake's `request-id` header, as Anthropic's
    const OPENAI_ID = /^req_[0-9a-f]{32}$/; // the fake's `x-request-id` header, as OpenAI's
    const BEDROCK_ID = /^fake-[0-9a-f]+-[0-9a-f]+$/; // the fake's `x-amzn-requestid` header
    const run = `upstream-id-${Date.now()}`;
    const as = (name: string) => ({ headers: { "x-request-id": `${run}-${name}` } });
    // The answer's x-clawfleet-upstream-request-id, per call (null when absent).
    const answered = new Map<string, string | null>();
    const note = (name: string, headers: Headers) => answered.set(name, headers.get("x-clawfleet-upstream-request-id"));
    note("anthropic-json", (await openai().chat.completions.create({ model: "claude", messages: [{ role: "user", content: "hi" }] }, as("anthropic-json")).withResponse()).response.headers);
    const streamed = await openai().chat.completions.create({ model: "claude", messages: [{ role: "user", content: "hi" }], stream: true }, as("anthropic-stream")).withResponse();
    note("anthropic-stream", streamed.response.headers);
    for await (const chunk of streamed.data) void chunk;
    note("anthropic-passthrough", (await anthropic().messages.create({ model: "claude", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }, as("anthropic-passthrough")).withResponse()).response.headers);
    bedrockUpstream.enqueue({ kind: "fixture", name: "text" }, { kind: "fixture", name: "text" });
    note("bedrock-json", (await anthropic().messages.create({ model: "nova", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }, as("bedrock-json")).withResponse()).response.headers);
    const bedrockStream = anthropic().messages.stream({ model: "nova", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }, as("bedrock-stream"));
    note("bedrock-stream", (await bedrockStream.withResponse()).response.headers);
    await bedrockStream.finalMessage();
    note("openai-passthrough", (await openai().chat.completions.create({ model: "gpt", messages: [{ role: "user", content: "hi" }] }, as("openai-passthrough")).withResponse()).response.headers);
    note("ollama", (await openai().responses.create({ model: "llama", input: "hi" }, as("ollama")).withResponse()).response.headers);
    anthropicUpstream.enqueue({ kind: "error", status: 400 });
    await assert.rejects(openai().chat.completions.create({ model: "claude", messages: [{ role: "user", content: "hi" }] }, as("anthropic-400")), (error: unknown) => {
      if (!(error instanceof OpenAI.APIError) || error.status !== 400) return false;
      note("anthropic-400", error.headers as Headers);
      return true;
    });

    const expected: Record<string, RegExp | null> = {
      "anthropic-json": ANTHROPIC_ID,
      "anthropic-stream": ANTHROPIC_ID,
      "anthropic-passthrough": ANTHROPIC_ID,
      "bedrock-json": BEDROCK_ID,
      "bedrock-stream": BEDROCK_ID,
      "openai-passthrough": OPENAI_ID,
      ollama: null,
      "anthropic-400": ANTHROPIC_ID,
    };
    type Listed = { requestId: string; upstreamRequestId: string | null; errorCode: string | null; status: number };
    let records: Listed[] = [];
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const listed = await platform.admin("GET", "/tenants/polyglot/requests?limit=200");
      records = (listed.body as { requests: Listed[] }).requests.filter((record) => record.requestId.startsWith(run));
      if (records.length === Object.keys(expected).length) break;
    }
    for (const [name, pattern] of Object.entries(expected)) {
      const record = records.find((candidate) => candidate.requestId === `${run}-${name}`);
      assert.ok(record, `${name} was recorded`);
      if (pattern === null) assert.equal(record.upstreamRequestId, null, `${name}: Ollama sends no request id`);
      else assert.match(record.upstreamRequestId ?? "", pattern, `${name}: the provider's request id`);
      assert.equal(answered.get(name), record.upstreamRequestId, `${name}: the answer's x-clawfleet-upstream-request-id is the recorded id`);
    }
    const failed = records.find((record) => record.requestId === `${run}-anthropic-400`);
    assert.equal(failed?.errorCode, "CF_UPSTREAM_ERROR", "the failed call's id comes from the provider's error answer");
    assert.equal(new Set(records.map((record) => record.upstreamRequestId).filter(Boolean)).size, records.length - 1, "one id per call");
  });

  test("policy routing: requests tagged high_privacy go only to the local Ollama", async () => {
    const openaiBefore = openaiUpstream.requests.length;
    const ollamaBefore = ollamaUpstream.requests.length;
    const response = await fetch(`${platform.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-clawfleet-tags": "finance, HIGH_PRIVACY" },
      body: JSON.stringify({ model: "gpt", messages: [{ role: "user", content: "secret numbers" }] }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    assert.equal(body.choices[0]?.message.content, "Hello! How are you today?");
    assert.equal(openaiUpstream.requests.length, openaiBefore, "the cloud provider saw nothing");
    assert.equal(ollamaUpstream.requests.length - ollamaBefore, 1);
  });

  test("a provider key kept in a file is rotated without a restart", async () => {
    const call = () => openai().chat.completions.create({ model: "rotated", messages: [{ role: "user", content: "hi" }] });
    await call();
    assert.equal(openaiUpstream.requests.at(-1)?.headers.authorization, "Bearer sk-first-key");
    writeFileSync(keyFile, "sk-second-key\n");
    const deadline = Date.now() + 10_000;
    for (;;) {
      await call();
      if (openaiUpstream.requests.at(-1)?.headers.authorization === "Bearer sk-second-key") break;
      assert.ok(Date.now() < deadline, "the rotated key was picked up within 10 s");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
});
