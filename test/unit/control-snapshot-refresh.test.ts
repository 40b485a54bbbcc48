/**
 * SnapshotPublisher.refresh under concurrency: calls made while a rebuild runs share exactly one more rebuild,
 * see changes committed before they were made, and nothing keeps rebuilding afterwards. (Before this was fixed,
 * a call made during a rebuild re-armed the "again" flag on every following rebuild: the publisher rebuilt
 * forever and the caller never resolved; `POST /tenants` hung in `test/e2e/replicas.test.ts` when a replica's
 * own pub/sub echo rebuilt at the same moment.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SnapshotPublisher } from "../../src/control/snapshot.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms))]);
}

test("concurrent refreshes: one more rebuild shared by all late callers, changes visible, then quiet", async () => {
  const store = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
  // Each rebuild's store read takes 20 ms, so calls can arrive while one runs; after 20 reads the store fails,
  // which ends an endless rebuild loop (the bug this guards against) so the test fails instead of hanging.
  const list = store.tenants.list.bind(store.tenants);
  let reads = 0;
  const slowList = async () => {
    reads += 1;
    if (reads > 20) throw new Error("too many rebuilds");
    await new Promise((resolve) => setTimeout(resolve, 20));
    return list();
  };
  const slowStore = { ...store, tenants: Object.assign(Object.create(store.tenants) as typeof store.tenants, { list: slowList }) };
  const publisher = new SnapshotPublisher(slowStore);
  let builds = 0;
  publisher.onChange(() => (builds += 1));
  const first = publisher.refresh();
  await store.tenants.create({ id: "late", profile: "readonly-agent", settings: {} });
  const late = [publisher.refresh(), publisher.refresh(), publisher.refresh()];
  const results = await within(Promise.all([first, ...late]), 2_000);
  assert.equal(builds, 2, "the running rebuild plus exactly one more");
  for (const snapshot of results.slice(1)) assert.ok(snapshot.tenants.has("late"), "a change committed before the call is visible when it resolves");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(builds, 2, "nothing keeps rebuilding");
  // A change announced again while the queued rebuild runs gets yet one more, and then it stops.
  const again = publisher.refresh();
  const during = publisher.refresh();
  await within(Promise.all([again, during, publisher.changed()]), 2_000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(builds, 4);
  await store.close();
});
