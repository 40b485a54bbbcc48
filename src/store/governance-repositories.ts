/**
 * The governance repositories of {@link Store}: stored permission profiles with every version, and the
 * append-only audit trail. Written once over Kysely for every dialect (SQLite, PostgreSQL), like
 * `repositories.ts`; the tables come from migration `003-governance`. Integers are read through `Number(...)`.
 */
import type { Generated, Kysely, Selectable } from "kysely";
import { ClawfleetError } from "../contracts/errors.js";
import type { AuditEvent, AuditEventType, PermissionProfile, PermissionProfileInput } from "../contracts/governance.js";
import type { JsonValue } from "../contracts/chat.js";
import type { AuditQuery, AuditRepository, ProfileRepository } from "../contracts/store.js";
import type { Database } from "./schema.js";

/** Current version of each stored profile. `body_json` holds everything but name, version and update stamps. */
export interface ProfilesTable {
  name: string;
  version: number;
  body_json: string;
  updated_by: string | null;
  updated_at_ms: number;
}

/** Every version ever stored, primary key (name, version). */
export type ProfileVersionsTable = ProfilesTable;

/** Append-only audit trail; `id` is assigned by the database and increases with every append. */
export interface AuditEventsTable {
  id: Generated<number>;
  type: string;
  tenant_id: string | null;
  actor: string;
  request_id: string | null;
  at_ms: number;
  details_json: string;
}

/** Tables of migration `003-governance`. */
export type GovernanceTables = {
  profiles: ProfilesTable;
  profile_versions: ProfileVersionsTable;
  audit_events: AuditEventsTable;
};

type GovernanceDatabase = Database & GovernanceTables;

/** The stored body of a profile: every field but name, version and update stamps. */
type ProfileBody = Omit<PermissionProfile, "name" | "version" | "updatedBy" | "updatedAtMs">;

function bodyOf(input: PermissionProfileInput): ProfileBody {
  return { description: input.description, tools: input.tools, paths: input.paths, exec: input.exec, injection: input.injection };
}

function toProfile(row: Selectable<ProfilesTable>): PermissionProfile {
  const body = JSON.parse(row.body_json) as ProfileBody;
  return {
    name: row.name,
    version: Number(row.version),
    ...body,
    ...(row.updated_by === null ? {} : { updatedBy: row.updated_by }),
    updatedAtMs: Number(row.updated_at_ms),
  };
}

