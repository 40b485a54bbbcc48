import assert from "node:assert/strict";
import { test } from "node:test";
import { runtimePath } from "../../src/ingress/routes.js";
import { errorDialectForPath } from "../../src/http/error-mapping.js";

test("ingress paths: /t/{tenant} is removed, query kept", () => {
  assert.equal(runtimePath("/t/acme/v1/chat/completions"), "/v1/chat/completions");
  assert.equal(runtimePath("/t/acme/"), "/");
  assert.equal(runtimePath("/t/acme"), "/");
  assert.equal(runtimePath("/t/acme?x=1"), "/?x=1");
  assert.equal(runtimePath("/t/acme/v1/models?limit=2"), "/v1/models?limit=2");
});

test("error shapes: Anthropic on /v1/messages, OpenAI on other OpenAI paths", () => {
  assert.equal(errorDialectForPath("/v1/chat/completions"), "openai");
  assert.equal(errorDialectForPath("/t/acme/v1/chat/completions?x"), "openai");
  assert.equal(errorDialectForPath("/admin/v1/tenants"), "clawfleet");
  assert.equal(errorDialectForPath("/t/acme/"), "clawfleet");
  assert.equal(errorDialectForPath("/v10/x"), "clawfleet");
  assert.equal(errorDialectForPath("/v1/messages"), "anthropic");
  assert.equal(errorDialectForPath("/t/acme/v1/messages?beta=true"), "anthropic");
  assert.equal(errorDialectForPath("/v1/responses"), "openai");
});
