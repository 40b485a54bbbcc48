/**
 * The {@link IdentityRepository} over Kysely, shared by SQLite and PostgreSQL (like `repositories.ts`).
 * Integers are read through `Number(...)`; JSON is text.
 */
import { randomUUID } from "node:crypto";
import type { Kysely, Selectable } from "kysely";
import { ClawfleetError } from "../contracts/errors.js";
import type {
  ChannelIdentityRecord,
  IdentityRepository,
  LoginAttemptRecord,
  MembershipRecord,
  PlatformRole,
  SessionRecord,
  TenantRole,
  UserRecord,
} from "../contracts/identity.js";
import type { ChannelIdentitiesTable, Database, MembershipsTable, SessionsTable, UsersTable } from "./schema.js";

function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    issuer: row.issuer,
    subject: row.subject,
    email: row.email,
    displayName: row.display_name,
    platformRoles: JSON.parse(row.platform_roles_json) as PlatformRole[],
    createdAtMs: Number(row.created_at_ms),
    lastLoginAtMs: row.last_login_at_ms === null ? null : Number(row.last_login_at_ms),
  };
}

function toMembership(row: Selectable<MembershipsTable>): MembershipRecord {
  return { userId: row.user_id, tenantId: row.tenant_id, role: row.role as TenantRole, source: row.source as "manual" | "claims", createdAtMs: Number(row.created_at_ms) };
}

function toSession(row: Selectable<SessionsTable>): SessionRecord {
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    csrfToken: row.csrf_token,
    claimPlatformRoles: JSON.parse(row.claim_platform_roles_json) as PlatformRole[],
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    revokedAtMs: row.revoked_at_ms === null ? null : Number(row.revoked_at_ms),
  };
}

function toChannelIdentity(row: Selectable<ChannelIdentitiesTable>): ChannelIdentityRecord {
  return { channel: row.channel, channelUserId: row.channel_user_id, tenantId: row.tenant_id, createdAtMs: Number(row.created_at_ms) };
}

/** Identity tables over one Kysely instance. `now` stamps creation times (epoch ms). */
export class KyselyIdentityRepository implements IdentityRepository {
  constructor(private readonly database: Kysely<Database>, private readonly now: () => number = Date.now) {}

  private async requireTenant(tenantId: string): Promise<void> {
    const tenant = await this.database.selectFrom("tenants").select("id").where("id", "=", tenantId).executeTakeFirst();
    if (!tenant) throw new ClawfleetError("CF_TENANT_NOT_FOUND", `tenant "${tenantId}" does not exist`, { details: { tenantId } });
  }

  async createUser(input: { issuer: string; subject: string; email?: string | null; displayName?: string | null; platformRoles?: PlatformRole[] }): Promise<UserRecord> {
    const row = {
      id: randomUUID(),
      issuer: input.issuer,
      subject: input.subject,
      email: input.email ?? null,
      display_name: input.displayName ?? null,
      platform_roles_json: JSON.stringify([...new Set(input.platformRoles ?? [])].sort()),
      created_at_ms: this.now(),
      last_login_at_ms: null,
    };
    const inserted = await this.database.insertInto("users").values(row).onConflict((conflict) => conflict.columns(["issuer", "subject"]).doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
      throw new ClawfleetError("CF_USER_EXISTS", "a user with this issuer and subject already exists", { details: { issuer: input.issuer, subject: input.subject } });
    }
    return toUser(row);
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const row = await this.database.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async findUserBySubject(issuer: string, subject: string): Promise<UserRecord | null> {
    const row = await this.database.selectFrom("users").selectAll().where("issuer", "=", issuer).where("subject", "=", subject).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.database.selectFrom("users").selectAll().orderBy("created_at_ms").orderBy("id").execute()).map(toUser);
  }

  async recordLogin(id: string, input: { email: string | null; displayName: string | null; atMs: number }): Promise<UserRecord | null> {
    await this.database.updateTable("users").set({ email: input.email, display_name: input.displayName, last_login_at_ms: input.atMs }).where("id", "=", id).execute();
    return this.getUser(id);
  }

