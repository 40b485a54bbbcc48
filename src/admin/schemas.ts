/** Request and response schemas of the admin API (`/admin/v1`); the OpenAPI document is generated from them. */
import { z } from "zod";
import { TENANT_ID_PATTERN } from "../control/tenants.js";

export const tenantIdParams = z.object({ id: z.string().regex(TENANT_ID_PATTERN, "tenant id must match ^[a-z0-9][a-z0-9-]{0,62}$") }).strict();
export const keyParams = tenantIdParams.extend({ keyId: z.string().regex(/^[0-9a-f]{12}$/, "key id: 12 hex characters") }).strict();

const settings = z.record(z.string(), z.unknown()).describe("The tenant's own operational OpenClaw settings (platform-managed keys always win)");

export const createTenantBody = z
  .object({
    id: z.string().regex(TENANT_ID_PATTERN, "tenant id must match ^[a-z0-9][a-z0-9-]{0,62}$"),
    profile: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional(),
    settings: settings.optional(),
  })
  .strict();

export const scopeSchema = z.enum(["chat", "model"]);

export const createKeyBody = z
  .object({
    scopes: z.array(scopeSchema).min(1).describe("chat: the ingress /t/{tenant}/…; model: the model gateway /v1/… as a virtual key"),
    expiresAt: z.iso.datetime({ offset: true }).optional().describe("RFC 3339 time after which the key stops working"),
  })
  .strict();

export const updateSettingsBody = z.object({ settings }).strict();

export const logsQuery = z.object({ lines: z.coerce.number().int().min(1).max(10_000).default(200) }).strict();

export const runtimeStatus = z.object({
  state: z.enum(["stopped", "starting", "ready", "stopping", "backoff", "failed"]),
  since: z.string(),
  restarts: z.number().int(),
  lastError: z.string().nullable(),
  pid: z.number().int().nullable(),
  inFlight: z.number().int(),
  lastActivityAt: z.string().nullable(),
  sandboxed: z.boolean(),
});

export const tenantView = z.object({
  id: z.string(),
  profile: z.string(),
  settings,
  createdAt: z.string(),
  runtime: runtimeStatus,
});

export const keySummary = z.object({
  id: z.string(),
  kind: z.enum(["tenant", "runtime"]),
  scopes: z.array(z.enum(["chat", "model", "admin"])),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});

export const errorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string(), details: z.unknown().optional() }),
});

export const requestRecord = z.object({
  id: z.string(),
  requestId: z.string(),
  tenantId: z.string(),
  keyId: z.string(),
  api: z.string(),
  requestedModel: z.string(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  status: z.number().int(),
  stream: z.boolean(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  reasoningTokens: z.number().int(),
  costUsdMicros: z.number().int().describe("Cost in millionths of a US dollar"),
  overheadMs: z.number().describe("Time inside Clawfleet, excluding the upstream"),
  durationMs: z.number(),
  attempts: z.number().int(),
  errorCode: z.string().nullable(),
  upstreamRequestId: z.string().nullable().describe("The provider's own id for the call (OpenAI x-request-id, Anthropic request-id, Bedrock request id)"),
  createdAtMs: z.number().int(),
  createdAt: z.string(),
});
