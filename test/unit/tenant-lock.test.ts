/** TenantLock: one tenant's tasks run one after another (a failure does not block the next); tenants run in parallel. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TenantLock } from "../../src/runtime/drivers/process/tenant-lock.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test("tasks of one tenant never interleave, a rejected task does not block the next, other tenants do not wait", async () => {
  const lock = new TenantLock();
  const events: string[] = [];
  let releaseFirst: () => void = () => undefined;
  const first = lock.run("acme", async () => {
    events.push("acme-1 start");
    await new Promise<void>((resolve) => (releaseFirst = resolve));
    events.push("acme-1 end");
    throw new Error("first failed");
  });
  const second = lock.run("acme", async () => {
    events.push("acme-2 start");
    return 2;
  });
  const other = lock.run("globex", async () => {
    events.push("globex start");
    return "g";
  });
  assert.equal(await other, "g");
  await tick();
  assert.deepEqual(events, ["acme-1 start", "globex start"], "acme's second task waits; globex does not");
  releaseFirst();
  await assert.rejects(first, /first failed/);
  assert.equal(await second, 2);
  assert.deepEqual(events, ["acme-1 start", "globex start", "acme-1 end", "acme-2 start"]);
});
