import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { promisify } from "node:util";
import { loadConfig } from "../../../src/config/load.js";
import { bindSafetyProblems, checkBindSafety, isLoopbackHost } from "../../../src/http/bind-safety.js";
import { startClawfleet } from "../../../src/app.js";
import { createLogger } from "../../../src/observability/logger.js";

const run = promisify(execFile);
const METRICS_TOKEN = "m".repeat(32);

function configWith(env: NodeJS.ProcessEnv) {
  return loadConfig({ env: { CLAWFLEET_DATA_DIR: "/tmp/cf-bind", ...env }, cwd: "/tmp" }).config;
}

test("loopback hosts are recognised; wildcard and routable ones are not", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1", "api.localhost"]) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ["0.0.0.0", "::", "10.0.0.5", "192.168.1.1", "::ffff:10.0.0.1", "example.com", "128.0.0.1"]) assert.equal(isLoopbackHost(host), false, host);
});

test("a loopback bind is always safe", () => {
  assert.deepEqual(bindSafetyProblems(configWith({})), []);
  assert.doesNotThrow(() => checkBindSafety(configWith({ CLAWFLEET_HOST: "::1" })));
});

test("a non-loopback bind without TLS and without a metrics token reports both problems", () => {
  const problems = bindSafetyProblems(configWith({ CLAWFLEET_HOST: "0.0.0.0" }));
  assert.equal(problems.length, 2);
  assert.match(problems[0] as string, /^server\.tls: host 0\.0\.0\.0 is not loopback/);
  assert.match(problems[1] as string, /^server\.metricsToken: .*\/metrics would be served without authentication/);
  assert.throws(() => checkBindSafety(configWith({ CLAWFLEET_HOST: "0.0.0.0" })), (error: unknown) => (error as { code?: string }).code === "CF_CONFIG_INVALID");
});

test("TLS alone is not enough: /metrics still needs its token", () => {
  const problems = bindSafetyProblems(configWith({ CLAWFLEET_HOST: "0.0.0.0", CLAWFLEET_TLS_CERT_FILE: "cert.pem", CLAWFLEET_TLS_KEY_FILE: "key.pem" }));
  assert.deepEqual(problems.map((problem) => problem.split(":")[0]), ["server.metricsToken"]);
});

test("TLS and a metrics token make a non-loopback bind safe", () => {
  assert.deepEqual(bindSafetyProblems(configWith({ CLAWFLEET_HOST: "0.0.0.0", CLAWFLEET_TLS_CERT_FILE: "cert.pem", CLAWFLEET_TLS_KEY_FILE: "key.pem", CLAWFLEET_METRICS_TOKEN: METRICS_TOKEN })), []);
});

test("allowInsecureBind accepts the risk explicitly (from YAML booleans or env strings)", () => {
  assert.deepEqual(bindSafetyProblems(configWith({ CLAWFLEET_HOST: "10.1.2.3", CLAWFLEET_ALLOW_INSECURE_BIND: "true" })), []);
  assert.equal(bindSafetyProblems(configWith({ CLAWFLEET_HOST: "10.1.2.3", CLAWFLEET_ALLOW_INSECURE_BIND: "false" })).length, 2);
  assert.throws(() => configWith({ CLAWFLEET_ALLOW_INSECURE_BIND: "yes" }), (error: unknown) => (error as { code?: string }).code === "CF_CONFIG_INVALID");
});

test("startClawfleet refuses an unsafe bind before touching anything", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "cf-"));
  try {
    const { config } = loadConfig({ env: { CLAWFLEET_HOST: "0.0.0.0", CLAWFLEET_PORT: "0", CLAWFLEET_DATA_DIR: dataDir }, cwd: dataDir });
    await assert.rejects(startClawfleet(config, createLogger("silent")), (error: unknown) => (error as { code?: string }).code === "CF_CONFIG_INVALID");
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("`clawfleet serve --host 0.0.0.0` exits 2 with CF_CONFIG_INVALID", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "cf-"));
  const script = "import { main } from './src/cli/main.ts'; await main(['node', 'clawfleet', ...process.argv.slice(process.argv.indexOf('serve'))]);";
  try {
    const failure = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, "--", "serve", "--host", "0.0.0.0", "--port", "0"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_LOG_LEVEL: "silent" },
      timeout: 30_000,
    }).then(
      () => null,
      (error: { code?: number; stderr?: string }) => error,
    );
    assert.ok(failure, "serve should have failed");
    assert.equal(failure.code, 2);
    assert.match(failure.stderr ?? "", /CF_CONFIG_INVALID/);
    assert.match(failure.stderr ?? "", /server\.tls: host 0\.0\.0\.0 is not loopback/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("startClawfleet refuses server.tls files it cannot load, naming the file (never clear text by surprise)", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "cf-"));
  try {
    const { config } = loadConfig({ env: { CLAWFLEET_PORT: "0", CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_TLS_CERT_FILE: "c.pem", CLAWFLEET_TLS_KEY_FILE: "k.pem" }, cwd: dataDir });
    await assert.rejects(startClawfleet(config, createLogger("silent")), (error: unknown) => (error as { code?: string }).code === "CF_CONFIG_INVALID" && /server\.tls: certificate file .*c\.pem cannot be read \(ENOENT\)/.test(String((error as Error).message)));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
