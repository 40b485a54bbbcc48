/**
 * Runtime ownership across replicas, with real OpenClaw runtimes: two `clawfleet serve` replicas share
 * PostgreSQL and Redis; the replica that starts a tenant's runtime owns it (a lease) and the other forwards the
 * tenant's HTTP and WebSocket traffic to it instead of starting a second runtime. When the owner shuts down,
 * its lease is released and the other replica takes the runtime over.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";

const DATABASE = `cf_ownership_${randomBytes(4).toString("hex")}`;

function psql(command: string): void {
  execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", command], { stdio: "pipe" });
}

function webSocketConnect(url: string, key: string): Promise<{ ok: boolean; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${key}` } });
    const timer = setTimeout(() => reject(new Error("no hello within 60 s")), 60_000);
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { type?: string; event?: string; id?: string; ok?: boolean; payload?: { type?: string } };
      if (message.event === "connect.challenge") {
        socket.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params: { minProtocol: 4, maxProtocol: 4, client: { id: "test", version: "1.0.0", platform: "linux", mode: "test" }, role: "operator", scopes: ["operator.read"], caps: [] } }));
      }
      if (message.id === "c1") {
        clearTimeout(timer);
        resolve({ ok: message.ok === true, type: message.payload?.type });
        socket.close(1000);
      }
    });
    socket.on("unexpected-response", (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
    socket.on("error", () => undefined);
  });
}

describe("runtime ownership across two replicas", { timeout: 600_000 }, () => {
  let upstream: FakeUpstream;
  let first: ServeProcess;
  let second: ServeProcess;
  const prefix = `cf-own-${randomBytes(4).toString("hex")}:`;

  before(async () => {
    psql(`create database ${DATABASE}`);
    upstream = await startFakeUpstream();
    upstream.setDefault({ kind: "text", text: "owned answer" });
    const env = {
      CLAWFLEET_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${DATABASE}`,
      CLAWFLEET_REDIS_URL: "redis://127.0.0.1:6379",
      CLAWFLEET_REDIS_KEY_PREFIX: prefix,
      CLAWFLEET_ADMIN_TOKEN: "ownership-admin-token-0123456789abcdef",
      CLAWFLEET_RUNTIME_START_TIMEOUT_MS: "240000",
      OPENAI_API_KEY: "sk-upstream",
      OPENAI_BASE_URL: upstream.url,
      CLAWFLEET_LOG_LEVEL: "warn",
    };
    first = await startServeProcess(env);
    second = await startServeProcess(env);
  });

  after(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await upstream?.close();
    try {
      execFileSync("redis-cli", ["--scan", "--pattern", `${prefix}*`]).toString().split("\n").filter(Boolean).forEach((key) => execFileSync("redis-cli", ["del", key]));
    } catch {
      // best effort
    }
    psql(`drop database if exists ${DATABASE} with (force)`);
  });

  test("the owner runs the runtime, the other replica forwards to it; after the owner stops, the other takes over", async () => {
    const created = await fetch(`${first.url}/admin/v1/tenants`, { method: "POST", headers: { authorization: `Bearer ${first.adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ id: "roaming" }) });
    const { apiKey } = (await created.json()) as { apiKey: string };
    const chat = async (replica: ServeProcess) => {
      const response = await fetch(`${replica.url}/t/roaming/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }) });
      const body = (await response.json()) as { choices?: Array<{ message: { content: string } }> };
      assert.equal(response.status, 200, JSON.stringify(body));
      return body.choices?.[0]?.message.content;
    };
    assert.equal(await chat(first), "owned answer", "the first replica boots and owns the runtime");
    assert.equal(await chat(second), "owned answer", "the second replica forwards to the owner");
    assert.equal(existsSync(path.join(second.dataDir, "tenants", "roaming")), false, "no second runtime was started");
    const view = (await (await fetch(`${second.url}/admin/v1/tenants/roaming`, { headers: { authorization: `Bearer ${second.adminToken}` } })).json()) as { runtime: { state: string } };
    assert.equal(view.runtime.state, "stopped", "the second replica runs nothing for this tenant");
    const startElsewhere = await fetch(`${second.url}/admin/v1/tenants/roaming/runtime/start`, { method: "POST", headers: { authorization: `Bearer ${second.adminToken}` } });
    assert.equal(startElsewhere.status, 409, "starting it on the non-owner is refused");
    const hello = await webSocketConnect(`${second.url.replace("http", "ws")}/t/roaming/`, apiKey);
    assert.deepEqual(hello, { ok: true, type: "hello-ok" }, "WebSocket through the non-owner reaches the owner's runtime");

    assert.equal(await first.stop(), 0);
    assert.equal(await chat(second), "owned answer", "after the owner shut down, the second replica runs the runtime");
    assert.equal(existsSync(path.join(second.dataDir, "tenants", "roaming")), true);
  });
});
