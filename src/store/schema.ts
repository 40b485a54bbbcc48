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
  upstream_request_id: string | null;
  created_at_ms: number;
}

export interface UsersTable {
  id: string;
  issuer: string;
  subject: string;
  email: string | null;
  display_name: string | null;
  platform_roles_json: string;
  created_at_ms: number;
  last_login_at_ms: number | null;
}

export interface MembershipsTable {
  user_id: string;
  tenant_id: string;
  role: string;
  source: string;
  created_at_ms: number;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  claim_platform_roles_json: string;
  created_at_ms: number;
  expires_at_ms: number;
  revoked_at_ms: number | null;
}

export interface LoginAttemptsTable {
  state_hash: string;
  code_verifier: string;
  nonce: string;
  return_to: string;
  expires_at_ms: number;
}

export interface ChannelIdentitiesTable {
  channel: string;
  channel_user_id: string;
  tenant_id: string;
  created_at_ms: number;
}

export interface Database {
  users: UsersTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  login_attempts: LoginAttemptsTable;
  channel_identities: ChannelIdentitiesTable;
  requests: RequestsTable;
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  counters: CountersTable;
}