  async setPlatformRoles(id: string, roles: PlatformRole[]): Promise<UserRecord | null> {
    await this.database.updateTable("users").set({ platform_roles_json: JSON.stringify([...new Set(roles)].sort()) }).where("id", "=", id).execute();
    return this.getUser(id);
  }

  async deleteUser(id: string): Promise<boolean> {
    // Children first: correct on a database whose foreign keys are not enforced as well.
    return this.database.transaction().execute(async (transaction) => {
      await transaction.deleteFrom("sessions").where("user_id", "=", id).execute();
      await transaction.deleteFrom("memberships").where("user_id", "=", id).execute();
      const deleted = await transaction.deleteFrom("users").where("id", "=", id).executeTakeFirst();
      return Number(deleted.numDeletedRows) > 0;
    });
  }

  async putMembership(input: { userId: string; tenantId: string; role: TenantRole; source: "manual" | "claims" }): Promise<MembershipRecord> {
    await this.requireTenant(input.tenantId);
    if (!(await this.getUser(input.userId))) throw new ClawfleetError("CF_USER_NOT_FOUND", `user "${input.userId}" does not exist`);
    const row = { user_id: input.userId, tenant_id: input.tenantId, role: input.role, source: input.source, created_at_ms: this.now() };
    await this.database
      .insertInto("memberships")
      .values(row)
      .onConflict((conflict) => conflict.columns(["user_id", "tenant_id"]).doUpdateSet({ role: input.role, source: input.source }))
      .execute();
    const stored = await this.database.selectFrom("memberships").selectAll().where("user_id", "=", input.userId).where("tenant_id", "=", input.tenantId).executeTakeFirstOrThrow();
    return toMembership(stored);
  }

  async listMemberships(filter: { userId?: string; tenantId?: string }): Promise<MembershipRecord[]> {
    let query = this.database.selectFrom("memberships").selectAll();
    if (filter.userId !== undefined) query = query.where("user_id", "=", filter.userId);
    if (filter.tenantId !== undefined) query = query.where("tenant_id", "=", filter.tenantId);
    return (await query.orderBy("tenant_id").orderBy("user_id").execute()).map(toMembership);
  }

  async deleteMembership(userId: string, tenantId: string): Promise<boolean> {
    const deleted = await this.database.deleteFrom("memberships").where("user_id", "=", userId).where("tenant_id", "=", tenantId).executeTakeFirst();
    return Number(deleted.numDeletedRows) > 0;
  }

  async syncClaimMemberships(userId: string, memberships: ReadonlyArray<{ tenantId: string; role: TenantRole }>): Promise<void> {
    const wanted = new Map(memberships.map((membership) => [membership.tenantId, membership.role]));
    const existingTenants = new Set((await this.database.selectFrom("tenants").select("id").where("id", "in", [...wanted.keys(), ""]).execute()).map((row) => row.id));
    await this.database.transaction().execute(async (transaction) => {
      const current = await transaction.selectFrom("memberships").selectAll().where("user_id", "=", userId).execute();
      for (const row of current) {
        if (row.source !== "claims") continue;
        const role = wanted.get(row.tenant_id);
        if (role === undefined) await transaction.deleteFrom("memberships").where("user_id", "=", userId).where("tenant_id", "=", row.tenant_id).execute();
        else if (role !== row.role) await transaction.updateTable("memberships").set({ role }).where("user_id", "=", userId).where("tenant_id", "=", row.tenant_id).execute();
      }
      const present = new Set(current.map((row) => row.tenant_id));
      for (const [tenantId, role] of wanted) {
        // Claims never override a membership an administrator made, and name only tenants that exist.
        if (present.has(tenantId) || !existingTenants.has(tenantId)) continue;
        await transaction.insertInto("memberships").values({ user_id: userId, tenant_id: tenantId, role, source: "claims", created_at_ms: this.now() }).execute();
      }
    });
  }

