/**
 * Starts a whole Clawfleet in-process on a free loopback port with a temporary data dir, configured the way
 * `clawfleet serve` would configure it from flags and environment.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startClawfleet, type RunningClawfleet } from "../../src/app.js";
import { loadConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/logger.js";

export interface TestPlatform extends RunningClawfleet {
  dataDir: string;
  /** Calls the admin API with the admin token. */
  admin(method: string, apiPath: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/** `configYaml` is written to `<dataDir>/clawfleet.yaml` (read as the config file). */
export async function startTestPlatform(env: NodeJS.ProcessEnv = {}, options: { configYaml?: string } = {}): Promise<TestPlatform> {
  // Short enough to keep socket paths under the 107-byte limit.
  const dataDir = mkdtempSync(path.join(tmpdir(), "cf-"));
  if (options.configYaml !== undefined) writeFileSync(path.join(dataDir, "clawfleet.yaml"), options.configYaml);
  const fullEnv = { CLAWFLEET_PORT: "0", CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_LOG_LEVEL: process.env.CLAWFLEET_TEST_LOG_LEVEL ?? "silent", ...env };
  const { config } = loadConfig({ env: fullEnv, cwd: dataDir });
  const running = await startClawfleet(config, createLogger(config.logLevel, process.stderr), fullEnv);
  return {
    ...running,
    dataDir,
    async admin(method, apiPath, body) {
      const response = await fetch(`${running.url}/admin/v1${apiPath}`, {
        method,
        headers: { authorization: `Bearer ${running.adminToken.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text.length > 0 && (response.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : text };
    },
    async stop() {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
