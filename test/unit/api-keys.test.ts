import assert from "node:assert/strict";
import { test } from "node:test";
import { generateKey, hashKey, keyMatchesHash, parseKey, secretsEqual } from "../../src/auth/api-keys.js";

test("generated keys have the documented format and parse back to kind and id", () => {
  const tenantKey = generateKey("tenant");
  assert.match(tenantKey.key, /^cfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(parseKey(tenantKey.key), { kind: "tenant", id: tenantKey.id });
  const runtimeKey = generateKey("runtime");
  assert.match(runtimeKey.key, /^cfv_/);
  assert.deepEqual(parseKey(runtimeKey.key), { kind: "runtime", id: runtimeKey.id });
});

test("keys are random: 1,000 keys, no repeats of id or secret", () => {
  const keys = new Set<string>();
  const ids = new Set<string>();
  for (let index = 0; index < 1000; index += 1) {
    const generated = generateKey("tenant");
    keys.add(generated.key);
    ids.add(generated.id);
  }
  assert.equal(keys.size, 1000);
  assert.equal(ids.size, 1000);
});

test("only the SHA-256 is stored and comparison accepts exactly the key", () => {
  const generated = generateKey("tenant");
  assert.equal(generated.hash, hashKey(generated.key));
  assert.equal(generated.hash.length, 64);
  assert.ok(!generated.hash.includes(generated.key.slice(17)), "hash does not contain the secret");
  assert.equal(keyMatchesHash(generated.key, generated.hash), true);
  const lastCharacter = generated.key.at(-1) === "A" ? "B" : "A";
  assert.equal(keyMatchesHash(`${generated.key.slice(0, -1)}${lastCharacter}`, generated.hash), false);
  assert.equal(keyMatchesHash(`${generated.key}x`, generated.hash), false);
  assert.equal(keyMatchesHash("", generated.hash), false);
  assert.equal(keyMatchesHash(generated.key, "00"), false, "a malformed stored hash never matches");
});

test("malformed keys do not parse", () => {
  for (const bad of ["", "cfk_", "cfk_zzzzzzzzzzzz_" + "a".repeat(43), "cfx_0123456789ab_" + "a".repeat(43), "cfk_0123456789ab_" + "a".repeat(42), "Bearer cfk_0123456789ab_" + "a".repeat(43)]) {
    assert.equal(parseKey(bad), null, bad);
  }
});

test("secretsEqual compares secrets of any length", () => {
  assert.equal(secretsEqual("admin-token-1", "admin-token-1"), true);
  assert.equal(secretsEqual("admin-token-1", "admin-token-2"), false);
  assert.equal(secretsEqual("short", "a much longer secret"), false);
});
