/**
 * Replica principal assertions (`src/auth/replica-assertion.ts`): a good one verifies once; a forged, tampered,
 * expired, replayed, misaddressed or misbound one, or one presented by anyone but the replica that made it, is
 * refused with its `details.reason`. The real two-replica path is in `test/e2e/replicas.test.ts`.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { ClawfleetError } from "../../../src/contracts/errors.js";
import { pino } from "pino";
import { ASSERTION_LIFETIME_MS, CLOCK_SKEW_MS, ReplicaAssertions, replicaAssertionKey, watchSharedKey, type AssertedPrincipal } from "../../../src/auth/replica-assertion.js";
import { MemorySharedState } from "../../../src/state/memory/shared-state.js";

const FORWARDER = "http://127.0.0.1:9001";
const OWNER = "http://127.0.0.1:9002";
const key = replicaAssertionKey({ adminToken: "shared-admin-token-0123456789abcdef" });
const request = { tenant: "acme", method: "POST", path: "/t/acme/v1/chat/completions?x=1" };
const alice: AssertedPrincipal = { kind: "user", userId: "u-1", method: "alb", tenantRole: "member", platformRoles: [] };

function pair(now: () => number = Date.now) {
  return { forwarder: new ReplicaAssertions(key, () => FORWARDER, now), owner: new ReplicaAssertions(key, () => OWNER, now) };
}

async function refusedWith(promise: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ClawfleetError);
    assert.equal(error.code, "CF_AUTH_INVALID_TOKEN");
    assert.equal((error.details as { reason?: string } | undefined)?.reason, reason, error.message);
    return true;
  });
}

test("a fresh assertion verifies once at its audience, from its issuer's address", async () => {
  const { forwarder, owner } = pair();
  const header = forwarder.sign(alice, request, OWNER, "203.0.113.7");
  const verified = await owner.verify(header, request, "127.0.0.1");
  assert.deepEqual(verified.principal, alice);
  assert.equal(verified.client, "203.0.113.7");
  assert.equal((await owner.verify(forwarder.sign(alice, request, OWNER, "not-an-address"), request, "127.0.0.1")).client, "", "only an IP address is asserted");
  assert.equal(verified.iss, FORWARDER);
  await refusedWith(owner.verify(header, request, "::ffff:127.0.0.1"), "replica_assertion_replayed");
});

test("forged: another key, a tampered payload, a swapped signature, garbage", async () => {
  const { forwarder, owner } = pair();
  const otherKey = new ReplicaAssertions(replicaAssertionKey({ adminToken: "another-admin-token-0123456789abcdef" }), () => FORWARDER);
  await refusedWith(owner.verify(otherKey.sign(alice, request, OWNER, "x"), request, "127.0.0.1"), "replica_assertion_invalid");
  const header = forwarder.sign(alice, request, OWNER, "x");
  const [version, payload, signature] = header.split(".") as [string, string, string];
  const promoted = JSON.parse(Buffer.from(payload, "base64url").toString()) as { principal: { tenantRole: string } };
  promoted.principal.tenantRole = "owner";
  await refusedWith(owner.verify(`${version}.${Buffer.from(JSON.stringify(promoted)).toString("base64url")}.${signature}`, request, "127.0.0.1"), "replica_assertion_invalid");
  // A MAC computed with the admin token itself (not the derived key) is not the key either.
  const naive = `v1.${payload}`;
  await refusedWith(owner.verify(`${naive}.${createHmac("sha256", "shared-admin-token-0123456789abcdef").update(naive).digest("base64url")}`, request, "127.0.0.1"), "replica_assertion_invalid");
  await refusedWith(owner.verify("v1.e30.AAAA", request, "127.0.0.1"), "replica_assertion_invalid");
  await refusedWith(owner.verify(`${header}x`, request, "127.0.0.1"), "replica_assertion_invalid");
  assert.ok(await owner.verify(header, request, "127.0.0.1"), "the untampered one still works (refusals spend nothing)");
});

test("bound to its audience, tenant, method and path", async () => {
  const { forwarder, owner } = pair();
  await refusedWith(owner.verify(forwarder.sign(alice, request, "http://127.0.0.1:9003", "x"), request, "127.0.0.1"), "replica_assertion_mismatch");
  await refusedWith(owner.verify(forwarder.sign(alice, request, OWNER, "x"), { ...request, tenant: "globex", path: "/t/globex/v1/chat/completions?x=1" }, "127.0.0.1"), "replica_assertion_mismatch");
  await refusedWith(owner.verify(forwarder.sign(alice, request, OWNER, "x"), { ...request, method: "GET" }, "127.0.0.1"), "replica_assertion_mismatch");
  await refusedWith(owner.verify(forwarder.sign(alice, request, OWNER, "x"), { ...request, path: "/t/acme/v1/responses" }, "127.0.0.1"), "replica_assertion_mismatch");
  // An owner never accepts an assertion it issued itself.
  await refusedWith(owner.verify(owner.sign(alice, request, OWNER, "x"), request, "127.0.0.1"), "replica_assertion_mismatch");
});

test("expires after its lifetime (plus skew); one dated in the future is refused too", async () => {
  let now = 1_000_000;
  const { forwarder, owner } = pair(() => now);
  const header = forwarder.sign(alice, request, OWNER, "x");
  now += ASSERTION_LIFETIME_MS + CLOCK_SKEW_MS;
  await refusedWith(owner.verify(header, request, "127.0.0.1"), "replica_assertion_expired");
  const future = new ReplicaAssertions(key, () => FORWARDER, () => now + CLOCK_SKEW_MS + 1_000).sign(alice, request, OWNER, "x");
  await refusedWith(owner.verify(future, request, "127.0.0.1"), "replica_assertion_expired");
  now += 1;
  const fresh = forwarder.sign(alice, request, OWNER, "x");
  now += ASSERTION_LIFETIME_MS - 1;
  assert.ok(await owner.verify(fresh, request, "127.0.0.1"), "valid up to its expiry");
});

test("only the issuing replica's address may present it", async () => {
  const { forwarder, owner } = pair();
  const header = forwarder.sign(alice, request, OWNER, "x");
  await refusedWith(owner.verify(header, request, "127.0.0.3"), "replica_assertion_untrusted_source");
  await refusedWith(owner.verify(header, request, undefined), "replica_assertion_untrusted_source");
  assert.ok(await owner.verify(header, request, "127.0.0.1"), "not spent by the refused attempts");
  const named = new ReplicaAssertions(key, () => "http://localhost:9001").sign(alice, request, OWNER, "x");
  assert.ok(await owner.verify(named, request, "127.0.0.1"), "a host name is resolved");
});

test("the key: a replica secret gives another key than the admin token; short secrets are refused", () => {
  assert.notDeepEqual(replicaAssertionKey({ adminToken: "shared-admin-token-0123456789abcdef", replicaSecret: "shared-admin-token-0123456789abcdef" }), key);
  assert.throws(() => replicaAssertionKey({ adminToken: "short" }), /at least 24/);
});

test("a replica whose key differs from the others' logs an error at start; replicas sharing it do not", async () => {
  const shared = new MemorySharedState();
  const errors: string[] = [];
  const logger = pino({ level: "error" }, { write: (line: string) => errors.push(line) });
  const stops = [
    watchSharedKey(shared, new ReplicaAssertions(key, () => FORWARDER), logger),
    watchSharedKey(shared, new ReplicaAssertions(key, () => OWNER), logger),
  ];
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(errors, [], "same key, no error");
  stops.push(watchSharedKey(shared, new ReplicaAssertions(replicaAssertionKey({ adminToken: "a-different-admin-token-0123456789" }), () => "http://127.0.0.1:9003"), logger));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? "", /CLAWFLEET_REPLICA_SECRET/);
  for (const stop of stops) stop();
  await shared.close();
});
