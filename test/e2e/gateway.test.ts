/**
 * The platform without runtimes, over real sockets: admin API, model gateway (official `openai` SDK as the
 * caller, a fake upstream speaking OpenAI's wire format), virtual-key channel binding, ingress refusals and
 * error shapes.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { CLAWFLEET_CONTENT_SECURITY_POLICY } from "../../src/http/security-headers.js";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

const PROVIDER_KEY = "sk-provider-secret-0123456789";

interface ErrorEnvelope {
  error: { code: string; message: string; type?: string; param?: unknown; requestId?: string };
}

describe("model gateway, admin API and ingress refusals", () => {
  let upstream: FakeUpstream;
  let platform: TestPlatform;
  let acmeKey: string;
  let acmeKeyId: string;
  let globexKey: string;

  before(async () => {
    upstream = await startFakeUpstream();
    platform = await startTestPlatform({ OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.url, CLAWFLEET_DEFAULT_MODEL: "gpt-4o-mini", CLAWFLEET_BODY_LIMIT_BYTES: "65536" });
    const acme = await platform.admin("POST", "/tenants", { id: "acme" });
    assert.equal(acme.status, 201);
    ({ apiKey: acmeKey, keyId: acmeKeyId } = acme.body as { apiKey: string; keyId: string });
    const globex = await platform.admin("POST", "/tenants", { id: "globex" });
    globexKey = (globex.body as { apiKey: string }).apiKey;
  });
  after(async () => {
    await platform?.stop();
    await upstream?.close();
  });

  test("admin API: auth, tenant lifecycle views, validation, OpenAPI", async () => {
    const noToken = await fetch(`${platform.url}/admin/v1/tenants`);
    assert.equal(noToken.status, 401);
    const noTokenBody = (await noToken.json()) as ErrorEnvelope;
    assert.equal(noTokenBody.error.code, "CF_AUTH_MISSING");
    assert.equal(typeof noTokenBody.error.requestId, "string");
    const wrongToken = await fetch(`${platform.url}/admin/v1/tenants`, { headers: { authorization: "Bearer nope" } });
    assert.equal(((await wrongToken.json()) as ErrorEnvelope).error.code, "CF_AUTH_INVALID_TOKEN");
    assert.equal(acmeKey.startsWith("cfk_"), true);
    const shown = await platform.admin("GET", "/tenants/acme");
    assert.equal(shown.status, 200);
    assert.deepEqual((shown.body as { runtime: { state: string } }).runtime.state, "stopped");
    assert.equal(JSON.stringify(shown.body).includes(acmeKey), false, "the key is shown only at creation");
    const duplicate = await platform.admin("POST", "/tenants", { id: "acme" });
    assert.equal(duplicate.status, 409);
    assert.equal((duplicate.body as ErrorEnvelope).error.code, "CF_TENANT_EXISTS");
    const invalid = await platform.admin("POST", "/tenants", { id: "Not Valid!" });
    assert.equal(invalid.status, 400);
    assert.equal((invalid.body as ErrorEnvelope).error.code, "CF_VALIDATION_FAILED");
    const unknown = await platform.admin("GET", "/tenants/nobody");
    assert.equal(unknown.status, 404);
    assert.equal((unknown.body as ErrorEnvelope).error.code, "CF_TENANT_NOT_FOUND");
    const malformed = await fetch(`${platform.url}/admin/v1/tenants`, { method: "POST", headers: { authorization: `Bearer ${platform.adminToken.token}`, "content-type": "application/json" }, body: "{oops" });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as ErrorEnvelope).error.code, "CF_INVALID_JSON");
    const openapi = await fetch(`${platform.url}/admin/v1/openapi.json`);
    const document = (await openapi.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(document.openapi, "3.1.0");
    for (const route of ["/admin/v1/tenants", "/admin/v1/tenants/{id}", "/admin/v1/tenants/{id}/keys", "/admin/v1/tenants/{id}/keys/{keyId}", "/admin/v1/tenants/{id}/runtime/logs"]) {
      assert.ok(route in document.paths, `OpenAPI documents ${route}`);
    }
  });

  test("a tenant key with the model scope calls the provider through the gateway (JSON and stream)", async () => {
    const client = new OpenAI({ apiKey: acmeKey, baseURL: `${platform.url}/v1`, maxRetries: 0 });
    const before = upstream.requests.length;
    const completion = await client.chat.completions.create({ model: "default", messages: [{ role: "user", content: "hello gateway" }] });
    assert.equal(completion.choices[0]?.message.content, "FAKE-REPLY to: hello gateway");
    const sent = upstream.requests[before];
    assert.ok(sent);
    assert.equal(sent.headers.authorization, `Bearer ${PROVIDER_KEY}`, "the upstream receives the platform's provider key");
    assert.equal((sent.body as { model: string }).model, "gpt-4o-mini", "the alias is resolved to the provider's model");

    const stream = await client.chat.completions.create({ model: "default", messages: [{ role: "user", content: "stream please" }], stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usageSeen = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usageSeen = true;
    }
    assert.equal(text, "FAKE-REPLY to: stream please");
    assert.equal(usageSeen, true, "the usage chunk reaches the caller");
    const models = await client.models.list();
    assert.deepEqual(models.data.map((model) => model.id), ["default", "gpt-4o-mini"]);
  });

  test("every gateway answer carries the security headers: passed through, streamed, translated, refused", async () => {
    const headers = { authorization: `Bearer ${acmeKey}`, "content-type": "application/json" };
    const chat = (stream: boolean) => JSON.stringify({ model: "default", messages: [{ role: "user", content: "headers please" }], stream });
    const messages = (stream: boolean) => JSON.stringify({ model: "default", max_tokens: 64, messages: [{ role: "user", content: "headers please" }], stream });
    const cases: Array<{ name: string; path: string; body: string; status: number; contentType: RegExp }> = [
      // Same schema: the caller's bytes pass through and the answer is written to the raw response (hijacked).
      { name: "passed-through JSON", path: "/v1/chat/completions", body: chat(false), status: 200, contentType: /^application\/json/ },
      { name: "passed-through SSE", path: "/v1/chat/completions", body: chat(true), status: 200, contentType: /^text\/event-stream/ },
      // Anthropic caller, OpenAI provider: translated; the stream is encoded event by event (hijacked too).
      { name: "translated JSON", path: "/v1/messages", body: messages(false), status: 200, contentType: /^application\/json/ },
      { name: "translated SSE", path: "/v1/messages", body: messages(true), status: 200, contentType: /^text\/event-stream/ },
      { name: "refused (bad JSON)", path: "/v1/chat/completions", body: "{", status: 400, contentType: /^application\/json/ },
    ];
    for (const { name, path: urlPath, body, status, contentType } of cases) {
      const response = await fetch(`${platform.url}${urlPath}`, { method: "POST", headers, body });
      await response.arrayBuffer();
      assert.equal(response.status, status, name);
      assert.match(response.headers.get("content-type") ?? "", contentType, name);
      assert.ok(response.headers.get("x-clawfleet-overhead-ms"), `${name}: answered by the gateway's handler`);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff", name);
      assert.equal(response.headers.get("referrer-policy"), "no-referrer", name);
      assert.equal(response.headers.get("x-frame-options"), "DENY", name);
      assert.equal(response.headers.get("cross-origin-resource-policy"), "same-origin", name);
      assert.equal(response.headers.get("content-security-policy"), CLAWFLEET_CONTENT_SECURITY_POLICY, name);
      assert.equal(response.headers.get("strict-transport-security"), null, `${name}: no HSTS over plain HTTP (RFC 6797 §7.2)`);
    }
  });

  test("every answer carries its overhead; usage, cost and overhead are recorded and exported as metrics", async () => {
    const sentAtMs = Date.now();
    const response = await fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${acmeKey}`, "x-request-id": "cost-check-1" }, body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "count me" }] }) });
    assert.equal(response.status, 200);
    const overhead = Number(response.headers.get("x-clawfleet-overhead-ms"));
    assert.ok(Number.isFinite(overhead) && overhead >= 0 && overhead < 1000, `x-clawfleet-overhead-ms is a duration in ms (got ${response.headers.get("x-clawfleet-overhead-ms")})`);
    const answer = (await response.json()) as { usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } };
    const listed = await platform.admin("GET", "/tenants/acme/requests?limit=50");
    assert.equal(listed.status, 200);
    const record = (listed.body as { requests: Array<Record<string, unknown>> }).requests.find((item) => item.requestId === "cost-check-1");
    assert.ok(record, "the request was recorded");
    // The record id is a UUIDv7 (RFC 9562 section 5.7): version 7, variant 10, its first 48 bits the time in ms.
    assert.match(String(record.id), /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const idTimeMs = Number.parseInt(String(record.id).replaceAll("-", "").slice(0, 12), 16);
    assert.ok(idTimeMs >= sentAtMs && idTimeMs <= Date.now(), `the id's time ${idTimeMs} is the call's (sent at ${sentAtMs})`);
    assert.equal(record.provider, "openai");
    assert.equal(record.model, "gpt-4o-mini");
    // The provider's own id for the call: the fake upstream's x-request-id, passed on to the caller and kept.
    assert.match(String(record.upstreamRequestId), /^req_[0-9a-f]{32}$/);
    assert.equal(record.upstreamRequestId, response.headers.get("x-clawfleet-upstream-request-id"));
    assert.equal(record.inputTokens, answer.usage.prompt_tokens);
    assert.equal(record.outputTokens, answer.usage.completion_tokens);
    const cached = answer.usage.prompt_tokens_details?.cached_tokens ?? 0;
    // gpt-4o-mini: USD 0.15 input, 0.075 cached input, 0.60 output per million tokens.
    const expectedMicros = Math.round((answer.usage.prompt_tokens - cached) * 0.15 + cached * 0.075 + answer.usage.completion_tokens * 0.6);
    assert.equal(record.costUsdMicros, expectedMicros);
    assert.ok(expectedMicros > 0);
    const metrics = await (await fetch(`${platform.url}/metrics`)).text();
    assert.match(metrics, /clawfleet_gateway_overhead_ms_bucket\{le="1",api="openai-chat"\} \d+/);
    assert.match(metrics, /clawfleet_gateway_requests_total\{api="openai-chat",provider="openai",status="200"\} \d+/);
  });

  test("answers the model-call handler never wrote carry x-clawfleet-overhead-ms too: /v1/models and refusals before the handler", async () => {
    const cases: Array<{ what: string; status: number; code?: string; send: () => Promise<Response> }> = [
      { what: "GET /v1/models", status: 200, send: () => fetch(`${platform.url}/v1/models`, { headers: { authorization: `Bearer ${acmeKey}` } }) },
      { what: "GET /v1/models without a key", status: 401, code: "CF_AUTH_MISSING", send: () => fetch(`${platform.url}/v1/models`) },
      { what: "an unknown /v1 path", status: 404, code: "CF_NOT_FOUND", send: () => fetch(`${platform.url}/v1/no-such-api`, { headers: { authorization: `Bearer ${acmeKey}` } }) },
      {
        what: "a key in the query string (request hygiene)",
        status: 400,
        code: "CF_SECRET_IN_QUERY",
        send: () => fetch(`${platform.url}/v1/chat/completions?api_key=${acmeKey}`, { method: "POST", body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "hi" }] }) }),
      },
      {
        what: "a body over the limit",
        status: 413,
        send: () => fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${acmeKey}`, "content-type": "application/json" }, body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "x".repeat(70_000) }] }) }),
      },
    ];
    for (const { what, status, code, send } of cases) {
      const response = await send();
      const text = await response.text();
      assert.equal(response.status, status, `${what}: ${text}`);
      if (code) assert.equal((JSON.parse(text) as ErrorEnvelope).error.code, code, what);
      const header = response.headers.get("x-clawfleet-overhead-ms");
      const overhead = Number(header);
      assert.ok(header !== null && /^\d+\.\d{3}$/.test(header) && overhead < 1000, `${what}: x-clawfleet-overhead-ms is a duration in ms (got ${header})`);
    }
  });

  test("usage and cost report per tenant, provider, model and day, as JSON and CSV", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const report = await platform.admin("GET", `/usage?from=${today}&to=${today}&groupBy=tenant,provider,model,day`);
    assert.equal(report.status, 200);
    const rows = (report.body as { rows: Array<Record<string, string | number | null>> }).rows;
    const listed = await platform.admin("GET", "/tenants/acme/requests?limit=1000");
    const records = (listed.body as { requests: Array<{ provider: string | null; model: string | null; costUsdMicros: number; inputTokens: number }> }).requests.filter((record) => record.provider === "openai" && record.model === "gpt-4o-mini");
    const row = rows.find((candidate) => candidate.tenant === "acme" && candidate.provider === "openai" && candidate.model === "gpt-4o-mini");
    assert.ok(row, JSON.stringify(rows));
    assert.equal(row.day, today);
    assert.equal(row.requests, records.length, "one row sums every matching record");
    assert.equal(row.inputTokens, records.reduce((sum, record) => sum + record.inputTokens, 0));
    assert.equal(row.costUsd, Number((records.reduce((sum, record) => sum + record.costUsdMicros, 0) / 1e6).toFixed(6)));
    const csv = await fetch(`${platform.url}/admin/v1/usage?from=${today}&to=${today}&groupBy=tenant,model&format=csv`, { headers: { authorization: `Bearer ${platform.adminToken.token}` } });
    assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
    const lines = (await csv.text()).split("\r\n");
    assert.equal(lines[0], "tenant,model,requests,errors,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,costUsd");
    assert.ok(lines.some((line) => line.startsWith("acme,gpt-4o-mini,")));
    const bad = await platform.admin("GET", `/usage?from=${today}&to=2000-01-01`);
    assert.equal(bad.status, 400);
    // The CLI prints the same report.
    const cli = fileURLToPath(new URL("../../bin/clawfleet.js", import.meta.url));
    // Asynchronously: the platform answering it runs in this very process.
    const { stdout: printed } = await promisify(execFile)(process.execPath, [cli, "usage", "--url", platform.url, "--admin-token", platform.adminToken.token, "--from", today, "--to", today, "--group-by", "tenant,model", "--csv"], { encoding: "utf8" });
    assert.equal(printed.split("\r\n")[0], lines[0]);
    assert.ok(printed.includes("acme,gpt-4o-mini,"));
  });

  test("same-schema traffic passes through byte for byte", async () => {
    const raw = '{"model":"gpt-4o-mini",  "messages":[{"role":"user","content":"exact bytes"}], "temperature":0.25}';
    const before = upstream.requests.length;
    const response = await fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${acmeKey}`, "content-type": "application/json" }, body: raw });
    assert.equal(response.status, 200);
    assert.equal(upstream.requests[before]?.rawBody, raw);
  });

  test("a passed-through JSON answer that breaks midway is retried: the caller gets one whole answer, no partial bytes", async () => {
    const before = upstream.requests.length;
    upstream.enqueue({ kind: "cut", afterBytes: 60 });
    const client = new OpenAI({ apiKey: acmeKey, baseURL: `${platform.url}/v1`, maxRetries: 0 });
    const { data: completion, response } = await client.chat.completions
      .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "whole or nothing" }] })
      .withResponse();
    assert.equal(response.status, 200);
    assert.equal(completion.choices[0]?.message.content, "FAKE-REPLY to: whole or nothing");
    assert.equal(upstream.requests.length - before, 2, "the broken answer was retried once");
    assert.equal(upstream.requests[before]?.rawBody, upstream.requests[before + 1]?.rawBody, "both attempts sent the caller's exact bytes");
  });

  test("a provider request id longer than the record's column is cut to 255 characters, and the record is kept", async () => {
    const longId = `req_${"0123456789abcdef".repeat(25)}`; // 404 characters, from an OpenAI-compatible server
    upstream.enqueue({ kind: "error", status: 400, headers: { "x-request-id": longId } });
    const response = await fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${acmeKey}`, "x-request-id": "long-upstream-id" }, body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "x" }] }) });
    assert.equal(response.status, 400, "the provider's 400 is passed through");
    assert.equal(response.headers.get("x-clawfleet-upstream-request-id"), longId, "the caller gets the whole id");
    let record: { upstreamRequestId: string | null } | undefined;
    for (const deadline = Date.now() + 5_000; !record && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const listed = await platform.admin("GET", "/tenants/acme/requests?limit=50");
      record = (listed.body as { requests: Array<{ requestId: string; upstreamRequestId: string | null }> }).requests.find((item) => item.requestId === "long-upstream-id");
    }
    assert.ok(record, "the call was recorded");
    assert.equal(record.upstreamRequestId, longId.slice(0, 255));
  });

  test("a 429 is retried after its Retry-After; when retries run out the caller gets 429 with Retry-After", async () => {
    const before = upstream.requests.length;
    upstream.enqueue({ kind: "fixture", name: "error-429" });
    const started = Date.now();
    const recovered = await fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${acmeKey}` }, body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "x" }] }) });
    assert.equal(recovered.status, 200);
    assert.ok(Date.now() - started >= 1000, "the retry waited for retry-after (1 s)");
    assert.equal(upstream.requests.length - before, 2);

    upstream.enqueue({ kind: "fixture", name: "error-429" }, { kind: "fixture", name: "error-429" }, { kind: "fixture", name: "error-429" });
    const exhausted = await fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${acmeKey}` }, body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "x" }] }) });
    assert.equal(exhausted.status, 429);
    assert.equal(exhausted.headers.get("retry-after"), "1");
    const body = (await exhausted.json()) as ErrorEnvelope;
    assert.equal(body.error.code, "CF_UPSTREAM_ERROR");
    assert.equal(upstream.requests.length - before, 5, "1 + 2 retries for the second request");
  });

  test("bad input gets OpenAI-shaped errors with stable codes; nothing reaches the upstream", async () => {
    const before = upstream.requests.length;
    const call = (headers: Record<string, string>, body: string) => fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers, body });
    const cases: Array<[Record<string, string>, string, number, string]> = [
      [{}, "{}", 401, "CF_AUTH_MISSING"],
      [{ authorization: "Bearer cfk_000000000000_" + "A".repeat(43) }, "{}", 401, "CF_AUTH_INVALID_TOKEN"],
      [{ authorization: `Bearer ${acmeKey}` }, "{not json", 400, "CF_INVALID_JSON"],
      [{ authorization: `Bearer ${acmeKey}` }, "[1,2]", 400, "CF_VALIDATION_FAILED"],
      [{ authorization: `Bearer ${acmeKey}` }, '{"messages":[{"role":"user","content":"x"}]}', 400, "CF_VALIDATION_FAILED"],
      [{ authorization: `Bearer ${acmeKey}` }, '{"model":"nope","messages":[{"role":"user","content":"x"}]}', 404, "CF_MODEL_NOT_FOUND"],
      [{ authorization: `Bearer ${acmeKey}`, "content-type": "application/json" }, JSON.stringify({ model: "default", messages: [{ role: "user", content: "x".repeat(70_000) }] }), 413, "CF_PAYLOAD_TOO_LARGE"],
    ];
    for (const [headers, body, status, code] of cases) {
      const response = await call(headers, body);
      const envelope = (await response.json()) as ErrorEnvelope;
      assert.equal(response.status, status, `${code}: status`);
      assert.equal(envelope.error.code, code);
      assert.equal(typeof envelope.error.type, "string", "OpenAI error shape has a type");
      assert.ok("param" in envelope.error, "OpenAI error shape has a param");
    }
    assert.equal(upstream.requests.length, before, "no refused request reached the provider");
  });

  test("a runtime virtual key works only through its own runtime channel", async () => {
    const virtualKey = await platform.deps.tenants.rotateRuntimeKey("acme");
    const body = JSON.stringify({ model: "default", messages: [{ role: "user", content: "from a runtime" }] });
    const publicCall = await fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${virtualKey}` }, body });
    assert.equal(publicCall.status, 403);
    assert.equal(((await publicCall.json()) as ErrorEnvelope).error.code, "CF_FORBIDDEN_CHANNEL");

    const acmeSocket = path.join(platform.dataDir, "acme-model.sock");
    const globexSocket = path.join(platform.dataDir, "globex-model.sock");
    await platform.modelChannels.listen("acme", { kind: "unix", socketPath: acmeSocket });
    await platform.modelChannels.listen("globex", { kind: "unix", socketPath: globexSocket });
    const viaSocket = (socketPath: string, key: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const socket = net.connect(socketPath, () => {
          socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nx-tenant-id: acme\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        });
        let text = "";
        socket.on("data", (chunk) => (text += chunk.toString()));
        socket.on("end", () => resolve({ status: Number(text.split(" ")[1]), text }));
        socket.on("error", reject);
      });
    const own = await viaSocket(acmeSocket, virtualKey);
    assert.equal(own.status, 200);
    assert.match(own.text, /FAKE-REPLY to: from a runtime/);
    const otherChannel = await viaSocket(globexSocket, virtualKey);
    assert.equal(otherChannel.status, 403, "acme's virtual key on globex's channel is refused, whatever x-tenant-id says");
    const tenantKeyOnChannel = await viaSocket(acmeSocket, acmeKey);
    assert.equal(tenantKeyOnChannel.status, 403, "a runtime channel carries only its runtime's key");
    await platform.modelChannels.close("acme");
    await platform.modelChannels.close("globex");
  });

  test("ingress: wrong tenant is 403 and nothing starts; missing or revoked keys are 401", async () => {
    const call = (url: string, key?: string) =>
      fetch(`${platform.url}${url}`, { method: "POST", headers: key ? { authorization: `Bearer ${key}` } : {}, body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }) });
    const crossTenant = await call("/t/globex/v1/chat/completions", acmeKey);
    assert.equal(crossTenant.status, 403);
    assert.equal(((await crossTenant.json()) as ErrorEnvelope).error.code, "CF_FORBIDDEN_TENANT");
    const unknownTenant = await call("/t/nobody/v1/chat/completions", acmeKey);
    assert.equal(unknownTenant.status, 403, "an unknown tenant looks the same as someone else's");
    assert.equal(platform.runtimes.stateOf("globex"), "stopped", "globex's runtime was not started by acme's request");
    const anonymous = await call("/t/acme/v1/chat/completions");
    assert.equal(anonymous.status, 401);
    const malformed = await fetch(`${platform.url}/t/acme/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${acmeKey}` }, body: "{nope" });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as ErrorEnvelope).error.code, "CF_INVALID_JSON");
    assert.equal(platform.runtimes.stateOf("acme"), "stopped", "a malformed body does not boot the runtime");

    const second = await platform.admin("POST", "/tenants/globex/keys", { scopes: ["chat"] });
    const { id: secondId, key: secondKey } = second.body as { id: string; key: string };
    const revoked = await platform.admin("DELETE", `/tenants/globex/keys/${secondId}`);
    assert.equal(revoked.status, 204);
    const afterRevoke = await call("/t/globex/v1/chat/completions", secondKey);
    assert.equal(afterRevoke.status, 401);
    const modelOnly = await platform.admin("POST", "/tenants/acme/keys", { scopes: ["model"] });
    const scopeRefused = await call("/t/acme/v1/chat/completions", (modelOnly.body as { key: string }).key);
    assert.equal(scopeRefused.status, 403);
    assert.equal(((await scopeRefused.json()) as ErrorEnvelope).error.code, "CF_FORBIDDEN_SCOPE");
    assert.ok(acmeKeyId.length === 12);
    assert.ok(globexKey.startsWith("cfk_"));
  });

  test("health endpoints", async () => {
    assert.deepEqual(await (await fetch(`${platform.url}/healthz`)).json(), { ok: true, status: "live" });
    const ready = await fetch(`${platform.url}/readyz`);
    assert.equal(ready.status, 200);
    const response = await fetch(`${platform.url}/nope`, { headers: { "x-request-id": "trace-123" } });
    assert.equal(response.status, 404);
    assert.equal(response.headers.get("x-request-id"), "trace-123");
  });
});

describe("with no provider configured: the built-in mock model", () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startTestPlatform({});
  });
  after(async () => {
    await platform?.stop();
  });

  test("answers JSON and SSE in OpenAI's wire format", async () => {
    const created = await platform.admin("POST", "/tenants", { id: "demo" });
    const client = new OpenAI({ apiKey: (created.body as { apiKey: string }).apiKey, baseURL: `${platform.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: "default", messages: [{ role: "user", content: "ping" }] });
    assert.equal(completion.choices[0]?.message.content, "Hello from Clawfleet's mock model. You said: ping");
    assert.equal(completion.choices[0]?.finish_reason, "stop");
    assert.ok((completion.usage?.total_tokens ?? 0) > 0);
    const stream = await client.chat.completions.create({ model: "default", messages: [{ role: "user", content: "pong" }], stream: true, stream_options: { include_usage: true } });
    let text = "";
    let finish: string | null | undefined = null;
    let usage = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage?.total_tokens ?? usage;
    }
    assert.equal(text, "Hello from Clawfleet's mock model. You said: pong");
    assert.equal(finish, "stop");
    assert.ok(usage > 0, "the usage chunk arrives when asked for");
    assert.deepEqual((await client.models.list()).data.map((model) => model.id), ["default", "mock-1"]);
  });
});
