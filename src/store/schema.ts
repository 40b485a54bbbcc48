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

export interface RequestsTable {
  id: string;
  request_id: string;
  tenant_id: string;
  key_id: string;
  api: string;
  requested_model: string;
  provider: string | null;
  model: string | null;
  status: number;
  stream: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd_micros: number;
  overhead_ms: number;
  duration_ms: number;
  attempts: number;
  error_code: string | null;
  created_at_ms: number;
}

export interface Database {
  requests: RequestsTable;
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  counters: CountersTable;
}
