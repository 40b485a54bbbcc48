import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { configJsonSchema } from "../../src/config/schema.js";
import { readFileSync } from "node:fs";

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
  assert.deepEqual(loaded.config.models, [{ alias: "default", provider: "mock", model: "mock-1" }]);
  assert.ok(loaded.notices.some((notice) => notice.level === "warn" && /NO MODEL PROVIDER/.test(notice.message)));
  assert.equal(loaded.configFile, null);
});

test("OPENAI_API_KEY + OPENAI_BASE_URL select the openai provider", () => {
  const loaded = loadConfig({ env: { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: "http://127.0.0.1:9/v1", CLAWFLEET_DEFAULT_MODEL: "gpt-x" }, cwd: directoryWith(null) });
  assert.equal(loaded.config.providers[0]?.kind, "openai");
  assert.equal(loaded.config.providers[0]?.baseUrl, "http://127.0.0.1:9/v1");
  assert.equal(loaded.config.providers[0]?.apiKeyEnv, "OPENAI_API_KEY");
  assert.equal(loaded.config.providers[0]?.apiKey, undefined, "the key stays in the environment, not in config");
  assert.deepEqual(loaded.config.models, [{ alias: "default", provider: "openai", model: "gpt-x" }]);
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
  const cwd = directoryWith("server:\n  port: 70000\n  colour: blue\nruntime:\n  sandbox: maybe\nmodels:\n  - alias: x\n    provider: nowhere\n    model: m\n");
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
  assert.deepEqual(loaded.config.models, [{ alias: "default", provider: "corp", model: "corp-large" }], "the first provider model becomes the default alias");
  assert.deepEqual(loaded.notices, [], "a configured provider is not announced as missing");
});

test("the committed JSON Schema matches the zod schema (run `npm run schema` after changing it)", () => {
  const committed: unknown = JSON.parse(readFileSync(new URL("../../clawfleet.schema.json", import.meta.url), "utf8"));
  assert.deepEqual(committed, configJsonSchema());
});
