/** `openStore` chooses the dialect from the database URL and reports configuration and connection errors. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { ClawfleetError, type ErrorCode } from "../../src/contracts/errors.js";
import { openStore } from "../../src/store/open.js";

const PASSWORD = "s3cret-Pa55";

function rejectsWithout(code: ErrorCode, secret: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ClawfleetError, String(error));
    assert.equal(error.code, code, error.message);
    assert.doesNotMatch(`${error.message} ${JSON.stringify(error.details ?? {})}`, new RegExp(secret), "the password never appears");
    return true;
  };
}

/** A local TCP port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

test("without a database URL the store is the SQLite file in the data directory", async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), "clawfleet-open-"));
  try {
    for (const databaseUrl of [undefined, ""]) {
      const store = await openStore({ databaseUrl, dataDir, now: () => 42 });
      assert.equal((await store.tenants.create({ id: `t${databaseUrl === undefined ? 1 : 2}`, profile: "default" })).createdAtMs, 42);
      await store.close();
    }
    assert.ok(existsSync(path.join(dataDir, "clawfleet.sqlite")));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("a malformed URL or another scheme is CF_CONFIG_INVALID, without echoing the password", async () => {
  for (const databaseUrl of [
    `not a url ${PASSWORD}`,
    `mysql://root:${PASSWORD}@127.0.0.1:3306/clawfleet`,
    `sqlite:///var/lib/clawfleet/${PASSWORD}.db`,
    `postgres://postgres:${PASSWORD}@127.0.0.1:notaport/test`,
    `http://postgres:${PASSWORD}@127.0.0.1:5432/test`,
  ]) {
    await assert.rejects(openStore({ databaseUrl, dataDir: "" }), rejectsWithout("CF_CONFIG_INVALID", PASSWORD), databaseUrl);
  }
  await assert.rejects(openStore({ databaseUrl: `postgres://postgres:${PASSWORD}@127.0.0.1:5432/test?schema=Bad-Name`, dataDir: "" }), rejectsWithout("CF_CONFIG_INVALID", PASSWORD));
});

test("an unreachable server is CF_INTERNAL naming host and port, never the password", async () => {
  const port = await closedPort();
  for (const databaseUrl of [`postgres://clawfleet:${PASSWORD}@127.0.0.1:${port}/clawfleet`, `postgresql://clawfleet:${encodeURIComponent(`${PASSWORD}/@:`)}@localhost:${port}/clawfleet`]) {
    await assert.rejects(openStore({ databaseUrl, dataDir: "" }), (error: unknown) => {
      rejectsWithout("CF_INTERNAL", PASSWORD)(error);
      assert.ok(error instanceof ClawfleetError);
      assert.match(error.message, new RegExp(`:${port} \\(database "clawfleet", user "clawfleet"\\)`));
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  }
});
