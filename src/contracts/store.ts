/**
 * Storage contracts: the repositories the control plane uses. Implemented once over Kysely
 * (`src/store/repositories.ts`) for every SQL dialect; SQLite today, PostgreSQL as a second dialect.
 * Times are epoch milliseconds; JSON columns hold text.
 */
import type { ApprovalRepository } from "./approvals.js";
import type { AuditEvent, AuditEventType, PermissionProfile, PermissionProfileInput } from "./governance.js";
import type { IdentityRepository } from "./identity.js";

/** A tenant: one customer, team or user with its own runtime. */
export interface TenantRecord {
  /** `^[a-z0-9][a-z0-9-]{0,62}$`; appears in URLs (`/t/{id}/…`). */
  id: string;
  /** Stable small integer, unique across tenants ever created; the runtime's uid is `uidBase + number`. */
  number: number;
  /** Permission profile name. */
  profile: string;
  /** The tenant's own operational OpenClaw settings (platform-managed keys are merged over them). */
  settings: Record<string, unknown>;
  createdAtMs: number;
}

/** What a key may be used for: `chat` = the ingress (`/t/{tenant}/…`), `model` = the model gateway directly. */
export type KeyScope = "chat" | "model" | "admin";

/** Who holds a key: a tenant's caller (`tenant`) or the tenant's runtime itself (`runtime`, a virtual key). */
export type KeyKind = "tenant" | "runtime";

/** A stored API key. Only the SHA-256 of the key is stored; the key itself is shown once. */
export interface ApiKeyRecord {
  /** Public id, embedded in the key (`cf_<kind>_<id>_<secret>`), used to find the record. */
  id: string;
  tenantId: string;
  kind: KeyKind;
  scopes: KeyScope[];
  /** Hex SHA-256 of the whole key string. */
  hash: string;
  createdAtMs: number;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
  lastUsedAtMs: number | null;
}

export interface TenantRepository {
  /** @throws ClawfleetError CF_TENANT_EXISTS when the id is taken. */
  create(input: { id: string; profile: string; settings?: Record<string, unknown> }): Promise<TenantRecord>;
  get(id: string): Promise<TenantRecord | null>;
  list(): Promise<TenantRecord[]>;
  /** Replaces the tenant's settings; returns the updated record or null if unknown. */
  updateSettings(id: string, settings: Record<string, unknown>): Promise<TenantRecord | null>;
  /** Assigns a permission profile (by name, not checked here); returns the updated record or null if unknown. */
  updateProfile(id: string, profile: string): Promise<TenantRecord | null>;
  /** Deletes the tenant and its keys; false when unknown. */
  delete(id: string): Promise<boolean>;
}

