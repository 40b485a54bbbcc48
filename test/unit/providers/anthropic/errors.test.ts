import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeAnthropicErrorResponse, decodeAnthropicStreamError, readAnthropicError } from "../../../../src/providers/anthropic/errors.js";
import { fixtureJson, fixtureText } from "../../../support/provider-test-helpers.js";

function fromFixture(name: string) {
  const meta = fixtureJson("anthropic", `${name}.http.json`) as { status: number; headers: Record<string, string> };
  return decodeAnthropicErrorResponse({ providerId: "claude", status: meta.status, headers: meta.headers, bodyText: fixtureText("anthropic", `${name}.json`), nowMs: 0 });
}

test("error-429: rate_limit_error with retry-after 17", () => {
  const error = fromFixture("error-429");
  assert.equal(error.code, "CF_UPSTREAM_ERROR");
  assert.equal(error.status, 429);
  assert.equal(error.retryAfterSeconds, 17);
  assert.equal((error.details as { upstreamType: unknown }).upstreamType, "rate_limit_error");
  assert.match(String((error.details as { upstreamMessage: unknown }).upstreamMessage), /exceed the rate limit/);
});

test("error-529: overloaded_error keeps status 529; error-500 and error-400 keep theirs", () => {
  const overloaded = fromFixture("error-529");
  assert.equal(overloaded.status, 529);
  assert.deepEqual(overloaded.details, { provider: "claude", upstreamStatus: 529, upstreamType: "overloaded_error", upstreamMessage: "Overloaded" });
  assert.equal(fromFixture("error-500").status, 500);
  const invalid = fromFixture("error-400");
  assert.equal(invalid.status, 400);
  assert.equal((invalid.details as { upstreamType: unknown }).upstreamType, "invalid_request_error");
});

test("a body that is not Anthropic's error shape keeps its text", () => {
  assert.deepEqual(readAnthropicError("upstream connect error"), { type: null, message: "upstream connect error" });
  assert.deepEqual(readAnthropicError('{"message":"x"}'), { type: null, message: '{"message":"x"}' });
});

test("a streamed overloaded_error becomes an error event with status 529", () => {
  assert.deepEqual(decodeAnthropicStreamError({ type: "overloaded_error", message: "Overloaded" }), { type: "error", status: 529, message: "Overloaded", errorType: "overloaded_error" });
});

test("the provider's request-id of an error answer is kept in the details", () => {
  const meta = fixtureJson("anthropic", "error-429.http.json") as { status: number; headers: Record<string, string> };
  const error = decodeAnthropicErrorResponse({ providerId: "claude", status: meta.status, headers: { ...meta.headers, "request-id": "req_011CUy5kzzJdGm8d3Zkp3VWW" }, bodyText: fixtureText("anthropic", "error-429.json"), nowMs: 0 });
  assert.equal((error.details as { upstreamRequestId?: unknown }).upstreamRequestId, "req_011CUy5kzzJdGm8d3Zkp3VWW");
  assert.equal("upstreamRequestId" in (fromFixture("error-429").details as object), false, "none without the header");
});
