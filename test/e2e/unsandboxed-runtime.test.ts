/**
 * The fallback without bubblewrap (`runtime.sandbox: none`): a loud warning, loopback ports per tenant, and
 * still a real OpenClaw answering through the ingress with no provider key in its environment or files.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { startClawfleet, type RunningClawfleet } from "../../src/app.js";
import { loadConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/logger.js";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const PROVIDER_KEY = "sk-fallback-provider-key-987654321";

describe("unsandboxed fallback", { timeout: 300_000 }, () => {
  let upstream: FakeUpstream;
  let platform: RunningClawfleet;
  let dataDir: string;
  const logLines: string[] = [];

  before(async () => {
    upstream = await startFakeUpstream();
    upstream.setDefault({ kind: "text", text: "fallback answer" });
    dataDir = mkdtempSync(path.join(tmpdir(), "cf-"));
    const env = { CLAWFLEET_PORT: "0", CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_RUNTIME_SANDBOX: "none", CLAWFLEET_LOG_LEVEL: "warn", OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.url };
    const { config } = loadConfig({ env, cwd: dataDir });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString());
        callback();
      },
    });
    platform = await startClawfleet(config, createLogger("warn", sink), env);
  });
  after(async () => {
    await platform?.close();
    await upstream?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("chat works over loopback ports, with a loud warning and no provider key in the runtime", async () => {
    const created = await fetch(`${platform.url}/admin/v1/tenants`, { method: "POST", headers: { authorization: `Bearer ${platform.adminToken.token}`, "content-type": "application/json" }, body: JSON.stringify({ id: "solo" }) });
    const { apiKey } = (await created.json()) as { apiKey: string };
    const response = await fetch(`${platform.url}/t/solo/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hello" }] }) });
    const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.choices[0]?.message.content, "fallback answer");
    assert.equal(platform.deps.driver.sandboxed, false);
    const connection = await platform.runtimes.ensureReady("solo");
    assert.equal(connection.endpoint.kind, "tcp", "a loopback port per tenant");
    const address = await platform.deps.driver.modelChannelAddress("solo");
    assert.equal(address.kind, "tcp");
    assert.ok(logLines.some((line) => /NOT (isolated|sandboxed)/i.test(line) && line.includes('"level":40')), `a loud warning was logged: ${logLines.join("").slice(0, 600)}`);
    const status = await platform.runtimes.status("solo");
    assert.ok(status.pid);
    const environment = readFileSync(`/proc/${status.pid}/environ`, "utf8");
    assert.equal(environment.includes(PROVIDER_KEY), false);
    assert.equal(environment.includes("OPENAI_API_KEY"), false);
    assert.ok(upstream.requests.every((request) => request.headers.authorization === `Bearer ${PROVIDER_KEY}`));
  });

  test("a killed runtime leaves nothing behind: its OpenClaw is reaped and the restart becomes ready", async () => {
    const first = await platform.runtimes.status("solo");
    assert.ok(first.pid);
    const group = readFileSync(`/proc/${first.pid}/stat`, "utf8").split(") ")[1]?.split(" ")[2];
    process.kill(first.pid, "SIGKILL");
    const deadline = Date.now() + 180_000;
    let status = first;
    while (Date.now() < deadline) {
      status = await platform.runtimes.status("solo");
      if (status.state === "ready" && status.pid !== first.pid) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(status.state, "ready", `restarted (last error: ${status.lastError})`);
    const survivors = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[2] === group;
      } catch {
        return false;
      }
    });
    assert.deepEqual(survivors, [], `no process of the killed runtime's group ${group} survives`);
  });
});
