import assert from "node:assert/strict";
import { test } from "node:test";
import { ClawfleetError } from "../../src/contracts/errors.js";
import { ModelRouter } from "../../src/gateway/router.js";
import { runtimePath } from "../../src/ingress/routes.js";
import { errorDialectForPath } from "../../src/http/error-mapping.js";

const providers = [
  { id: "openai", kind: "openai" as const, baseUrl: "http://127.0.0.1:1/v1", apiKeyEnv: "K", models: ["gpt-4o-mini", "gpt-4o"] },
  { id: "local", kind: "openai" as const, baseUrl: "http://127.0.0.1:2/v1", apiKeyEnv: "K", models: ["gpt-4o", "llama3"] },
];
const router = new ModelRouter(
  [
    { alias: "default", provider: "openai", model: "gpt-4o-mini" },
    { alias: "fast", provider: "local", model: "llama3" },
  ],
  providers,
);

test("an alias routes to its provider and rewrites the model", () => {
  assert.deepEqual(router.resolve("default"), { providerId: "openai", upstreamModel: "gpt-4o-mini", modelUnchanged: false });
  assert.deepEqual(router.resolve("fast"), { providerId: "local", upstreamModel: "llama3", modelUnchanged: false });
});

test("a provider's own model id passes through unchanged; the first provider listing it wins", () => {
  assert.deepEqual(router.resolve("llama3"), { providerId: "local", upstreamModel: "llama3", modelUnchanged: true });
  assert.deepEqual(router.resolve("gpt-4o"), { providerId: "openai", upstreamModel: "gpt-4o", modelUnchanged: true });
});

test("an unknown model is CF_MODEL_NOT_FOUND (404)", () => {
  assert.throws(() => router.resolve("gpt-5"), (error: unknown) => error instanceof ClawfleetError && error.code === "CF_MODEL_NOT_FOUND" && error.status === 404);
});

test("offered models: aliases first, then provider models once each", () => {
  assert.deepEqual(router.offeredModels().map((model) => model.id), ["default", "fast", "gpt-4o-mini", "gpt-4o", "llama3"]);
  assert.deepEqual(router.runtimeModelIds(), ["default", "fast"]);
});

test("ingress paths: /t/{tenant} is removed, query kept", () => {
  assert.equal(runtimePath("/t/acme/v1/chat/completions"), "/v1/chat/completions");
  assert.equal(runtimePath("/t/acme/"), "/");
  assert.equal(runtimePath("/t/acme"), "/");
  assert.equal(runtimePath("/t/acme?x=1"), "/?x=1");
  assert.equal(runtimePath("/t/acme/v1/models?limit=2"), "/v1/models?limit=2");
});

test("OpenAI-shaped errors on OpenAI paths only", () => {
  assert.equal(errorDialectForPath("/v1/chat/completions"), "openai");
  assert.equal(errorDialectForPath("/t/acme/v1/chat/completions?x"), "openai");
  assert.equal(errorDialectForPath("/admin/v1/tenants"), "clawfleet");
  assert.equal(errorDialectForPath("/t/acme/"), "clawfleet");
  assert.equal(errorDialectForPath("/v10/x"), "clawfleet");
});
