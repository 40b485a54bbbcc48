/**
 * Ingress authentication for `/t/{tenant}/…`: a tenant API key with the `chat` scope, belonging to exactly the
 * tenant in the path. A key of tenant A on `/t/B/…` gets 403 whether or not B exists, and nothing of B is
 * touched (not even its runtime's start).
 */
import type { FastifyRequest } from "fastify";
import { authenticateKey, credentialFromHeaders, type KeyUsageRecorder } from "../auth/authenticate.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { ApiKeyRecord } from "../contracts/store.js";
import type { SnapshotPublisher } from "../control/snapshot.js";

/**
 * @throws ClawfleetError CF_AUTH_MISSING, CF_AUTH_INVALID_TOKEN, CF_AUTH_KEY_EXPIRED, CF_FORBIDDEN_SCOPE,
 *   CF_FORBIDDEN_TENANT.
 */
export function authenticateTenantCaller(
  request: FastifyRequest,
  tenantId: string,
  dependencies: { snapshots: SnapshotPublisher; keyUsage: KeyUsageRecorder; now: () => number },
): ApiKeyRecord {
  const snapshot = dependencies.snapshots.current();
  const nowMs = dependencies.now();
  const presented = credentialFromHeaders(request.headers, { allowApiKeyHeader: false });
  const key = authenticateKey(snapshot, presented, "chat", nowMs);
  if (key.kind !== "tenant") throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid API key");
  if (key.tenantId !== tenantId || !snapshot.tenants.has(tenantId)) {
    throw new ClawfleetError("CF_FORBIDDEN_TENANT", "this API key is not valid for this tenant");
  }
  dependencies.keyUsage.record(key.id, nowMs);
  return key;
}
