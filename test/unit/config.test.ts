import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { configJsonSchema } from "../../src/config/schema.js";
import { readFileSync } from "node:fs";
import type { ClawfleetConfig } from "../../src/config/schema.js";

/** `[alias, provider, model]` of every route target. */
function routeTargets(config: ClawfleetConfig): string[][] {
  return config.routes.flatMap((route) => route.targets.map((target) => [route.alias, target.provider, target.model]));
}

function directoryWith(yaml: string | null): string {
  const directory = mkdtempSync(path.join(tmpdir(), "cf-config-"));
  if (yaml !== null) writeFileSync(path.join(directory, "clawfleet.yaml"), yaml);
  return directory;
}

test("defaults: 127.0.0.1:8420, ./.clawfleet, mock provider announced loudly", () => {
  const cwd = directoryWith(null);
  const loaded = loadConfig({ env: {}, cwd });
  assert.equal(loaded.config.server.host, "127.0.0.1");
  assert.equal(loaded.config.server.port, 8420);
  assert.equal(loaded.config.dataDir, path.join(cwd, ".clawfleet"));
  assert.deepEqual(loaded.config.providers.map((provider) => provider.kind), ["mock"]);
  assert.deepEqual(routeTargets(loaded.config), [["default", "mock", "mock-1"]]);
  assert.ok(loaded.notices.some((notice) => notice.level === "warn" && /NO MODEL PROVIDER/.test(notice.message)));
  assert.equal(loaded.configFile, null);
});

test("OPENAI_API_KEY + OPENAI_BASE_URL select the openai provider", () => {
  const loaded = loadConfig({ env: { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: "http://127.0.0.1:9/v1", CLAWFLEET_DEFAULT_MODEL: "gpt-x" }, cwd: directoryWith(null) });
  assert.equal(loaded.config.providers[0]?.kind, "openai");
  assert.equal(loaded.config.providers[0]?.baseUrl, "http://127.0.0.1:9/v1");
  assert.deepEqual(loaded.config.providers[0]?.apiKey, { source: "env", name: "OPENAI_API_KEY" }, "the key stays in the environment, not in config");
  assert.deepEqual(routeTargets(loaded.config), [["default", "openai", "gpt-x"]]);
});

test("precedence: flags over env over file over defaults", () => {
  const cwd = directoryWith("server:\n  port: 9001\n  host: 127.0.0.2\ndataDir: ./from-file\nlogLevel: debug\n");
  const fileOnly = loadConfig({ env: {}, cwd });
  assert.equal(fileOnly.config.server.port, 9001);
  assert.equal(fileOnly.config.logLevel, "debug");
  const withEnv = loadConfig({ env: { CLAWFLEET_PORT: "9002", CLAWFLEET_DATA_DIR: "/tmp/from-env" }, cwd });
  assert.equal(withEnv.config.server.port, 9002);
  assert.equal(withEnv.config.server.host, "127.0.0.2");
  assert.equal(withEnv.config.dataDir, "/tmp/from-env");
  const withFlags = loadConfig({ env: { CLAWFLEET_PORT: "9002" }, cwd, flags: { port: "9003", dataDir: "flag-dir" } });
  assert.equal(withFlags.config.server.port, 9003);
  assert.equal(withFlags.config.dataDir, path.join(cwd, "flag-dir"));
});

test("every problem of every source is reported in one pass", () => {
  const cwd = directoryWith("server:\n  port: 70000\n  colour: blue\nruntime:\n  sandbox: maybe\nroutes:\n  - alias: x\n    targets:\n      - provider: nowhere\n        model: m\n");
  let caught: unknown;
  try {
    loadConfig({ env: { CLAWFLEET_LOG_LEVEL: "chatty" }, cwd });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, "throws ConfigError");
  const text = caught.problems.join("\n");
  assert.match(text, /server\.port/);
  assert.match(text, /colour/);
  assert.match(text, /runtime\.sandbox/);
  assert.match(text, /logLevel/);
  assert.equal(caught.code, "CF_CONFIG_INVALID");
  assert.ok(caught.problems.length >= 4, `expected at least 4 problems, got ${caught.problems.length}: ${text}`);
});

test("a YAML syntax error and a missing explicit file are reported, not thrown raw", () => {
  const cwd = directoryWith("server: [unclosed\n");
  assert.throws(() => loadConfig({ env: {}, cwd }), (error: unknown) => error instanceof ConfigError && /clawfleet\.yaml/.test(error.message));
  assert.throws(
    () => loadConfig({ env: {}, cwd, flags: { config: "missing.yaml" } }),
    (error: unknown) => error instanceof ConfigError && /missing\.yaml: cannot read \(ENOENT\)/.test(error.message),
  );
});

