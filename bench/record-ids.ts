/**
 * What a request record's id costs (`npx tsx bench/record-ids.ts`): Clawfleet's `newRecordId()` (UUIDv7 laid out by
 * `uuid`, random bits from a pool: src/gateway/record-ids.ts) beside `uuid`'s own `v7()` (one
 * `crypto.getRandomValues` per id), that call alone, and `crypto.randomUUID()` (v4, Node pools its entropy).
 * BENCH_ROUNDS (5) rounds of BENCH_IDS (200,000) calls each after 20,000 calls of warm-up, the order rotating;
 * prints the median ns per call. A micro-benchmark: the same code costs more inside the loaded server (colder
 * caches), so read the ratios, and the server's profile (`bench/profile.ts`) for the share.
 */
import { randomUUID } from "node:crypto";
import { v7 } from "uuid";
import { newRecordId } from "../src/gateway/record-ids.js";
import { median } from "./harness.js";

const IDS = Number(process.env.BENCH_IDS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const sixteenBytes = new Uint8Array(16);
const candidates: Array<{ name: string; make: () => unknown }> = [
  { name: "newRecordId (pooled, v7)", make: newRecordId },
  { name: "uuid v7()", make: () => v7() },
  { name: "getRandomValues(16 B)", make: () => crypto.getRandomValues(sixteenBytes) },
  { name: "randomUUID (v4)", make: randomUUID },
];

const nanoseconds = new Map<string, number[]>();
for (const candidate of candidates) for (let call = 0; call < 20_000; call += 1) candidate.make();
for (let round = 0; round < ROUNDS; round += 1) {
  for (let index = 0; index < candidates.length; index += 1) {
    const candidate = candidates[(index + round) % candidates.length] as (typeof candidates)[number];
    const started = process.hrtime.bigint();
    for (let call = 0; call < IDS; call += 1) candidate.make();
    const perCall = Number(process.hrtime.bigint() - started) / IDS;
    nanoseconds.set(candidate.name, [...(nanoseconds.get(candidate.name) ?? []), perCall]);
  }
}
process.stdout.write(`Node ${process.version}, ${IDS} calls × ${ROUNDS} rounds, median ns per call:\n`);
for (const [name, values] of nanoseconds) process.stdout.write(`${name.padEnd(26)} ${median(values).toFixed(0).padStart(6)} ns\n`);
