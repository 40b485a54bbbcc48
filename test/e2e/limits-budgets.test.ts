/**
 * Rate limits and budgets over real sockets: 429 with Retry-After and x-ratelimit-* for API callers, a normal
 * completion for runtimes, reservations that bound overspend under 100 concurrent requests, a stream cut short
 * still billed, threshold alerts to a webhook, and the fallback action.
 */
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

interface ErrorEnvelope {
  error: { code: string; message: string };
}

/** One HTTP request over a runtime's model channel socket (as OpenClaw's calls arrive). */
function callThroughChannel(socketPath: string, key: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath, () => {
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString()));
    socket.on("end", () => resolve({ status: Number(text.split(" ")[1]), text }));
    socket.on("error", reject);
  });
}

describe("rate limits and budgets", { timeout: 120_000 }, () => {
  let upstream: FakeUpstream;
  let platform: TestPlatform;
  let webhook: http.Server;
  const alerts: Array<Record<string, unknown>> = [];
  let webhookUrl = "";

  before(async () => {
    upstream = await startFakeUpstream();
    // Real usage equals the estimate of the requests below: 1 input token ("hi"), 100 output tokens.
    upstream.setDefault({ kind: "text", text: "ok", usage: { promptTokens: 1, completionTokens: 100 } });
    webhook = http.createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        alerts.push(JSON.parse(body) as Record<string, unknown>);
        response.end("ok");
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
    webhookUrl = `http://127.0.0.1:${(webhook.address() as net.AddressInfo).port}/alerts`;
    const configYaml = [
      "providers:",
      `  - { id: openai, kind: openai, baseUrl: '${upstream.url}', apiKeyEnv: OPENAI_KEY, models: [gpt-4o-mini, gpt-4.1-nano] }`,
      "routes:",
      "  - { alias: default, targets: [{ provider: openai, model: gpt-4o-mini, retries: { attempts: 0 } }] }",
      "  - { alias: cheap, targets: [{ provider: openai, model: gpt-4.1-nano }] }",
      "limits:",
      "  - { scope: key, requestsPerMinute: 5, match: { tenant: limited } }",
      "budgets:",
      "  timeZone: Europe/Berlin",
      "  rules:",
      // gpt-4o-mini: 1 × 0.15 + 100 × 0.60 = 60.15 → 60 micro-USD per request: room for exactly 10.
      `    - { scope: tenant, period: day, limitUsd: 0.0006, match: { tenant: frugal }, alertThresholds: [0.5, 1], alertWebhook: '${webhookUrl}' }`,
      "    - { scope: tenant, period: month, limitUsd: 0.0001, match: { tenant: thrifty }, action: fallback, fallbackRoute: cheap }",
      "",
    ].join("\n");
    platform = await startTestPlatform({ OPENAI_KEY: "sk-upstream" }, { configYaml });
    for (const id of ["limited", "frugal", "thrifty", "streamer"]) assert.equal((await platform.admin("POST", "/tenants", { id })).status, 201);
  });

  after(async () => {
    await platform?.stop();
    await upstream?.close();
    await new Promise((resolve) => webhook?.close(resolve));
  });

  async function keyOf(tenant: string): Promise<string> {
    const created = await platform.admin("POST", `/tenants/${tenant}/keys`, { scopes: ["model"] });
    return (created.body as { key: string }).key;
  }

  const chat = (key: string, extra: Record<string, unknown> = {}) =>
    fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "default", max_tokens: 100, messages: [{ role: "user", content: "hi" }], ...extra }) });

  test("requests per minute per key: the 6th gets 429 with Retry-After and x-ratelimit-* headers", async () => {
    const key = await keyOf("limited");
    for (let index = 0; index < 5; index += 1) {
      const response = await chat(key);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-ratelimit-limit-requests"), "5");
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), String(4 - index));
      await response.body?.cancel();
    }
    const refused = await chat(key);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    assert.equal(refused.headers.get("x-ratelimit-remaining-requests"), "0");
    assert.equal(((await refused.json()) as ErrorEnvelope).error.code, "CF_RATE_LIMITED");
    const other = await keyOf("limited");
    assert.equal((await chat(other)).status, 200, "another key has its own bucket");
  });

  test("a passed-through answer carries the caller's own x-ratelimit-*, never the provider account's, and the provider's request id (JSON and SSE)", async () => {
    // The fake upstream sends what OpenAI sends on every answer: its account's x-ratelimit-* and openai-organization.
    const key = await keyOf("limited");
    const json = await chat(key);
    const streamed = await chat(key, { stream: true });
    for (const [index, response] of [json, streamed].entries()) {
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-ratelimit-limit-requests"), "5", "the key's limit, not the account's 10000");
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), String(4 - index));
      assert.equal(response.headers.get("x-ratelimit-limit-tokens"), null, "no token limit is configured for this key");
      assert.equal(response.headers.get("x-ratelimit-remaining-tokens"), null);
      assert.equal(response.headers.get("openai-organization"), null, "the platform's provider account is not named");
      assert.match(response.headers.get("openai-processing-ms") ?? "", /^\d+$/, "the provider's other headers still pass");
      // The fake upstream's x-request-id (`req_` and 32 hex digits, as OpenAI's) under Clawfleet's name for it.
      assert.match(response.headers.get("x-clawfleet-upstream-request-id") ?? "", /^req_[0-9a-f]{32}$/, "the provider's request id is passed on");
      assert.notEqual(response.headers.get("x-request-id"), response.headers.get("x-clawfleet-upstream-request-id"), "x-request-id stays Clawfleet's");
      await response.body?.cancel();
    }

    const unlimited = await chat(await keyOf("streamer"));
    assert.equal(unlimited.status, 200);
    const rateLimitHeaders = [...unlimited.headers.keys()].filter((name) => name.startsWith("x-ratelimit-"));
    assert.deepEqual(rateLimitHeaders, [], "without limits no x-ratelimit-* at all: the account's are withheld");
    await unlimited.body?.cancel();
  });

  test("a runtime refused by a limit gets a normal completion explaining it, never a 429", async () => {
    const virtualKey = await platform.deps.tenants.rotateRuntimeKey("limited");
    const socketPath = path.join(platform.dataDir, "limited-model.sock");
    await platform.modelChannels.listen("limited", { kind: "unix", socketPath });
    const body = JSON.stringify({ model: "default", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    const answers = [];
    for (let index = 0; index < 6; index += 1) answers.push(await callThroughChannel(socketPath, virtualKey, body));
    assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200, 200, 200]);
    const last = answers[5]?.text ?? "";
    assert.match(last, /x-clawfleet-refusal: CF_RATE_LIMITED/i);
    const json = JSON.parse(last.slice(last.indexOf("\r\n\r\n") + 4)) as { choices: Array<{ message: { content: string }; finish_reason: string }> };
    assert.match(json.choices[0]?.message.content ?? "", /rate limit reached/);
    assert.equal(json.choices[0]?.finish_reason, "stop");
    await platform.modelChannels.close("limited");
  });

  test("100 concurrent requests against a budget with room for 10: overspend never exceeds the estimates in flight", async () => {
    const key = await keyOf("frugal");
    const upstreamBefore = upstream.requests.length;
    const responses = await Promise.all(Array.from({ length: 100 }, () => chat(key)));
    const statuses = responses.map((response) => response.status);
    for (const response of responses) await response.body?.cancel();
    const admitted = statuses.filter((status) => status === 200).length;
    const refused = statuses.filter((status) => status === 402).length;
    assert.equal(admitted + refused, 100);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const listed = await platform.admin("GET", "/tenants/frugal/requests?limit=200");
    const spentMicros = (listed.body as { requests: Array<{ costUsdMicros: number }> }).requests.reduce((sum, record) => sum + record.costUsdMicros, 0);
    const limitMicros = 600;
    const overspendMicros = Math.max(0, spentMicros - limitMicros);
    process.stderr.write(`# budget with room for 10: ${admitted} admitted, ${refused} refused (402), spent ${spentMicros} µUSD of ${limitMicros}, overspend ${overspendMicros} µUSD\n`);
    assert.equal(admitted, 10, "real cost equals the estimate here, so exactly 10 fit");
    assert.equal(overspendMicros, 0);
    assert.equal(upstream.requests.length - upstreamBefore, 10, "refused requests never reached the provider");
    const refusal = await chat(key);
    assert.equal(refusal.status, 402);
    assert.equal(((await refusal.json()) as ErrorEnvelope).error.code, "CF_BUDGET_EXCEEDED");
    const deadline = Date.now() + 5_000;
    while (alerts.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(alerts.map((alert) => alert.threshold).sort(), [0.5, 1], "one alert per threshold, not one per request");
    assert.equal(alerts[0]?.tenantId, "frugal");
  });

  test("a spent budget with action fallback moves the tenant to the cheaper route", async () => {
    const key = await keyOf("thrifty");
    const firstIndex = upstream.requests.length;
    const first = await chat(key);
    assert.equal(first.status, 200);
    await first.body?.cancel();
    assert.equal((upstream.requests[firstIndex]?.body as { model: string }).model, "gpt-4o-mini", "within budget: the requested route");
    const before = upstream.requests.length;
    const second = await chat(key);
    assert.equal(second.status, 200);
    await second.body?.cancel();
    assert.equal((upstream.requests[before]?.body as { model: string }).model, "gpt-4.1-nano", "served by the fallback route");
  });

  test("a client that disconnects mid-stream is still billed for what was produced", async () => {
    const key = await keyOf("streamer");
    upstream.enqueue({ kind: "stall", afterChunks: 4 });
    const client = new OpenAI({ apiKey: key, baseURL: `${platform.url}/v1`, maxRetries: 0 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: "default", messages: [{ role: "user", content: "write a lot" }], stream: true }, { signal: controller.signal });
    let received = "";
    try {
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta?.content ?? "";
        if (received.length > 0) controller.abort();
      }
    } catch {
      // aborted by us
    }
    assert.ok(received.length > 0, "some text arrived before the caller left");
    const deadline = Date.now() + 5_000;
    let record: { outputTokens: number; costUsdMicros: number } | undefined;
    while (!record && Date.now() < deadline) {
      const listed = await platform.admin("GET", "/tenants/streamer/requests?limit=5");
      record = (listed.body as { requests: Array<{ outputTokens: number; costUsdMicros: number; stream: boolean }> }).requests.find((item) => item.stream);
      if (!record) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(record, "the cut stream was recorded");
    assert.ok(record.outputTokens > 0, `output tokens billed: ${record.outputTokens}`);
    assert.ok(record.costUsdMicros > 0);
  });
});
