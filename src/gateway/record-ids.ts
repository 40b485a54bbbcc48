/**
 * Ids of request records: UUIDv7 (RFC 9562 section 5.7 — the Unix time in ms in the first 48 bits, then the
 * version, 74 random bits and the variant), laid out by the `uuid` package. Time-ordered, so each new record lands
 * at the right edge of the primary-key index instead of on a random page of it.
 *
 * The random bits come from a pool filled 256 ids at a time: `uuid`'s own source calls `crypto.getRandomValues`
 * once per id, a call into OpenSSL that cost ~2.7 µs here (Node 20; 2.5 % of the gateway's main-thread CPU in
 * `bench/profile.ts`), where one `randomFillSync` of 4 KiB costs about the same as one of 16 bytes. Node's own
 * `crypto.randomUUID()` pools its entropy the same way. Given its random bytes, `uuid` takes the 31-bit counter
 * that orders ids within one ms from them too (RFC 9562 section 6.2, method 1, seeded afresh per id), so ids sort by
 * their ms, and within one ms in no particular order.
 */
import { randomFillSync } from "node:crypto";
import { v7 } from "uuid";

/** Random bytes per id (`uuid` reads 16). */
const BYTES_PER_ID = 16;
const pool = Buffer.alloc(BYTES_PER_ID * 256);
let offset = pool.length;

/** The next 16 unused random bytes of the pool, refilled when spent. */
function randomBytesForId(): Uint8Array {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + BYTES_PER_ID);
  offset += BYTES_PER_ID;
  return bytes;
}

/** A new UUIDv7 string (36 characters, lower-case hex) stamped with `Date.now()`. */
export function newRecordId(): string {
  return v7({ random: randomBytesForId() });
}
