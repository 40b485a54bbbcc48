/**
 * Authenticates API keys against the policy snapshot (no database access on the hot path).
 * Bearer credentials per RFC 6750 §2.1 (`Authorization: Bearer <key>`); the model gateway also accepts
 * Anthropic's `x-api-key` header.
 */
import { ClawfleetError } from "../contracts/errors.js";
import type { ApiKeyRecord, KeyScope } from "../contracts/store.js";
import type { PolicySnapshot } from "../control/snapshot.js";
import { keyMatchesHash, parseKey } from "./api-keys.js";

/** The credential found in request headers, or null. Scheme matching is case-insensitive (RFC 9110 §11.1). */
export function credentialFromHeaders(headers: Record<string, string | string[] | undefined>, options: { allowApiKeyHeader: boolean }): string | null {
  const authorization = headers.authorization;
  if (typeof authorization === "string") {
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization);
    return match ? (match[1] as string) : null;
  }
  const apiKey = headers["x-api-key"];
  if (options.allowApiKeyHeader && typeof apiKey === "string" && apiKey.length > 0) return apiKey.trim();
  return null;
}

/** Records when keys were last used; flushed to the store in batches by the control plane. */
export class KeyUsageRecorder {
  private pending = new Map<string, number>();
  record(keyId: string, atMs: number): void {
    this.pending.set(keyId, atMs);
  }
  /** Returns and clears what was recorded since the last drain. */
  drain(): Map<string, number> {
    const drained = this.pending;
    this.pending = new Map();
    return drained;
  }
}

/**
 * Finds and verifies a presented key in the snapshot.
 * @throws ClawfleetError CF_AUTH_MISSING (no credential), CF_AUTH_INVALID_TOKEN (unknown, malformed, revoked or
 *   wrong secret — indistinguishable on purpose), CF_AUTH_KEY_EXPIRED, CF_FORBIDDEN_SCOPE (key lacks `scope`).
 */
export function authenticateKey(snapshot: PolicySnapshot, presented: string | null, scope: KeyScope, nowMs: number): ApiKeyRecord {
  if (presented === null) throw new ClawfleetError("CF_AUTH_MISSING", "missing credentials: send Authorization: Bearer <key>");
  const parsed = parseKey(presented);
  const record = parsed ? snapshot.keys.get(parsed.id) : undefined;
  if (!parsed || !record || record.kind !== parsed.kind || !keyMatchesHash(presented, record.hash)) {
    throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid API key");
  }
  if (record.expiresAtMs !== null && record.expiresAtMs <= nowMs) throw new ClawfleetError("CF_AUTH_KEY_EXPIRED", "API key has expired");
  if (!record.scopes.includes(scope)) {
    throw new ClawfleetError("CF_FORBIDDEN_SCOPE", `API key lacks the "${scope}" scope`, { details: { requiredScope: scope } });
  }
  return record;
}
