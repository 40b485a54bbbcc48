/**
 * A proxied request whose upstream (a tenant runtime, or the owner replica) is gone must surface as
 * CF_RUNTIME_UNAVAILABLE (503, retry), not as an internal error: undici passes a refused connection through as a
 * plain Node.js error, not an UndiciError.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { Pool } from "undici";
import { isUnreachable } from "../../../src/ingress/upstream-pool.js";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

test("a refused connection to the upstream counts as unreachable", async () => {
  const pool = new Pool(`http://127.0.0.1:${await closedPort()}`);
  try {
    const error = await pool.request({ method: "GET", path: "/" }).then(
      () => assert.fail("the request to a closed port succeeded"),
      (caught: unknown) => caught,
    );
    assert.equal((error as NodeJS.ErrnoException).code, "ECONNREFUSED");
    assert.equal(isUnreachable(error), true);
  } finally {
    await pool.close();
  }
});

test("errors that are not about reaching the upstream are not mistaken for it", () => {
  assert.equal(isUnreachable(new Error("boom")), false);
  assert.equal(isUnreachable(new TypeError("bad header")), false);
  assert.equal(isUnreachable("ECONNREFUSED"), false);
});
