/**
 * Identity contracts: users, their tenant memberships and platform roles, browser sessions, pending logins and
 * chat-channel identities. Implemented once over Kysely in `src/store/identity-repositories.ts` (SQLite and
 * PostgreSQL). Times are epoch milliseconds. Imports nothing concrete.
 */

/** A user's role inside one tenant. owner ⊃ member ⊃ viewer. */
export type TenantRole = "owner" | "member" | "viewer";

/** Platform-wide roles: `admin` (everything), `approver` (approvals, read tenants), `auditor` (read-only). */
export type PlatformRole = "admin" | "approver" | "auditor";

/** Every tenant role, strongest first. */
export const TENANT_ROLES: readonly TenantRole[] = ["owner", "member", "viewer"];
/** Every platform role. */
export const PLATFORM_ROLES: readonly PlatformRole[] = ["admin", "approver", "auditor"];

/**
 * A person known to the platform, identified by the identity provider that vouches for them: `issuer` (the
 * OIDC `iss`, or `alb:<issuer>` for ALB headers) + `subject` (`sub`). Email is informational, never a key.
 */
export interface UserRecord {
  /** Random UUID; the identity OpenClaw runtimes see is `user:<id>`. */
  id: string;
  issuer: string;
  subject: string;
  email: string | null;
  displayName: string | null;
  /** Platform roles granted by an administrator (`manual`) — claim-derived ones are not stored. */
  platformRoles: PlatformRole[];
  createdAtMs: number;
  lastLoginAtMs: number | null;
}

/** A user's membership of a tenant. `source` says who made it: an administrator or the claim mapping at login. */
export interface MembershipRecord {
  userId: string;
  tenantId: string;
  role: TenantRole;
  source: "manual" | "claims";
  createdAtMs: number;
}

/** A server-side browser session. Only the SHA-256 of the session id is stored; logout revokes it. */
export interface SessionRecord {
  /** Hex SHA-256 of the session id (the cookie value). */
  idHash: string;
  userId: string;
  /** Synchronizer CSRF token bound to this session (random, 256 bits, base64url). */
  csrfToken: string;
  /** Platform roles the identity provider's claims granted at login (added to the user's stored roles). */
  claimPlatformRoles: PlatformRole[];
  createdAtMs: number;
  expiresAtMs: number;
  revokedAtMs: number | null;
}

/** A login in progress (between `/auth/login` and `/auth/callback`), found by the SHA-256 of its `state`. */
export interface LoginAttemptRecord {
  stateHash: string;
  /** PKCE code verifier (RFC 7636 §4.1). */
  codeVerifier: string;
  nonce: string;
  /** Same-origin path to return to after login. */
  returnTo: string;
  expiresAtMs: number;
}

/** A chat-channel user (e.g. `slack` + `U024BE7LH`) mapped to one tenant. */
export interface ChannelIdentityRecord {
  channel: string;
  channelUserId: string;
  tenantId: string;
  createdAtMs: number;
}

/** Repositories of the identity tables. */
export interface IdentityRepository {
  /** @throws ClawfleetError CF_USER_EXISTS when (issuer, subject) is taken. */
  createUser(input: { issuer: string; subject: string; email?: string | null; displayName?: string | null; platformRoles?: PlatformRole[] }): Promise<UserRecord>;
  getUser(id: string): Promise<UserRecord | null>;
  findUserBySubject(issuer: string, subject: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  /** Updates email / display name / last login; null when unknown. */
  recordLogin(id: string, input: { email: string | null; displayName: string | null; atMs: number }): Promise<UserRecord | null>;
  /** Replaces the manually granted platform roles; null when unknown. */
  setPlatformRoles(id: string, roles: PlatformRole[]): Promise<UserRecord | null>;
  /** Deletes the user, its memberships and sessions; false when unknown. */
  deleteUser(id: string): Promise<boolean>;

  /** Creates or replaces a membership. @throws ClawfleetError CF_TENANT_NOT_FOUND / CF_USER_NOT_FOUND. */
  putMembership(input: { userId: string; tenantId: string; role: TenantRole; source: "manual" | "claims" }): Promise<MembershipRecord>;
  listMemberships(filter: { userId?: string; tenantId?: string }): Promise<MembershipRecord[]>;
  deleteMembership(userId: string, tenantId: string): Promise<boolean>;
  /** Makes the user's claim-derived memberships exactly `memberships` (manual ones are kept as they are). */
  syncClaimMemberships(userId: string, memberships: ReadonlyArray<{ tenantId: string; role: TenantRole }>): Promise<void>;

  createSession(record: SessionRecord): Promise<void>;
  /** The session if it exists, is not revoked and not expired at `nowMs`. */
  findActiveSession(idHash: string, nowMs: number): Promise<SessionRecord | null>;
  revokeSession(idHash: string, nowMs: number): Promise<boolean>;
  /** Revokes every session of a user (role change, deletion). */
  revokeUserSessions(userId: string, nowMs: number): Promise<number>;

  createLoginAttempt(record: LoginAttemptRecord): Promise<void>;
  /** Returns and deletes the attempt (single use); null when unknown or expired. */
  takeLoginAttempt(stateHash: string, nowMs: number): Promise<LoginAttemptRecord | null>;

  /** @throws ClawfleetError CF_TENANT_NOT_FOUND. Replaces an existing mapping of the same channel user. */
  putChannelIdentity(input: { channel: string; channelUserId: string; tenantId: string }): Promise<ChannelIdentityRecord>;
  getChannelIdentity(channel: string, channelUserId: string): Promise<ChannelIdentityRecord | null>;
  listChannelIdentities(filter: { tenantId?: string }): Promise<ChannelIdentityRecord[]>;
  deleteChannelIdentity(channel: string, channelUserId: string): Promise<boolean>;
}
