/**
 * Three Clawfleet replicas (separate `clawfleet serve` processes) sharing the real PostgreSQL and Redis of this
 * machine: a tenant and key created on one replica work on the others; a rate limit is enforced once across
 * all three, within 5 % of its configured value; a key revoked on one replica is refused by the others within 1 s.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";

const DATABASE = `cf_replicas_${randomBytes(4).toString("hex")}`;
const REQUESTS_PER_MINUTE = 120;

function psql(command: string): void {
  execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", command], { stdio: "pipe" });
}

describe("three replicas sharing PostgreSQL and Redis", { timeout: 180_000 }, () => {
  let upstream: FakeUpstream;
  const replicas: ServeProcess[] = [];
  const prefix = `cf-test-${randomBytes(4).toString("hex")}:`;

  before(async () => {
    psql(`create database ${DATABASE}`);
    upstream = await startFakeUpstream();
    upstream.setDefault({ kind: "text", text: "ok" });
    const configDirectory = mkdtempSync(path.join(tmpdir(), "cf-replicas-"));
    const configFile = path.join(configDirectory, "clawfleet.yaml");
    writeFileSync(configFile, `limits:\n  - { scope: tenant, requestsPerMinute: ${REQUESTS_PER_MINUTE} }\n`);
    const env = {
      CLAWFLEET_CONFIG: configFile,
      CLAWFLEET_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${DATABASE}`,
      CLAWFLEET_REDIS_URL: "redis://127.0.0.1:6379",
      CLAWFLEET_REDIS_KEY_PREFIX: prefix,
      CLAWFLEET_ADMIN_TOKEN: "replica-admin-token-0123456789abcdef",
      OPENAI_API_KEY: "sk-upstream",
      OPENAI_BASE_URL: upstream.url,
      CLAWFLEET_LOG_LEVEL: "warn",
    };
    replicas.push(...(await Promise.all([startServeProcess(env), startServeProcess(env), startServeProcess(env)])));
  });

  after(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await upstream?.close();
    try {
      execFileSync("redis-cli", ["--scan", "--pattern", `${prefix}*`]).toString().split("\n").filter(Boolean).forEach((key) => execFileSync("redis-cli", ["del", key]));
    } catch {
      // best effort
    }
    psql(`drop database if exists ${DATABASE} with (force)`);
  });

  const admin = (replica: ServeProcess, method: string, apiPath: string, body?: unknown) =>
    fetch(`${replica.url}/admin/v1${apiPath}`, { method, headers: { authorization: `Bearer ${replica.adminToken}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : null });
  const chat = (replica: ServeProcess, key: string) =>
    fetch(`${replica.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "hi" }] }) });

  test("a rate limit holds across replicas; a revoked key is refused everywhere within 1 s", async () => {
    const [first, second, third] = replicas as [ServeProcess, ServeProcess, ServeProcess];
    assert.equal((await admin(first, "POST", "/tenants", { id: "shared" })).status, 201);
    const created = (await (await admin(first, "POST", "/tenants/shared/keys", { scopes: ["model"] })).json()) as { id: string; key: string };
    // The key reaches the other replicas through pub/sub.
    const visibleDeadline = Date.now() + 2_000;
    for (const replica of [second, third]) {
      for (;;) {
        const response = await chat(replica, created.key);
        await response.body?.cancel();
        if (response.status === 200) break;
        assert.ok(Date.now() < visibleDeadline, "the new key works on every replica within 2 s");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    // Concurrent load spread over all three replicas: 300 requests, 30 at a time.
    const started = Date.now();
    let allowed = 2; // the two visibility checks above
    let refused = 0;
    for (let wave = 0; wave < 10; wave += 1) {
      const responses = await Promise.all(Array.from({ length: 30 }, (_, index) => chat(replicas[index % 3] as ServeProcess, created.key)));
      for (const response of responses) {
        if (response.status === 200) allowed += 1;
        else if (response.status === 429) refused += 1;
        await response.body?.cancel();
      }
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    const expected = REQUESTS_PER_MINUTE + (elapsedSeconds * REQUESTS_PER_MINUTE) / 60;
    process.stderr.write(`# rate limit across 3 replicas: ${allowed} allowed, ${refused} refused in ${elapsedSeconds.toFixed(2)} s; configured ${REQUESTS_PER_MINUTE}/min → expected ≤ ${expected.toFixed(1)}\n`);
    assert.ok(allowed >= REQUESTS_PER_MINUTE * 0.95 && allowed <= expected * 1.05, `allowed ${allowed} within 5 % of ${REQUESTS_PER_MINUTE}…${expected.toFixed(1)}`);

    // Revocation on one replica is seen by the others within 1 s.
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // let the bucket refill a little so refusals are not 429s
    assert.equal((await admin(first, "DELETE", `/tenants/shared/keys/${created.id}`)).status, 204);
    const revokedAt = Date.now();
    const refusedAfter: number[] = [];
    for (const replica of [second, third]) {
      for (;;) {
        const response = await chat(replica, created.key);
        await response.body?.cancel();
        if (response.status === 401) break;
        assert.ok(Date.now() - revokedAt < 1_000, "refused within 1 s");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      refusedAfter.push(Date.now() - revokedAt);
    }
    process.stderr.write(`# revoked key refused by the other replicas after ${refusedAfter.join(" ms, ")} ms\n`);
  });
});