  async createSession(record: SessionRecord): Promise<void> {
    await this.database
      .insertInto("sessions")
      .values({ id_hash: record.idHash, user_id: record.userId, csrf_token: record.csrfToken, claim_platform_roles_json: JSON.stringify(record.claimPlatformRoles), created_at_ms: record.createdAtMs, expires_at_ms: record.expiresAtMs, revoked_at_ms: record.revokedAtMs })
      .execute();
  }

  async findActiveSession(idHash: string, nowMs: number): Promise<SessionRecord | null> {
    const row = await this.database.selectFrom("sessions").selectAll().where("id_hash", "=", idHash).where("revoked_at_ms", "is", null).where("expires_at_ms", ">", nowMs).executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async revokeSession(idHash: string, nowMs: number): Promise<boolean> {
    const updated = await this.database.updateTable("sessions").set({ revoked_at_ms: nowMs }).where("id_hash", "=", idHash).where("revoked_at_ms", "is", null).executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }

  async revokeUserSessions(userId: string, nowMs: number): Promise<number> {
    const updated = await this.database.updateTable("sessions").set({ revoked_at_ms: nowMs }).where("user_id", "=", userId).where("revoked_at_ms", "is", null).executeTakeFirst();
    return Number(updated.numUpdatedRows);
  }

  async createLoginAttempt(record: LoginAttemptRecord): Promise<void> {
    // Expired attempts are swept here, so the table stays small without a timer.
    await this.database.deleteFrom("login_attempts").where("expires_at_ms", "<=", this.now()).execute();
    await this.database
      .insertInto("login_attempts")
      .values({ state_hash: record.stateHash, code_verifier: record.codeVerifier, nonce: record.nonce, return_to: record.returnTo, expires_at_ms: record.expiresAtMs })
      .execute();
  }

  async takeLoginAttempt(stateHash: string, nowMs: number): Promise<LoginAttemptRecord | null> {
    const row = await this.database.deleteFrom("login_attempts").where("state_hash", "=", stateHash).returningAll().executeTakeFirst();
    if (!row || Number(row.expires_at_ms) <= nowMs) return null;
    return { stateHash: row.state_hash, codeVerifier: row.code_verifier, nonce: row.nonce, returnTo: row.return_to, expiresAtMs: Number(row.expires_at_ms) };
  }

  async putChannelIdentity(input: { channel: string; channelUserId: string; tenantId: string }): Promise<ChannelIdentityRecord> {
    await this.requireTenant(input.tenantId);
    const row = { channel: input.channel, channel_user_id: input.channelUserId, tenant_id: input.tenantId, created_at_ms: this.now() };
    await this.database
      .insertInto("channel_identities")
      .values(row)
      .onConflict((conflict) => conflict.columns(["channel", "channel_user_id"]).doUpdateSet({ tenant_id: input.tenantId, created_at_ms: row.created_at_ms }))
      .execute();
    return toChannelIdentity(row);
  }

  async getChannelIdentity(channel: string, channelUserId: string): Promise<ChannelIdentityRecord | null> {
    const row = await this.database.selectFrom("channel_identities").selectAll().where("channel", "=", channel).where("channel_user_id", "=", channelUserId).executeTakeFirst();
    return row ? toChannelIdentity(row) : null;
  }

  async listChannelIdentities(filter: { tenantId?: string }): Promise<ChannelIdentityRecord[]> {
    let query = this.database.selectFrom("channel_identities").selectAll();
    if (filter.tenantId !== undefined) query = query.where("tenant_id", "=", filter.tenantId);
    return (await query.orderBy("channel").orderBy("channel_user_id").execute()).map(toChannelIdentity);
  }

  async deleteChannelIdentity(channel: string, channelUserId: string): Promise<boolean> {
    const deleted = await this.database.deleteFrom("channel_identities").where("channel", "=", channel).where("channel_user_id", "=", channelUserId).executeTakeFirst();
    return Number(deleted.numDeletedRows) > 0;
  }
}
