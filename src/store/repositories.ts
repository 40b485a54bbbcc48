/**
 * The repositories of {@link Store}, written once over Kysely's query builder so that every dialect (SQLite,
 * PostgreSQL) shares them. Dialect-specific setup lives in `src/store/<dialect>/`. Integers are read through
 * `Number(...)` because PostgreSQL's driver may return `bigint` columns and counts as strings.
 */
import { sql, type Kysely, type RawBuilder, type Selectable } from "kysely";
import { ClawfleetError } from "../contracts/errors.js";
import type { ApiKeyRecord, ApiKeyRepository, KeyKind, KeyScope, RequestRecord, RequestRepository, Store, TenantRecord, TenantRepository, UsageGroupBy, UsageRow } from "../contracts/store.js";
import type { ApiKeysTable, Database, RequestsTable, TenantsTable } from "./schema.js";
import { createApprovalRepository } from "./approval-repositories.js";
import { createGovernanceRepositories } from "./governance-repositories.js";
import { KyselyIdentityRepository } from "./identity-repositories.js";

function parseJsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function toTenant(row: Selectable<TenantsTable>): TenantRecord {
  return {
    id: row.id,
    number: Number(row.number),
    profile: row.profile,
    settings: parseJsonObject(row.settings_json),
    createdAtMs: Number(row.created_at_ms),
  };
}

function optionalNumber(value: number | null): number | null {
  return value === null ? null : Number(value);
}

function toApiKey(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind as KeyKind,
    scopes: JSON.parse(row.scopes_json) as KeyScope[],
    hash: row.hash,
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: optionalNumber(row.expires_at_ms),
    revokedAtMs: optionalNumber(row.revoked_at_ms),
    lastUsedAtMs: optionalNumber(row.last_used_at_ms),
  };
}

class KyselyTenantRepository implements TenantRepository {
  constructor(private readonly database: Kysely<Database>, private readonly now: () => number) {}

  async create(input: { id: string; profile: string; settings?: Record<string, unknown> }): Promise<TenantRecord> {
    // "Already exists" is decided inside the transaction but thrown after it commits (nothing was written): a
    // rollback on SQLite's one shared connection is best kept for real failures.
    const created = await this.database.transaction().execute(async (transaction) => {
      const existing = await transaction.selectFrom("tenants").select("id").where("id", "=", input.id).executeTakeFirst();
      if (existing) return null;
      // The row lock on the counter serializes concurrent creates on PostgreSQL (READ COMMITTED re-reads the row).
      const counter = await transaction
        .updateTable("counters")
        .set({ value: sql<number>`value + 1` })
        .where("name", "=", "tenant_number")
        .returning("value")
        .executeTakeFirstOrThrow();
      const row = {
        id: input.id,
        number: Number(counter.value),
        profile: input.profile,
        settings_json: JSON.stringify(input.settings ?? {}),
        created_at_ms: this.now(),
      };
      // A concurrent create of the same id (PostgreSQL) waits for the other transaction, then inserts nothing: the
      // counter keeps its increment, a gap in tenant numbers, which are unique but need not be dense.
      const inserted = await transaction.insertInto("tenants").values(row).onConflict((conflict) => conflict.column("id").doNothing()).executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 ? toTenant(row) : null;
    });
    if (created === null) throw new ClawfleetError("CF_TENANT_EXISTS", `tenant "${input.id}" already exists`, { details: { tenantId: input.id } });
    return created;
  }

  async get(id: string): Promise<TenantRecord | null> {
    const row = await this.database.selectFrom("tenants").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toTenant(row) : null;
  }

  /** Ordered by id in code-point order on every dialect. */
  async list(): Promise<TenantRecord[]> {
    // Sorted here, not with `order by id`: PostgreSQL orders text by the database's collation (en_US ignores
    // hyphens, so `a-c` sorts after `ab`), SQLite by bytes.
    const rows = await this.database.selectFrom("tenants").selectAll().execute();
    return rows.map(toTenant).sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
  }

  async updateSettings(id: string, settings: Record<string, unknown>): Promise<TenantRecord | null> {
    const result = await this.database.updateTable("tenants").set({ settings_json: JSON.stringify(settings) }).where("id", "=", id).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    return this.get(id);
  }

