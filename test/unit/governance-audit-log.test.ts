/**
 * The buffered audit log over a real SQLite store and a real file: order, batching, ids in the file, mode 0600,
 * `record` never throwing, retry after a store failure, and `close` flushing.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import type { AuditEvent } from "../../src/contracts/governance.js";
import type { AuditRepository } from "../../src/contracts/store.js";
import { BufferedAuditLog } from "../../src/governance/audit/log.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";

const silent = { error: () => undefined, warn: () => undefined };

function lines(filePath: string): Array<Record<string, unknown>> {
  return readFileSync(filePath, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
}

test("1,000 events recorded in a burst are stored and written to the file in order, with the store's ids; file mode 0600", async () => {
  const directory = mkdtempSync(path.join(tmpdir(), "cf-audit-"));
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
  const filePath = path.join(directory, "nested", "audit.jsonl");
  const log = new BufferedAuditLog({ repository: store.audit, filePath, logger: silent, now: () => 1_700_000_000_000 });
  try {
    const started = process.hrtime.bigint();
    for (let index = 0; index < 1000; index += 1) log.record({ type: "agent_invocation", tenantId: "acme", actor: `key:k${index}`, requestId: `req-${index}`, details: { index } });
    const recordMs = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(recordMs < 200, `record is cheap (took ${recordMs} ms for 1,000)`);
    await log.flush();
    const stored = await store.audit.list({ limit: 1000, order: "asc" });
    assert.equal(stored.length, 1000);
    assert.deepEqual(stored.map((event) => event.details.index), Array.from({ length: 1000 }, (_unused, index) => index));
    const written = lines(filePath);
    assert.deepEqual(written.map((line) => line.id), stored.map((event) => event.id));
    assert.deepEqual(written[0], { id: stored[0]?.id, at: "2023-11-14T22:13:20.000Z", atMs: 1_700_000_000_000, type: "agent_invocation", tenantId: "acme", actor: "key:k0", requestId: "req-0", details: { index: 0 } });
    assert.equal(statSync(filePath).mode & 0o777, 0o600);
  } finally {
    await log.close();
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
});

test("an existing file is appended to and tightened to 0600; given atMs is kept; odd details are made JSON-safe", async () => {
  const directory = mkdtempSync(path.join(tmpdir(), "cf-audit-"));
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
  const filePath = path.join(directory, "audit.jsonl");
  writeFileSync(filePath, '{"earlier":true}\n', { mode: 0o644 });
  const log = new BufferedAuditLog({ repository: store.audit, filePath, logger: silent });
  try {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    log.record({ type: "key_revoked", tenantId: null, actor: "admin", requestId: null, atMs: 42, details: { long: "x".repeat(5000), nan: Number.NaN, nested: circular, skip: undefined } as never });
    await log.close();
    const written = lines(filePath);
    assert.deepEqual(written[0], { earlier: true });
    assert.equal(written[1]?.atMs, 42);
    const details = written[1]?.details as Record<string, unknown>;
    assert.equal((details.long as string).length, 2000 + "…[truncated]".length);
    assert.equal(details.nan, null);
    assert.equal("skip" in details, false);
    assert.equal(statSync(filePath).mode & 0o777, 0o600);
  } finally {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
});

test("record never throws; a failing store keeps events queued and stores them, in order, once it recovers", async () => {
  const directory = mkdtempSync(path.join(tmpdir(), "cf-audit-"));
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
  let failing = true;
  const errors: unknown[] = [];
  const flaky: AuditRepository = {
    append: async (events) => {
      if (failing) throw new Error("database is down");
      return store.audit.append(events);
    },
    list: (query) => store.audit.list(query),
  };
  const filePath = path.join(directory, "audit.jsonl");
  const log = new BufferedAuditLog({ repository: flaky, filePath, logger: { error: (object: unknown) => errors.push(object), warn: () => undefined } });
  try {
    log.record({ type: "profile_changed", tenantId: null, actor: "admin", requestId: null, details: { step: 1 } });
    assert.doesNotThrow(() => log.record(null as never));
    log.record({ type: "profile_changed", tenantId: null, actor: "admin", requestId: null, details: { step: 2 } });
    await log.flush();
    assert.ok(errors.length >= 2, "the bad record and the failed store write are logged");
    assert.deepEqual(await store.audit.list({ limit: 10 }), []);
    failing = false;
    await log.flush();
    const stored: AuditEvent[] = await store.audit.list({ limit: 10, order: "asc" });
    assert.deepEqual(stored.map((event) => event.details.step), [1, 2]);
    assert.deepEqual(lines(filePath).map((line) => line.id), stored.map((event) => event.id));
  } finally {
    await log.close();
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
});
