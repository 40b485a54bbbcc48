/** Failures of Bedrock calls → ClawfleetError and stream error events (pure mapping; the real SDK errors are in adapter.test.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ThrottlingException, ValidationException } from "@aws-sdk/client-bedrock-runtime";
import { ClawfleetError } from "../../../../src/contracts/errors.js";
import { toClawfleetError, toStreamErrorEvent } from "../../../../src/providers/bedrock/errors.js";

const TIMEOUTS = { connectTimeoutMs: 100, firstByteTimeoutMs: 200, idleTimeoutMs: 300 };
const NOW = Date.parse("2026-01-01T00:00:00Z");

function map(error: unknown): ClawfleetError {
  return toClawfleetError("bedrock-main", error, TIMEOUTS, NOW);
}

function nodeError(code: string, name = "Error"): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code, name });
}

test("service exceptions become CF_UPSTREAM_ERROR with the upstream status, type and message", () => {
  const throttled = new ThrottlingException({ message: "Too many requests", $metadata: { httpStatusCode: 429 } });
  Object.defineProperty(throttled, "$response", { value: { statusCode: 429, headers: { "retry-after": "12" } } });
  const mapped = map(throttled);
  assert.equal(mapped.code, "CF_UPSTREAM_ERROR");
  assert.equal(mapped.status, 429);
  assert.equal(mapped.retryAfterSeconds, 12);
  assert.equal(mapped.cause, throttled);
  assert.deepEqual(mapped.details, { provider: "bedrock-main", upstreamStatus: 429, upstreamType: "ThrottlingException", upstreamMessage: "Too many requests" });

  const dated = new ThrottlingException({ message: "later", $metadata: { httpStatusCode: 429 } });
  Object.defineProperty(dated, "$response", { value: { statusCode: 429, headers: { "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" } } });
  assert.equal(map(dated).retryAfterSeconds, 30);

  const invalid = map(new ValidationException({ message: "bad", $metadata: {} }));
  assert.equal(invalid.status, 400, "status from the documented table when $metadata has none (in-stream exceptions)");
  assert.equal(invalid.retryAfterSeconds, undefined);
});

test("the documented statuses apply to exceptions by name", () => {
  const statuses = { AccessDeniedException: 403, ResourceNotFoundException: 404, ModelErrorException: 424, ModelStreamErrorException: 424, ModelNotReadyException: 429, ServiceUnavailableException: 503, InternalServerException: 500 };
  for (const [name, status] of Object.entries(statuses)) {
    const error = Object.assign(new Error("x"), { name, $fault: "server", $metadata: {} });
    assert.equal(map(error).status, status, name);
  }
});

test("ModelTimeoutException and the handler's timeouts are CF_UPSTREAM_TIMEOUT, with the phase", () => {
  const modelTimeout = map(Object.assign(new Error("Model has timed out"), { name: "ModelTimeoutException", $fault: "client", $metadata: { httpStatusCode: 408 } }));
  assert.equal(modelTimeout.code, "CF_UPSTREAM_TIMEOUT");
  assert.equal((modelTimeout.details as { upstreamStatus: number }).upstreamStatus, 408);
  const timeout = (message: string) => map(Object.assign(new Error(message), { name: "TimeoutError" })).details;
  assert.deepEqual(timeout("the request socket did not establish a connection with the server within the configured timeout of 100 ms."), { provider: "bedrock-main", phase: "connect", timeoutMs: 100 });
  assert.deepEqual(timeout("a request has exceeded the configured 200 ms requestTimeout."), { provider: "bedrock-main", phase: "first_byte", timeoutMs: 200 });
  assert.deepEqual(timeout("the request socket timed out after 300 ms of inactivity"), { provider: "bedrock-main", phase: "idle", timeoutMs: 300 });
  assert.equal(map(nodeError("ETIMEDOUT", "TimeoutError")).code, "CF_UPSTREAM_TIMEOUT");
});

test("connection failures are CF_UPSTREAM_UNREACHABLE (even when the handler renamed them TimeoutError)", () => {
  for (const code of ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]) assert.equal(map(nodeError(code)).code, "CF_UPSTREAM_UNREACHABLE", code);
  assert.equal(map(nodeError("ECONNRESET", "TimeoutError")).code, "CF_UPSTREAM_UNREACHABLE");
  assert.equal(map(new Error("socket hang up")).code, "CF_UPSTREAM_UNREACHABLE");
});

test("missing credentials and unknown failures; ClawfleetErrors pass through", () => {
  const credentials = map(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
  assert.equal(credentials.code, "CF_UPSTREAM_ERROR");
  assert.equal(credentials.status, 500);
  assert.equal(map(new TypeError("weird")).status, 502);
  const original = new ClawfleetError("CF_UPSTREAM_TIMEOUT", "x");
  assert.equal(map(original), original);
});

test("stream error events carry status and an API error type", () => {
  const throttled = map(new ThrottlingException({ message: "slow", $metadata: {} }));
  assert.deepEqual(toStreamErrorEvent(throttled), { type: "error", status: 429, message: throttled.message, errorType: "rate_limit_error" });
  assert.deepEqual(toStreamErrorEvent(new ClawfleetError("CF_UPSTREAM_TIMEOUT", "t")), { type: "error", status: 504, message: "t", errorType: "timeout_error" });
  assert.equal(toStreamErrorEvent(map(Object.assign(new Error("x"), { name: "ServiceUnavailableException", $fault: "server", $metadata: {} }))).errorType, "overloaded_error");
});
