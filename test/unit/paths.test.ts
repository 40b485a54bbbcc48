import assert from "node:assert/strict";
import { test } from "node:test";
import { runtimeTarget } from "../../src/ingress/runtime-paths.js";
import { errorDialectForPath } from "../../src/http/error-mapping.js";

test("ingress paths: /t/{tenant} is removed from the runtime's APIs, kept for its Control UI, query kept", () => {
  const path = (url: string) => runtimeTarget(url, "acme")?.path;
  assert.equal(path("/t/acme/v1/chat/completions"), "/v1/chat/completions");
  assert.equal(path("/t/acme/v1/models?limit=2"), "/v1/models?limit=2");
  assert.equal(path("/t/acme/"), "/t/acme/");
  assert.equal(path("/t/acme"), "/t/acme");
  assert.equal(path("/t/acme?x=1"), "/t/acme?x=1");
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
