import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeOpenAIErrorResponse, decodeOpenAIStreamError, readOpenAIError } from "../../../../src/providers/openai/errors.js";
import { fixtureJson, fixtureText } from "../../../support/provider-test-helpers.js";

test("error-429 fixture: status, retry-after and OpenAI's error type and message", () => {
  const meta = fixtureJson("openai", "error-429.http.json") as { status: number; headers: Record<string, string> };
  const bodyText = fixtureText("openai", "error-429.json");
  const error = decodeOpenAIErrorResponse({ providerId: "openai", status: meta.status, headers: meta.headers, bodyText, nowMs: 0 });
  const body = JSON.parse(bodyText) as { error: { type: string; message: string } };
  assert.equal(error.code, "CF_UPSTREAM_ERROR");
  assert.equal(error.status, 429);
  assert.equal(error.retryable, true);
  assert.equal(error.retryAfterSeconds, Math.ceil(Number(meta.headers["retry-after"])));
  assert.deepEqual(error.details, { provider: "openai", upstreamStatus: 429, upstreamType: body.error.type, upstreamMessage: body.error.message });
});

test("error-500 fixture", () => {
  const error = decodeOpenAIErrorResponse({ providerId: "openai", status: 500, headers: {}, bodyText: fixtureText("openai", "error-500.json"), nowMs: 0 });
  assert.equal(error.status, 500);
  assert.equal((error.details as { upstreamType: unknown }).upstreamType, "server_error");
  assert.equal(error.retryAfterSeconds, undefined);
});

test("compatible servers' error shapes and non-JSON bodies", () => {
  assert.deepEqual(readOpenAIError({ error: "model not found" }, ""), { type: null, message: "model not found" });
  assert.deepEqual(readOpenAIError({ object: "error", message: "bad", type: "BadRequestError", code: 400 }, ""), { type: "BadRequestError", message: "bad" });
  assert.deepEqual(readOpenAIError({ detail: "Not Found" }, ""), { type: null, message: "Not Found" });
  assert.deepEqual(readOpenAIError({ error: { message: "slow down", code: "rate_limit_exceeded" } }, ""), { type: "rate_limit_exceeded", message: "slow down" });
  const error = decodeOpenAIErrorResponse({ providerId: "vllm", status: 502, headers: {}, bodyText: "<html>Bad Gateway</html>", nowMs: 0 });
  assert.deepEqual(error.details, { provider: "vllm", upstreamStatus: 502, upstreamType: null, upstreamMessage: "<html>Bad Gateway</html>" });
});

test("an in-stream error payload becomes an error event", () => {
  assert.deepEqual(decodeOpenAIStreamError({ error: { message: "The server had an error", type: "server_error", param: null, code: null } }), {
    type: "error",
    status: 500,
    message: "The server had an error",
    errorType: "server_error",
  });
});

test("the provider's x-request-id of an error answer is kept in the details (absent when it sent none)", () => {
  const error = decodeOpenAIErrorResponse({ providerId: "openai", status: 500, headers: { "x-request-id": "req_0123456789abcdef0123456789abcdef" }, bodyText: fixtureText("openai", "error-500.json"), nowMs: 0 });
  assert.equal((error.details as { upstreamRequestId?: unknown }).upstreamRequestId, "req_0123456789abcdef0123456789abcdef");
  const anonymous = decodeOpenAIErrorResponse({ providerId: "openai", status: 500, headers: {}, bodyText: fixtureText("openai", "error-500.json"), nowMs: 0 });
  assert.equal("upstreamRequestId" in (anonymous.details as object), false);
});