export interface ApiKeyRepository {
  insert(record: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | null>;
  listByTenant(tenantId: string): Promise<ApiKeyRecord[]>;
  /** All keys that are neither revoked nor expired at `nowMs` (the snapshot's source). */
  listActive(nowMs: number): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked; false when unknown or not the tenant's. */
  revoke(tenantId: string, id: string, nowMs: number): Promise<boolean>;
  /** Revokes every key of a kind for a tenant (e.g. the previous runtime virtual key on restart). */
  revokeAllOfKind(tenantId: string, kind: KeyKind, nowMs: number): Promise<number>;
  /** Records last-used times in one batch. */
  touch(lastUsed: ReadonlyMap<string, number>): Promise<void>;
}

/** One model call through the gateway, with its usage and cost. Written in batches after the answer. */
export interface RequestRecord {
  /** Unique record id: a UUIDv7 (RFC 9562), so ids sort by creation time to the millisecond. */
  id: string;
  /** The request id (`x-request-id`, possibly chosen by the caller, so not unique). */
  requestId: string;
  tenantId: string;
  keyId: string;
  /** Client API the caller spoke (`openai-chat`, `openai-responses`, `anthropic-messages`). */
  api: string;
  /** The model the caller asked for (often an alias). */
  requestedModel: string;
  /** Provider and provider model that answered (or last failed), null when no provider was called. */
  provider: string | null;
  model: string | null;
  /** HTTP status returned to the caller. */
  status: number;
  stream: boolean;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** Cost in millionths of a US dollar (integer). */
  costUsdMicros: number;
  /** Time spent inside Clawfleet, excluding the upstream (ms). */
  overheadMs: number;
  /** Whole request duration (ms). */
  durationMs: number;
  /** Upstream attempts made (retries and fallbacks included). */
  attempts: number;
  /** Stable `CF_*` code when the request failed. */
  errorCode: string | null;
  /**
   * The provider's own id for the call that answered, or for the last failed one when it answered with an error
   * (OpenAI `x-request-id`, Anthropic `request-id`, Bedrock's request id); null when there was none.
   */
  upstreamRequestId: string | null;
  createdAtMs: number;
}

/** Columns a usage report can be grouped by; `day` is the UTC calendar day (YYYY-MM-DD). */
export type UsageGroupBy = "tenant" | "key" | "provider" | "model" | "day";

/** One row of a usage report: the group's values and the sums over its request records. */
export interface UsageRow {
  group: Partial<Record<UsageGroupBy, string | null>>;
  requests: number;
  /** Records whose status was not 2xx. */
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsdMicros: number;
}

export interface RequestRepository {
  /**
   * Sums request records created in [fromMs, toMs) (optionally of one tenant), grouped by `groupBy` (in that
   * order), rows sorted by the group columns.
   */
  usage(filter: { fromMs: number; toMs: number; tenantId?: string; groupBy: readonly UsageGroupBy[] }): Promise<UsageRow[]>;
  insertMany(records: readonly RequestRecord[]): Promise<void>;
  /** Newest first. */
  list(filter: { tenantId?: string; limit: number }): Promise<RequestRecord[]>;
}

/**
 * Stored permission profiles (built-in presets are not stored). Every version is kept in a history table;
 * version numbers of a name are never reused, even after a delete and a re-create.
 */
export interface ProfileRepository {
  /** The current version, or null when there is none (never stored or deleted). */
  get(name: string): Promise<PermissionProfile | null>;
  /** Current versions of every stored profile, ordered by name (code-point order). */
  list(): Promise<PermissionProfile[]>;
  /**
   * Stores a new current version (1 + the highest version the name ever had) and keeps it in the history.
   * `expectedVersion`: the current version the caller saw (0 = the profile must not exist); omitted = no check.
   * @throws ClawfleetError CF_PROFILE_CONFLICT when `expectedVersion` does not match, or a concurrent writer won.
   */
  put(input: PermissionProfileInput, options: { expectedVersion?: number; atMs: number }): Promise<PermissionProfile>;
  /** Every stored version of the name, newest first (also after a delete). */
  history(name: string): Promise<PermissionProfile[]>;
  /** Removes the current version (the history stays); false when there is none. */
  delete(name: string): Promise<boolean>;
}

/** Filters of an audit query; every given field must match. Times are epoch ms, `[fromMs, toMs)`. */
export interface AuditQuery {
  tenantId?: string;
  type?: AuditEventType;
  actor?: string;
  requestId?: string;
  fromMs?: number;
  toMs?: number;
  /** The id of the last event of the previous page: the page continues after it in `order`. */
  cursor?: string;
  /** Most events returned (1…1000). */
  limit: number;
  /** `desc`: newest first (default); `asc`: oldest first. */
  order?: "asc" | "desc";
}

/**
 * The append-only audit trail. There is no update or delete: events are only ever appended (on PostgreSQL and
 * SQLite a trigger also refuses UPDATE and DELETE on the table).
 */
export interface AuditRepository {
  /**
   * Appends events in the given order; the store assigns ids (decimal strings of an increasing integer, so
   * later appends get larger ids). Returns the events with their ids, in the same order.
   */
  append(events: readonly Omit<AuditEvent, "id">[]): Promise<AuditEvent[]>;
  /** Events matching the query, ordered by id in `order`. */
  list(query: AuditQuery): Promise<AuditEvent[]>;
}

/** The storage the control plane is built on. */
export interface Store {
  /** Users, memberships, sessions, pending logins, channel identities (`src/contracts/identity.ts`). */
  identity: IdentityRepository;
  tenants: TenantRepository;
  apiKeys: ApiKeyRepository;
  requests: RequestRepository;
  /** Permission requests, grants and the notification outbox of the approval inbox. */
  approvals: ApprovalRepository;
  /** Stored permission profiles and their versions. */
  profiles: ProfileRepository;
  /** The append-only audit trail. */
  audit: AuditRepository;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
