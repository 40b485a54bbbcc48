import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeOllamaErrorResponse, decodeOllamaStreamError, readOllamaError } from "../../../../src/providers/ollama/errors.js";
import { fixtureText } from "../../../support/provider-test-helpers.js";

test("error-404 fixture → CF_UPSTREAM_ERROR 404 with Ollama's message and no type", () => {
  const error = decodeOllamaErrorResponse({ providerId: "local", status: 404, headers: {}, bodyText: fixtureText("ollama", "error-404.json"), nowMs: 0 });
  assert.equal(error.code, "CF_UPSTREAM_ERROR");
  assert.equal(error.status, 404);
  assert.deepEqual(error.details, { provider: "local", upstreamStatus: 404, upstreamType: null, upstreamMessage: 'model "llama9" not found, try pulling it first' });
});

test("retry-after is honoured when a proxy in front of Ollama sends it; non-JSON bodies keep their text", () => {
  const error = decodeOllamaErrorResponse({ providerId: "local", status: 503, headers: { "retry-after": "4" }, bodyText: "Service Unavailable", nowMs: 0 });
  assert.equal(error.retryAfterSeconds, 4);
  assert.equal(readOllamaError("Service Unavailable"), "Service Unavailable");
});

test("an in-stream error line becomes an error event", () => {
  assert.deepEqual(decodeOllamaStreamError("unexpected EOF"), { type: "error", status: 500, message: "unexpected EOF", errorType: "api_error" });
});
