/**
 * Who is calling the model gateway: the virtual key, its tenant, and the runtime channel the connection came
 * through. A runtime's virtual key is accepted only through that runtime's own channel, and a runtime channel
 * carries only its runtime's key (the connection proves the caller; headers prove nothing).
 */
import type { FastifyRequest } from "fastify";
import { authenticateKey, credentialFromHeaders, type KeyUsageRecorder } from "../auth/authenticate.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { ApiKeyRecord, TenantRecord } from "../contracts/store.js";
import type { SnapshotPublisher } from "../control/snapshot.js";
import { channelTenantOf } from "./model-channels.js";

export interface CallerDependencies {
  snapshots: SnapshotPublisher;
  keyUsage: KeyUsageRecorder;
  now: () => number;
}

export interface ModelCaller {
  key: ApiKeyRecord;
  tenant: TenantRecord;
  /** The tenant whose runtime channel the connection came through, or null for the public listener. */
  channelTenantId: string | null;
}

/** @throws ClawfleetError CF_AUTH_* (see `authenticateKey`), CF_FORBIDDEN_CHANNEL. */
export function authenticateModelCaller(request: FastifyRequest, dependencies: CallerDependencies): ModelCaller {
  const snapshot = dependencies.snapshots.current();
  const nowMs = dependencies.now();
  const key = authenticateKey(snapshot, credentialFromHeaders(request.headers, { allowApiKeyHeader: true }), "model", nowMs);
  const channelTenantId = channelTenantOf(request.raw.socket);
  if (key.kind === "runtime" && channelTenantId !== key.tenantId) {
    throw new ClawfleetError("CF_FORBIDDEN_CHANNEL", "this virtual key belongs to a runtime and is accepted only through that runtime's own channel");
  }
  if (channelTenantId !== null && (key.kind !== "runtime" || key.tenantId !== channelTenantId)) {
    throw new ClawfleetError("CF_FORBIDDEN_CHANNEL", "a runtime channel accepts only that runtime's own virtual key");
  }
  const tenant = snapshot.tenants.get(key.tenantId);
  if (!tenant) throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid API key");
  dependencies.keyUsage.record(key.id, nowMs);
  return { key, tenant, channelTenantId };
}
