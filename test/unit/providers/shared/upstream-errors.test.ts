import assert from "node:assert/strict";
import { test } from "node:test";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import {
  invalidUpstreamResponseError,
  parseRetryAfterSeconds,
  sanitizeUpstreamMessage,
  statusForErrorType,
  transportError,
  upstreamHttpError,
} from "../../../../src/providers/shared/upstream-errors.js";

const NOW = Date.parse("2025-11-19T08:00:00Z");
const timeouts = { connectTimeoutMs: 100, firstByteTimeoutMs: 200, idleTimeoutMs: 300 };

test("retry-after: seconds, fractions rounded up, HTTP-dates against now, retry-after-ms first", () => {
  assert.equal(parseRetryAfterSeconds({ "retry-after": "17" }, NOW), 17);
  assert.equal(parseRetryAfterSeconds({ "retry-after": "1.2" }, NOW), 2);
  assert.equal(parseRetryAfterSeconds({ "retry-after": "Wed, 19 Nov 2025 08:00:30 GMT" }, NOW), 30);
  assert.equal(parseRetryAfterSeconds({ "retry-after": "Wed, 19 Nov 2025 07:59:00 GMT" }, NOW), 0);
  assert.equal(parseRetryAfterSeconds({ "retry-after-ms": "1500", "retry-after": "9" }, NOW), 2);
  assert.equal(parseRetryAfterSeconds({ "retry-after": "soon" }, NOW), undefined);
  assert.equal(parseRetryAfterSeconds({}, NOW), undefined);
  assert.equal(parseRetryAfterSeconds({ "retry-after": ["5", "6"] }, NOW), 5);
});

test("an upstream HTTP error keeps the upstream status, retry-after and details", () => {
  const error = upstreamHttpError({ providerId: "claude", status: 529, upstreamType: "overloaded_error", upstreamMessage: "Overloaded", retryAfterSeconds: 3 });
  assert.ok(error instanceof ClawfleetError);
  assert.equal(error.code, "CF_UPSTREAM_ERROR");
  assert.equal(error.status, 529);
  assert.equal(error.retryable, true);
  assert.equal(error.retryAfterSeconds, 3);
  assert.deepEqual(error.details, { provider: "claude", upstreamStatus: 529, upstreamType: "overloaded_error", upstreamMessage: "Overloaded" });
  assert.match(error.message, /provider claude answered HTTP 529: Overloaded/);
});

test("upstream messages are made safe: keys masked, whitespace collapsed, length capped", () => {
  assert.equal(sanitizeUpstreamMessage("Incorrect API key provided: sk-proj-abc***************wxyz.\n You can find"), "Incorrect API key provided: [redacted]. You can find");
  assert.equal(sanitizeUpstreamMessage("x".repeat(5000)).length, 1001);
  assert.equal(sanitizeUpstreamMessage("max_tokens: Field required"), "max_tokens: Field required");
});

test("a malformed success body is a 502 upstream error naming the upstream status", () => {
  const error = invalidUpstreamResponseError("openai", 200, "the body is not JSON");
  assert.equal(error.code, "CF_UPSTREAM_ERROR");
  assert.equal(error.status, 502);
  assert.deepEqual(error.details, { provider: "openai", upstreamStatus: 200, upstreamType: "invalid_response", upstreamMessage: "the body is not JSON" });
});

test("undici timeouts map to CF_UPSTREAM_TIMEOUT by phase; anything else is CF_UPSTREAM_UNREACHABLE", () => {
  const coded = (code: string) => Object.assign(new Error(code), { code });
  const connect = transportError("p", coded("UND_ERR_CONNECT_TIMEOUT"), timeouts);
  assert.equal(connect.code, "CF_UPSTREAM_TIMEOUT");
  assert.deepEqual(connect.details, { provider: "p", phase: "connect", timeoutMs: 100 });
  assert.deepEqual(transportError("p", coded("UND_ERR_HEADERS_TIMEOUT"), timeouts).details, { provider: "p", phase: "first_byte", timeoutMs: 200 });
  assert.deepEqual(transportError("p", coded("UND_ERR_BODY_TIMEOUT"), timeouts).details, { provider: "p", phase: "idle", timeoutMs: 300 });
  const refused = transportError("p", coded("ECONNREFUSED"), timeouts);
  assert.equal(refused.code, "CF_UPSTREAM_UNREACHABLE");
  assert.equal(refused.status, 502);
  assert.deepEqual(refused.details, { provider: "p", reason: "ECONNREFUSED" });
  const existing = new ClawfleetError("CF_UPSTREAM_TIMEOUT", "router deadline");
  assert.equal(transportError("p", existing, timeouts), existing);
});

test("error types of stream error events map to statuses", () => {
  assert.equal(statusForErrorType("overloaded_error"), 529);
  assert.equal(statusForErrorType("rate_limit_error"), 429);
  assert.equal(statusForErrorType("invalid_request_error"), 400);
  assert.equal(statusForErrorType("server_error"), 500);
});
