/**
 * `GET /admin/v1/diagnostics/runtime-tokens` (admin token): for each ready runtime, the SHA-256 digest of the
 * gateway token the platform holds for it, so `clawfleet doctor` can check that every runtime's own config
 * (`<dataDir>/tenants/<id>/state/openclaw.json`, `gateway.auth.token`) carries the same token. Digests only:
 * the tokens themselves never leave the process.
 */
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { credentialFromHeaders } from "../auth/authenticate.js";
import { secretsEqual } from "../auth/api-keys.js";
import { ClawfleetError } from "../contracts/errors.js";

/** Answer of the route: tenant id → hex SHA-256 of the held gateway token. */
export interface RuntimeTokenDigests {
  runtimes: Array<{ tenantId: string; tokenSha256: string }>;
}

/** Hex SHA-256 of a token (what doctor compares). */
export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function registerDiagnostics(app: FastifyInstance, dependencies: { adminToken: string; heldGatewayTokens: () => Map<string, string> }): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("onRequest", async function authenticateAdmin(request) {
      const presented = credentialFromHeaders(request.headers, { allowApiKeyHeader: false });
      if (presented === null) throw new ClawfleetError("CF_AUTH_MISSING", "missing credentials: send Authorization: Bearer <admin token>");
      if (!secretsEqual(presented, dependencies.adminToken)) throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid admin token");
    });
    scope.get("/admin/v1/diagnostics/runtime-tokens", async (): Promise<RuntimeTokenDigests> => ({
      runtimes: [...dependencies.heldGatewayTokens()].map(([tenantId, token]) => ({ tenantId, tokenSha256: tokenDigest(token) })),
    }));
  });
}