function byCodePoint(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function conflict(name: string, message: string, expectedVersion: number | undefined, currentVersion: number | null): ClawfleetError {
  return new ClawfleetError("CF_PROFILE_CONFLICT", message, { details: { profile: name, expectedVersion: expectedVersion ?? null, currentVersion } });
}

class KyselyProfileRepository implements ProfileRepository {
  constructor(private readonly database: Kysely<GovernanceDatabase>) {}

  async get(name: string): Promise<PermissionProfile | null> {
    const row = await this.database.selectFrom("profiles").selectAll().where("name", "=", name).executeTakeFirst();
    return row ? toProfile(row) : null;
  }

  async list(): Promise<PermissionProfile[]> {
    // Sorted here: PostgreSQL's collation would order names differently from SQLite (see repositories.ts).
    const rows = await this.database.selectFrom("profiles").selectAll().execute();
    return rows.map(toProfile).sort((left, right) => byCodePoint(left.name, right.name));
  }

  async put(input: PermissionProfileInput, options: { expectedVersion?: number; atMs: number }): Promise<PermissionProfile> {
    const { expectedVersion } = options;
    // Decided inside the transaction, thrown after it (a rollback on SQLite's shared connection is kept for real
    // failures, as in repositories.ts). Concurrent writers: the update is conditional on the version read, and the
    // history's primary key (name, version) refuses a second row with the same number.
    const outcome = await this.database.transaction().execute(async (transaction) => {
      const current = await transaction.selectFrom("profiles").select("version").where("name", "=", input.name).executeTakeFirst();
      const currentVersion = current ? Number(current.version) : null;
      if (expectedVersion !== undefined && (currentVersion ?? 0) !== expectedVersion) {
        return { error: conflict(input.name, expectedVersion === 0 ? `profile "${input.name}" already exists (version ${currentVersion})` : `profile "${input.name}" is at version ${currentVersion ?? "none"}, not ${expectedVersion}`, expectedVersion, currentVersion) };
      }
      const highest = await transaction.selectFrom("profile_versions").select((select) => select.fn.max("version").as("highest")).where("name", "=", input.name).executeTakeFirst();
      const version = Math.max(Number(highest?.highest ?? 0), currentVersion ?? 0) + 1;
      const row = { name: input.name, version, body_json: JSON.stringify(bodyOf(input)), updated_by: input.updatedBy ?? null, updated_at_ms: options.atMs };
      if (currentVersion === null) {
        const inserted = await transaction.insertInto("profiles").values(row).onConflict((onConflict) => onConflict.column("name").doNothing()).executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return { error: conflict(input.name, `profile "${input.name}" was created concurrently`, expectedVersion, null) };
      } else {
        const updated = await transaction.updateTable("profiles").set(row).where("name", "=", input.name).where("version", "=", currentVersion).executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return { error: conflict(input.name, `profile "${input.name}" was changed concurrently`, expectedVersion, currentVersion) };
      }
      const kept = await transaction.insertInto("profile_versions").values(row).onConflict((onConflict) => onConflict.columns(["name", "version"]).doNothing()).executeTakeFirst();
      if (Number(kept.numInsertedOrUpdatedRows ?? 0) === 0) throw conflict(input.name, `profile "${input.name}" was changed concurrently`, expectedVersion, currentVersion);
      return { profile: toProfile(row) };
    });
    if ("error" in outcome) throw outcome.error;
    return outcome.profile;
  }

  async history(name: string): Promise<PermissionProfile[]> {
    const rows = await this.database.selectFrom("profile_versions").selectAll().where("name", "=", name).orderBy("version", "desc").execute();
    return rows.map(toProfile);
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.database.deleteFrom("profiles").where("name", "=", name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: String(row.id),
    type: row.type as AuditEventType,
    tenantId: row.tenant_id,
    actor: row.actor,
    requestId: row.request_id,
    atMs: Number(row.at_ms),
    details: JSON.parse(row.details_json) as Record<string, JsonValue>,
  };
}

/** A cursor is the decimal id of an event; anything else is a validation error. */
function cursorId(cursor: string): number {
  if (!/^[0-9]{1,15}$/.test(cursor)) throw new ClawfleetError("CF_VALIDATION_FAILED", "cursor must be the id of an audit event (decimal digits)", { details: { param: "cursor" } });
  return Number(cursor);
}

/** Rows per multi-row insert: 6 parameters each, far below every dialect's limit on bind parameters. */
const AUDIT_INSERT_CHUNK = 500;

class KyselyAuditRepository implements AuditRepository {
  constructor(private readonly database: Kysely<GovernanceDatabase>) {}

  async append(events: readonly Omit<AuditEvent, "id">[]): Promise<AuditEvent[]> {
    if (events.length === 0) return [];
    return this.database.transaction().execute(async (transaction) => {
      const stored: AuditEvent[] = [];
      for (let start = 0; start < events.length; start += AUDIT_INSERT_CHUNK) {
        const chunk = events.slice(start, start + AUDIT_INSERT_CHUNK);
        const returned = await transaction
          .insertInto("audit_events")
          .values(chunk.map((event) => ({ type: event.type, tenant_id: event.tenantId, actor: event.actor, request_id: event.requestId, at_ms: event.atMs, details_json: JSON.stringify(event.details) })))
          .returning("id")
          .execute();
        // Ids of one statement are assigned in row order; RETURNING's row order is not promised by SQL, so sort.
        const ids = returned.map((row) => Number(row.id)).sort((left, right) => left - right);
        chunk.forEach((event, index) => stored.push({ ...event, id: String(ids[index]) }));
      }
      return stored;
    });
  }

  async list(query: AuditQuery): Promise<AuditEvent[]> {
    const order = query.order ?? "desc";
    let select = this.database.selectFrom("audit_events").selectAll().orderBy("id", order).limit(query.limit);
    if (query.tenantId !== undefined) select = select.where("tenant_id", "=", query.tenantId);
    if (query.type !== undefined) select = select.where("type", "=", query.type);
    if (query.actor !== undefined) select = select.where("actor", "=", query.actor);
    if (query.requestId !== undefined) select = select.where("request_id", "=", query.requestId);
    if (query.fromMs !== undefined) select = select.where("at_ms", ">=", query.fromMs);
    if (query.toMs !== undefined) select = select.where("at_ms", "<", query.toMs);
    if (query.cursor !== undefined) select = select.where("id", order === "desc" ? "<" : ">", cursorId(query.cursor));
    return (await select.execute()).map(toEvent);
  }
}

/** The profile and audit repositories over an already-migrated Kysely instance of any dialect. */
export function createGovernanceRepositories(database: Kysely<Database>): { profiles: ProfileRepository; audit: AuditRepository } {
  const governance = database.withTables<GovernanceTables>();
  return { profiles: new KyselyProfileRepository(governance), audit: new KyselyAuditRepository(governance) };
}
