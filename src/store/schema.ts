/**
 * Kysely table types shared by every SQL dialect. Times are epoch milliseconds (INTEGER / BIGINT),
 * JSON values are stored as text so SQLite and PostgreSQL share one shape.
 */
import type { Generated } from "kysely";

export interface TenantsTable {
  id: string;
  number: Generated<number>;
  profile: string;
  settings_json: string;
  created_at_ms: number;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  kind: string;
  scopes_json: string;
  hash: string;
  created_at_ms: number;
  expires_at_ms: number | null;
  revoked_at_ms: number | null;
  last_used_at_ms: number | null;
}

export interface CountersTable {
  name: string;
  value: number;
}

export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  counters: CountersTable;
}