test("an openai provider without a usable key is refused", () => {
  const cwd = directoryWith("providers:\n  - id: corp\n    kind: openai\n    baseUrl: http://127.0.0.1:9/v1\n    apiKeyEnv: CORP_KEY\n    models: [corp-large]\n");
  assert.throws(() => loadConfig({ env: {}, cwd }), (error: unknown) => error instanceof ConfigError && /providers\.corp: no API key/.test(error.message));
  const loaded = loadConfig({ env: { CORP_KEY: "k" }, cwd });
  assert.deepEqual(routeTargets(loaded.config), [["default", "corp", "corp-large"]], "the first provider model becomes the default route");
  assert.deepEqual(loaded.notices, [], "a configured provider is not announced as missing");
});

test("the committed JSON Schema matches the zod schema (run `npm run schema` after changing it)", () => {
  const committed: unknown = JSON.parse(readFileSync(new URL("../../clawfleet.schema.json", import.meta.url), "utf8"));
  assert.deepEqual(committed, configJsonSchema());
});

test("environment providers: Anthropic, Ollama and Bedrock with the SDKs' standard variables", () => {
  const loaded = loadConfig({
    env: { ANTHROPIC_API_KEY: "sk-ant", OLLAMA_HOST: "127.0.0.1:11434", CLAWFLEET_BEDROCK_MODEL: "anthropic.claude-3-5-haiku-20241022-v1:0", AWS_REGION: "eu-west-1" },
    cwd: directoryWith(null),
  });
  assert.deepEqual(loaded.config.providers.map((provider) => [provider.id, provider.kind]), [["anthropic", "anthropic"], ["bedrock", "bedrock"], ["ollama", "ollama"]]);
  assert.equal(loaded.config.providers.find((provider) => provider.id === "ollama")?.baseUrl, "http://127.0.0.1:11434");
  assert.equal(loaded.config.providers.find((provider) => provider.id === "bedrock")?.region, "eu-west-1");
  assert.deepEqual(routeTargets(loaded.config), [["default", "anthropic", "claude-3-5-haiku-latest"]], "the first provider found serves the default route");
});

test("routes, policies and credential sources are validated with the rest", () => {
  const cwd = directoryWith(
    [
      "providers:",
      "  - { id: local, kind: ollama, baseUrl: 'http://127.0.0.1:11434', models: [llama3.2] }",
      "  - { id: cloud, kind: openai, baseUrl: 'http://127.0.0.1:9/v1', apiKey: { source: aws-ssm, name: /keys/openai, region: us-east-1 } }",
      "routes:",
      "  - alias: smart",
      "    strategy: fallback",
      "    targets: [{ provider: cloud, model: gpt-4o }, { provider: local, model: llama3.2 }]",
      "  - alias: local-only",
      "    targets: [{ provider: local, model: llama3.2 }]",
      "policies:",
      "  default: smart",
      "  overrides: [{ match: { tag: high_privacy }, route: local-only }]",
      "",
    ].join("\n"),
  );
  const loaded = loadConfig({ env: {}, cwd });
  assert.deepEqual(routeTargets(loaded.config), [["smart", "cloud", "gpt-4o"], ["smart", "local", "llama3.2"], ["local-only", "local", "llama3.2"]]);
  assert.equal(loaded.config.policies.overrides[0]?.route, "local-only");
  const badSource = directoryWith("providers:\n  - { id: cloud, kind: openai, baseUrl: 'http://127.0.0.1:9/v1', apiKey: { source: vault, path: x } }\n");
  assert.throws(() => loadConfig({ env: {}, cwd: badSource }), (error: unknown) => error instanceof ConfigError && /providers\.0\.apiKey/.test(error.message));
  const badReferences = directoryWith("providers:\n  - { id: local, kind: ollama, models: [m] }\nroutes:\n  - { alias: a, targets: [{ provider: elsewhere, model: m }] }\npolicies:\n  default: nowhere\n");
  assert.throws(
    () => loadConfig({ env: {}, cwd: badReferences }),
    (error: unknown) => error instanceof ConfigError && /policies\.default/.test(error.message) && /routes\.0\.targets\.0\.provider/.test(error.message),
    "unknown route and unknown provider are both reported",
  );
});