  async updateProfile(id: string, profile: string): Promise<TenantRecord | null> {
    const result = await this.database.updateTable("tenants").set({ profile }).where("id", "=", id).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    return this.database.transaction().execute(async (transaction) => {
      await transaction.deleteFrom("api_keys").where("tenant_id", "=", id).execute();
      const result = await transaction.deleteFrom("tenants").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }
}

class KyselyApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly database: Kysely<Database>) {}

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.database
      .insertInto("api_keys")
      .values({
        id: record.id,
        tenant_id: record.tenantId,
        kind: record.kind,
        scopes_json: JSON.stringify(record.scopes),
        hash: record.hash,
        created_at_ms: record.createdAtMs,
        expires_at_ms: record.expiresAtMs,
        revoked_at_ms: record.revokedAtMs,
        last_used_at_ms: record.lastUsedAtMs,
      })
      .execute();
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.database.selectFrom("api_keys").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toApiKey(row) : null;
  }

  async listByTenant(tenantId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.database.selectFrom("api_keys").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at_ms").execute();
    return rows.map(toApiKey);
  }

  async listActive(nowMs: number): Promise<ApiKeyRecord[]> {
    const rows = await this.database
      .selectFrom("api_keys")
      .selectAll()
      .where("revoked_at_ms", "is", null)
      .where((where) => where.or([where("expires_at_ms", "is", null), where("expires_at_ms", ">", nowMs)]))
      .execute();
    return rows.map(toApiKey);
  }

  async revoke(tenantId: string, id: string, nowMs: number): Promise<boolean> {
    const result = await this.database
      .updateTable("api_keys")
      .set({ revoked_at_ms: nowMs })
      .where("id", "=", id)
      .where("tenant_id", "=", tenantId)
      .where("revoked_at_ms", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async revokeAllOfKind(tenantId: string, kind: KeyKind, nowMs: number): Promise<number> {
    const result = await this.database
      .updateTable("api_keys")
      .set({ revoked_at_ms: nowMs })
      .where("tenant_id", "=", tenantId)
      .where("kind", "=", kind)
      .where("revoked_at_ms", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async touch(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    if (lastUsed.size === 0) return;
    await this.database.transaction().execute(async (transaction) => {
      for (const [id, atMs] of lastUsed) {
        await transaction.updateTable("api_keys").set({ last_used_at_ms: atMs }).where("id", "=", id).execute();
      }
    });
  }
}

function toRequest(row: Selectable<RequestsTable>): RequestRecord {
  return {
    id: row.id,
    requestId: row.request_id,
    tenantId: row.tenant_id,
    keyId: row.key_id,
    api: row.api,
    requestedModel: row.requested_model,
    provider: row.provider,
    model: row.model,
    status: Number(row.status),
    stream: Number(row.stream) === 1,
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cacheReadTokens: Number(row.cache_read_tokens),
    cacheWriteTokens: Number(row.cache_write_tokens),
    reasoningTokens: Number(row.reasoning_tokens),
    costUsdMicros: Number(row.cost_usd_micros),
    overheadMs: Number(row.overhead_ms),
    durationMs: Number(row.duration_ms),
    attempts: Number(row.attempts),
    errorCode: row.error_code,
    upstreamRequestId: row.upstream_request_id,
    createdAtMs: Number(row.created_at_ms),
  };
}

/**
 * Rows per multi-row insert: 22 parameters each, well under PostgreSQL's 65,535 bind parameters per statement
 * and SQLite's 32,766 (https://www.sqlite.org/limits.html#max_variable_number).
 */
const INSERT_CHUNK_ROWS = 500;

async function insertRequests(database: Kysely<Database>, records: readonly RequestRecord[]): Promise<void> {
  await database
    .insertInto("requests")
    .values(
      records.map((record) => ({
        id: record.id,
        request_id: record.requestId,
        tenant_id: record.tenantId,
        key_id: record.keyId,
        api: record.api,
        requested_model: record.requestedModel,
        provider: record.provider,
        model: record.model,
        status: record.status,
        stream: record.stream ? 1 : 0,
        input_tokens: record.inputTokens,
        output_tokens: record.outputTokens,
        cache_read_tokens: record.cacheReadTokens,
        cache_write_tokens: record.cacheWriteTokens,
        reasoning_tokens: record.reasoningTokens,
        cost_usd_micros: record.costUsdMicros,
        overhead_ms: record.overheadMs,
        duration_ms: record.durationMs,
        attempts: record.attempts,
        error_code: record.errorCode,
        upstream_request_id: record.upstreamRequestId,
        created_at_ms: record.createdAtMs,
      })),
    )
    .execute();
}

class KyselyRequestRepository implements RequestRepository {
  constructor(private readonly database: Kysely<Database>) {}

  async insertMany(records: readonly RequestRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (records.length <= INSERT_CHUNK_ROWS) {
      await insertRequests(this.database, records);
      return;
    }
    await this.database.transaction().execute(async (transaction) => {
      for (let start = 0; start < records.length; start += INSERT_CHUNK_ROWS) await insertRequests(transaction, records.slice(start, start + INSERT_CHUNK_ROWS));
    });
  }

  async usage(filter: { fromMs: number; toMs: number; tenantId?: string; groupBy: readonly UsageGroupBy[] }): Promise<UsageRow[]> {
    // The UTC day is computed as an integer day number (ms / 86 400 000) so the query is the same on every dialect.
    const columns: Record<UsageGroupBy, RawBuilder<unknown>> = {
      tenant: sql`tenant_id`,
      key: sql`key_id`,
      provider: sql`provider`,
      model: sql`model`,
      day: sql`(created_at_ms / 86400000)`,
    };
    const groupExpressions = filter.groupBy.map((column) => columns[column]);
    let query = this.database
      .selectFrom("requests")
      .select([
        ...filter.groupBy.map((column) => columns[column].as(`group_${column}`)),
        sql<number>`count(*)`.as("requests"),
        sql<number>`sum(case when status >= 200 and status < 300 then 0 else 1 end)`.as("errors"),
        sql<number>`sum(input_tokens)`.as("input_tokens"),
        sql<number>`sum(output_tokens)`.as("output_tokens"),
        sql<number>`sum(cache_read_tokens)`.as("cache_read_tokens"),
        sql<number>`sum(cache_write_tokens)`.as("cache_write_tokens"),
        sql<number>`sum(cost_usd_micros)`.as("cost_usd_micros"),
      ])
      .where("created_at_ms", ">=", filter.fromMs)
      .where("created_at_ms", "<", filter.toMs);
    if (filter.tenantId !== undefined) query = query.where("tenant_id", "=", filter.tenantId);
    if (groupExpressions.length > 0) query = query.groupBy(groupExpressions).orderBy(groupExpressions);
    const rows = (await query.execute()) as Array<Record<string, unknown>>;
    return rows.map((row) => {
      const group: Partial<Record<UsageGroupBy, string | null>> = {};
      for (const column of filter.groupBy) {
        const value = row[`group_${column}`];
        group[column] = column === "day" ? new Date(Math.floor(Number(value)) * 86_400_000).toISOString().slice(0, 10) : value === null || value === undefined ? null : String(value);
      }
      return {
        group,
        requests: Number(row.requests),
        errors: Number(row.errors),
        inputTokens: Number(row.input_tokens),
        outputTokens: Number(row.output_tokens),
        cacheReadTokens: Number(row.cache_read_tokens),
        cacheWriteTokens: Number(row.cache_write_tokens),
        costUsdMicros: Number(row.cost_usd_micros),
      };
    });
  }

  async list(filter: { tenantId?: string; limit: number }): Promise<RequestRecord[]> {
    let query = this.database.selectFrom("requests").selectAll().orderBy("created_at_ms", "desc").limit(filter.limit);
    if (filter.tenantId !== undefined) query = query.where("tenant_id", "=", filter.tenantId);
    return (await query.execute()).map(toRequest);
  }
}

/** Builds the {@link Store} over an already-migrated Kysely instance of any dialect. */
export function createKyselyStore(database: Kysely<Database>, now: () => number = Date.now): Store {
  return {
    tenants: new KyselyTenantRepository(database, now),
    apiKeys: new KyselyApiKeyRepository(database),
    requests: new KyselyRequestRepository(database),
    approvals: createApprovalRepository(database as unknown as Kysely<unknown>),
    ...createGovernanceRepositories(database),
    identity: new KyselyIdentityRepository(database, now),
    async ping() {
      try {
        await sql`select 1`.execute(database);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await database.destroy();
    },
  };
}
