/**
 * Control-plane operations on tenants and keys. Every change is written to the store and then published in
 * a new policy snapshot before the call returns, so the data plane sees it on the next request.
 */
import { generateKey } from "../auth/api-keys.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { AuditLog } from "../contracts/governance.js";
import type { ApiKeyRecord, KeyKind, KeyScope, Store, TenantRecord } from "../contracts/store.js";
import { FALLBACK_PROFILE_NAME, PRESET_PROFILES } from "../governance/profiles/presets.js";
import type { SnapshotPublisher } from "./snapshot.js";

/** Tenant ids appear in URLs, directory names and hostnames: DNS-label-like, lowercase. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A key as listed (never includes the key or its hash). */
export interface KeySummary {
  id: string;
  kind: KeyKind;
  scopes: KeyScope[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The public view of a key record. */
export function summarizeKey(record: ApiKeyRecord): KeySummary {
  return {
    id: record.id,
    kind: record.kind,
    scopes: record.scopes,
    createdAt: new Date(record.createdAtMs).toISOString(),
    expiresAt: iso(record.expiresAtMs),
    revokedAt: iso(record.revokedAtMs),
    lastUsedAt: iso(record.lastUsedAtMs),
  };
}

/** Governance settings of {@link TenantService}. */
export interface TenantGovernance {
  /** Receives `key_created` / `key_revoked` events (none recorded when absent). */
  audit?: AuditLog;
  /** Profile of tenants created without one (`governance.defaultProfile`; default `readonly-agent`). */
  defaultProfile?: string;
}

export class TenantService {
  constructor(private readonly store: Store, private readonly snapshots: SnapshotPublisher, private readonly now: () => number = Date.now, private readonly governance: TenantGovernance = {}) {}

  /**
   * Creates a tenant and its first API key (scopes `chat` and `model`). Without `profile`, the tenant gets
   * `governance.defaultProfile`; a given profile must be a preset or a stored profile.
   * @returns the tenant and the key, which is shown only this once.
   * @throws ClawfleetError CF_VALIDATION_FAILED (bad id), CF_PROFILE_NOT_FOUND, CF_TENANT_EXISTS.
   */
  async createTenant(input: { id: string; profile?: string; settings?: Record<string, unknown> }): Promise<{ tenant: TenantRecord; key: string; keyId: string }> {
    if (!TENANT_ID_PATTERN.test(input.id)) {
      throw new ClawfleetError("CF_VALIDATION_FAILED", "tenant id must match ^[a-z0-9][a-z0-9-]{0,62}$", { details: { param: "id" } });
    }
    if (input.profile !== undefined && !PRESET_PROFILES.has(input.profile) && !(await this.store.profiles.get(input.profile))) {
      throw new ClawfleetError("CF_PROFILE_NOT_FOUND", `profile "${input.profile}" does not exist`, { details: { profile: input.profile } });
    }
    const profile = input.profile ?? this.governance.defaultProfile ?? FALLBACK_PROFILE_NAME;
    const tenant = await this.store.tenants.create({ id: input.id, profile, settings: input.settings ?? {} });
    const created = await this.insertKey(tenant.id, "tenant", ["chat", "model"], null);
    this.auditKey("key_created", tenant.id, created.id, "admin", { kind: "tenant", scopes: ["chat", "model"], tenantCreated: true });
    await this.snapshots.changed();
    return { tenant, key: created.key, keyId: created.id };
  }

  /** @throws ClawfleetError CF_TENANT_NOT_FOUND. */
  async getTenant(id: string): Promise<TenantRecord> {
    const tenant = await this.store.tenants.get(id);
    if (!tenant) throw new ClawfleetError("CF_TENANT_NOT_FOUND", `tenant "${id}" does not exist`, { details: { tenantId: id } });
    return tenant;
  }

  listTenants(): Promise<TenantRecord[]> {
    return this.store.tenants.list();
  }

  /** @throws ClawfleetError CF_TENANT_NOT_FOUND. */
  async updateSettings(id: string, settings: Record<string, unknown>): Promise<TenantRecord> {
    const tenant = await this.store.tenants.updateSettings(id, settings);
    if (!tenant) throw new ClawfleetError("CF_TENANT_NOT_FOUND", `tenant "${id}" does not exist`, { details: { tenantId: id } });
    await this.snapshots.changed();
    return tenant;
  }

  /** Deletes the tenant record and its keys (the caller stops and destroys its runtime first). */
  async deleteTenant(id: string): Promise<void> {
    if (!(await this.store.tenants.delete(id))) throw new ClawfleetError("CF_TENANT_NOT_FOUND", `tenant "${id}" does not exist`, { details: { tenantId: id } });
    await this.snapshots.changed();
  }

  /**
   * Creates an API key for a tenant.
   * @param expiresAtMs epoch ms, or null for no expiry.
   * @throws ClawfleetError CF_TENANT_NOT_FOUND, CF_VALIDATION_FAILED (expiry in the past).
   */
  async createKey(tenantId: string, scopes: KeyScope[], expiresAtMs: number | null): Promise<{ key: string; summary: KeySummary }> {
    await this.getTenant(tenantId);
    if (expiresAtMs !== null && expiresAtMs <= this.now()) throw new ClawfleetError("CF_VALIDATION_FAILED", "expiresAt must be in the future", { details: { param: "expiresAt" } });
    const created = await this.insertKey(tenantId, "tenant", scopes, expiresAtMs);
    this.auditKey("key_created", tenantId, created.id, "admin", { kind: "tenant", scopes: created.record.scopes, expiresAtMs });
    await this.snapshots.changed();
    return { key: created.key, summary: summarizeKey(created.record) };
  }

  async listKeys(tenantId: string): Promise<KeySummary[]> {
    await this.getTenant(tenantId);
    return (await this.store.apiKeys.listByTenant(tenantId)).map(summarizeKey);
  }

  /** @throws ClawfleetError CF_KEY_NOT_FOUND (unknown, already revoked, or another tenant's). */
  async revokeKey(tenantId: string, keyId: string): Promise<void> {
    if (!(await this.store.apiKeys.revoke(tenantId, keyId, this.now()))) {
      throw new ClawfleetError("CF_KEY_NOT_FOUND", `key "${keyId}" of tenant "${tenantId}" does not exist or is already revoked`, { details: { tenantId, keyId } });
    }
    this.auditKey("key_revoked", tenantId, keyId, "admin", {});
    await this.snapshots.changed();
  }

  /**
   * Issues a fresh virtual key for the tenant's runtime and revokes the previous one (called at every
   * runtime start, so a key left in an old config file stops working).
   */
  async rotateRuntimeKey(tenantId: string): Promise<string> {
    const revoked = await this.store.apiKeys.revokeAllOfKind(tenantId, "runtime", this.now());
    const created = await this.insertKey(tenantId, "runtime", ["model"], null);
    this.auditKey("key_created", tenantId, created.id, "system", { kind: "runtime", scopes: ["model"], previousRuntimeKeysRevoked: revoked });
    await this.snapshots.changed();
    return created.key;
  }

  private auditKey(type: "key_created" | "key_revoked", tenantId: string, keyId: string, actor: string, details: Record<string, string | number | boolean | null | string[]>): void {
    this.governance.audit?.record({ type, tenantId, actor, requestId: null, details: { keyId, ...details } });
  }

  private async insertKey(tenantId: string, kind: KeyKind, scopes: KeyScope[], expiresAtMs: number | null): Promise<{ id: string; key: string; record: ApiKeyRecord }> {
    const generated = generateKey(kind);
    const record: ApiKeyRecord = {
      id: generated.id,
      tenantId,
      kind,
      scopes: [...new Set(scopes)],
      hash: generated.hash,
      createdAtMs: this.now(),
      expiresAtMs,
      revokedAtMs: null,
      lastUsedAtMs: null,
    };
    await this.store.apiKeys.insert(record);
    return { id: generated.id, key: generated.key, record };
  }
}
