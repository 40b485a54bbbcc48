/**
 * Conformance cases of the identity repositories (users, memberships, sessions, login attempts, channel
 * identities), run against every dialect: `test/unit/store-sqlite.test.ts` and `test/e2e/store-postgres.test.ts`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClawfleetError, type ErrorCode } from "../../src/contracts/errors.js";
import type { OpenStoreUnderTest } from "./store.js";

const START_MS = 1_700_000_000_000;

function rejectsWith(code: ErrorCode) {
  return (error: unknown) => error instanceof ClawfleetError && error.code === code;
}

/** Registers the identity conformance tests for one store implementation. */
export function runIdentityStoreConformance(name: string, open: OpenStoreUnderTest): void {
  describe(`Identity store conformance: ${name}`, () => {
    let clock = START_MS;
    const now = () => clock;

    async function withStore(body: (store: Awaited<ReturnType<OpenStoreUnderTest>>["store"]) => Promise<void>): Promise<void> {
      clock = START_MS;
      const opened = await open({ now });
      try {
        await body(opened.store);
      } finally {
        await opened.cleanup();
      }
    }

    test("users: unique per (issuer, subject), roles stored sorted, login recorded, deleted with memberships and sessions", () =>
      withStore(async (store) => {
        const alice = await store.identity.createUser({ issuer: "https://idp.example", subject: "alice", email: "alice@example.com", platformRoles: ["auditor", "admin", "admin"] });
        assert.match(alice.id, /^[0-9a-f-]{36}$/);
        assert.deepEqual(alice.platformRoles, ["admin", "auditor"]);
        await assert.rejects(store.identity.createUser({ issuer: "https://idp.example", subject: "alice" }), rejectsWith("CF_USER_EXISTS"));
        const otherIssuer = await store.identity.createUser({ issuer: "https://other.example", subject: "alice" });
        assert.notEqual(otherIssuer.id, alice.id, "the same subject at another issuer is another user");
        assert.deepEqual(await store.identity.findUserBySubject("https://idp.example", "alice"), alice);
        assert.equal(await store.identity.findUserBySubject("https://idp.example", "ALICE"), null);
        clock += 5_000;
        const logged = await store.identity.recordLogin(alice.id, { email: "a@example.com", displayName: "Alice", atMs: clock });
        assert.equal(logged?.lastLoginAtMs, clock);
        assert.equal(logged?.displayName, "Alice");
        assert.deepEqual((await store.identity.setPlatformRoles(alice.id, ["approver"]))?.platformRoles, ["approver"]);
        assert.equal((await store.identity.listUsers()).length, 2);

        await store.tenants.create({ id: "acme", profile: "default" });
        await store.identity.putMembership({ userId: alice.id, tenantId: "acme", role: "owner", source: "manual" });
        await store.identity.createSession({ idHash: "f".repeat(64), userId: alice.id, csrfToken: "csrf", claimPlatformRoles: [], createdAtMs: clock, expiresAtMs: clock + 60_000, revokedAtMs: null });
        assert.equal(await store.identity.deleteUser(alice.id), true);
        assert.equal(await store.identity.deleteUser(alice.id), false);
        assert.deepEqual(await store.identity.listMemberships({ tenantId: "acme" }), []);
        assert.equal(await store.identity.findActiveSession("f".repeat(64), clock), null);
      }));

    test("memberships: upsert changes the role, unknown tenant or user refused, deleted with their tenant", () =>
      withStore(async (store) => {
        const user = await store.identity.createUser({ issuer: "i", subject: "bob" });
        await store.tenants.create({ id: "acme", profile: "default" });
        await store.tenants.create({ id: "globex", profile: "default" });
        await assert.rejects(store.identity.putMembership({ userId: user.id, tenantId: "nope", role: "member", source: "manual" }), rejectsWith("CF_TENANT_NOT_FOUND"));
        await assert.rejects(store.identity.putMembership({ userId: "00000000-0000-0000-0000-000000000000", tenantId: "acme", role: "member", source: "manual" }), rejectsWith("CF_USER_NOT_FOUND"));
        await store.identity.putMembership({ userId: user.id, tenantId: "acme", role: "viewer", source: "manual" });
        const upgraded = await store.identity.putMembership({ userId: user.id, tenantId: "acme", role: "owner", source: "manual" });
        assert.equal(upgraded.role, "owner");
        await store.identity.putMembership({ userId: user.id, tenantId: "globex", role: "member", source: "manual" });
        assert.deepEqual((await store.identity.listMemberships({ userId: user.id })).map((membership) => [membership.tenantId, membership.role]), [["acme", "owner"], ["globex", "member"]]);
        assert.equal(await store.tenants.delete("globex"), true);
        assert.deepEqual((await store.identity.listMemberships({ userId: user.id })).map((membership) => membership.tenantId), ["acme"]);
        assert.equal(await store.identity.deleteMembership(user.id, "acme"), true);
        assert.equal(await store.identity.deleteMembership(user.id, "acme"), false);
      }));

    test("claim memberships: synced exactly, manual ones untouched, unknown tenants ignored", () =>
      withStore(async (store) => {
        const user = await store.identity.createUser({ issuer: "i", subject: "carol" });
        for (const id of ["acme", "globex", "initech"]) await store.tenants.create({ id, profile: "default" });
        await store.identity.putMembership({ userId: user.id, tenantId: "initech", role: "viewer", source: "manual" });
        await store.identity.syncClaimMemberships(user.id, [{ tenantId: "acme", role: "member" }, { tenantId: "initech", role: "owner" }, { tenantId: "ghost", role: "owner" }]);
        const first = await store.identity.listMemberships({ userId: user.id });
        assert.deepEqual(first.map((membership) => [membership.tenantId, membership.role, membership.source]), [["acme", "member", "claims"], ["initech", "viewer", "manual"]]);
        await store.identity.syncClaimMemberships(user.id, [{ tenantId: "globex", role: "viewer" }]);
        const second = await store.identity.listMemberships({ userId: user.id });
        assert.deepEqual(second.map((membership) => [membership.tenantId, membership.role, membership.source]), [["globex", "viewer", "claims"], ["initech", "viewer", "manual"]]);
      }));

    test("sessions: active until expiry or revocation; revoking all of a user's", () =>
      withStore(async (store) => {
        const user = await store.identity.createUser({ issuer: "i", subject: "dave" });
        const base = { userId: user.id, csrfToken: "t", claimPlatformRoles: ["auditor" as const], createdAtMs: clock, revokedAtMs: null };
        await store.identity.createSession({ ...base, idHash: "a".repeat(64), expiresAtMs: clock + 1_000 });
        await store.identity.createSession({ ...base, idHash: "b".repeat(64), expiresAtMs: clock + 10_000 });
        await store.identity.createSession({ ...base, idHash: "c".repeat(64), expiresAtMs: clock + 10_000 });
        assert.equal((await store.identity.findActiveSession("a".repeat(64), clock))?.csrfToken, "t");
        assert.deepEqual((await store.identity.findActiveSession("a".repeat(64), clock))?.claimPlatformRoles, ["auditor"]);
        assert.equal(await store.identity.findActiveSession("a".repeat(64), clock + 1_000), null, "expired at expiresAtMs");
        assert.equal(await store.identity.revokeSession("b".repeat(64), clock), true);
        assert.equal(await store.identity.revokeSession("b".repeat(64), clock), false);
        assert.equal(await store.identity.findActiveSession("b".repeat(64), clock), null);
        assert.equal(await store.identity.revokeUserSessions(user.id, clock), 2);
        assert.equal(await store.identity.findActiveSession("c".repeat(64), clock), null);
        assert.equal(await store.identity.findActiveSession("0".repeat(64), clock), null);
      }));

    test("login attempts: single use, refused once expired", () =>
      withStore(async (store) => {
        const attempt = { stateHash: "1".repeat(64), codeVerifier: "v".repeat(43), nonce: "n", returnTo: "/", expiresAtMs: clock + 600_000 };
        await store.identity.createLoginAttempt(attempt);
        assert.deepEqual(await store.identity.takeLoginAttempt(attempt.stateHash, clock), attempt);
        assert.equal(await store.identity.takeLoginAttempt(attempt.stateHash, clock), null, "a state is used once");
        await store.identity.createLoginAttempt({ ...attempt, stateHash: "2".repeat(64) });
        assert.equal(await store.identity.takeLoginAttempt("2".repeat(64), attempt.expiresAtMs), null, "expired");
      }));

    test("channel identities: channel + user id map to one tenant, remapped by upsert, deleted with the tenant", () =>
      withStore(async (store) => {
        await store.tenants.create({ id: "acme", profile: "default" });
        await store.tenants.create({ id: "globex", profile: "default" });
        await assert.rejects(store.identity.putChannelIdentity({ channel: "slack", channelUserId: "U1", tenantId: "nope" }), rejectsWith("CF_TENANT_NOT_FOUND"));
        await store.identity.putChannelIdentity({ channel: "slack", channelUserId: "U1", tenantId: "acme" });
        await store.identity.putChannelIdentity({ channel: "telegram", channelUserId: "U1", tenantId: "globex" });
        assert.equal((await store.identity.getChannelIdentity("slack", "U1"))?.tenantId, "acme");
        await store.identity.putChannelIdentity({ channel: "slack", channelUserId: "U1", tenantId: "globex" });
        assert.equal((await store.identity.getChannelIdentity("slack", "U1"))?.tenantId, "globex");
        assert.equal((await store.identity.listChannelIdentities({ tenantId: "globex" })).length, 2);
        await store.tenants.delete("globex");
        assert.deepEqual(await store.identity.listChannelIdentities({}), []);
        assert.equal(await store.identity.deleteChannelIdentity("slack", "U1"), false);
      }));
  });
}
