import assert from "node:assert/strict";
import { test } from "node:test";
import { newRecordId } from "../../../src/gateway/record-ids.js";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("record ids are distinct UUIDv7s stamped with the time of the call, across refills of the random pool", () => {
  const startedMs = Date.now();
  // 1,000 ids: the pool holds 256, so this spends it and refills it three times, most ids within the same ms.
  const ids = Array.from({ length: 1_000 }, () => newRecordId());
  const endedMs = Date.now();
  for (const id of ids) {
    assert.match(id, UUID_V7);
    const timeMs = Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
    assert.ok(timeMs >= startedMs && timeMs <= endedMs, `${id}: its time ${timeMs} is within ${startedMs}..${endedMs}`);
  }
  assert.equal(new Set(ids).size, ids.length, "no id repeats");
  // The 74 random bits differ between ids: no two ids share their last 12 hex digits (48 random bits).
  assert.equal(new Set(ids.map((id) => id.slice(-12))).size, ids.length);
  // Ordered by their ms: sorting the strings keeps each id's ms in order.
  const msOf = (id: string): number => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  const sorted = [...ids].sort();
  for (let index = 1; index < sorted.length; index += 1) assert.ok(msOf(sorted[index - 1]!) <= msOf(sorted[index]!));
  assert.deepEqual(sorted.map(msOf), ids.map(msOf).sort((a, b) => a - b));
});
