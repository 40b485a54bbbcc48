/**
 * Admin API of the approval inbox (`/admin/v1`, admin token): list and show permission requests, decide them
 * (structured decisions only), list and revoke grants. Registered inside the admin scope by `routes.ts`.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApprovalRepository, GrantRecord, NotificationRecord, PermissionRequestRecord } from "../contracts/approvals.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { ApprovalInbox } from "../governance/approvals/inbox.js";
import { MAX_GRANT_DURATION_MS, MAX_REASON_LENGTH } from "../governance/approvals/inbox.js";
import { MAX_PATTERN_LENGTH } from "../governance/approvals/matching.js";

export interface ApprovalAdminDependencies {
  inbox: ApprovalInbox;
  repository: ApprovalRepository;
  now: () => number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const idParams = z.object({ id: z.string().regex(/^[a-z]{3}_[0-9a-f]{22}$/, "an id such as apr_0190f3c2a1b2c3d4e5f6a7") }).strict();
const errorResponse = z.object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string(), details: z.unknown().optional() }) });
const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse, 501: errorResponse };

const notificationView = z.object({ channel: z.string(), attempts: z.number().int(), deliveredAt: z.string().nullable(), nextAttemptAt: z.string().nullable(), lastError: z.string().nullable() });

const requestView = z.object({
  id: z.string(),
  tenantId: z.string(),
  sessionId: z.string(),
  requestId: z.string(),
  source: z.enum(["gateway", "openclaw-exec"]),
  toolCallId: z.string().nullable(),
  tool: z.string(),
  arguments: z.unknown(),
  argumentsHash: z.string().describe("SHA-256 of the canonical JSON of the arguments (sorted keys)"),
  risk: z.enum(["low", "medium", "high", "critical"]),
  reason: z.string(),
  status: z.enum(["pending", "approved", "rejected", "expired"]),
  createdAt: z.string(),
  deadlineAt: z.string(),
  decidedAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decision: z.string().nullable(),
  decisionReason: z.string().nullable(),
  runtimeApprovalId: z.string().nullable(),
  runtimeResolvedAt: z.string().nullable(),
  notifications: z.array(notificationView).optional(),
});

const grantView = z.object({
  id: z.string(),
  tenantId: z.string(),
  tool: z.string(),
  argumentsHash: z.string().nullable(),
  argumentsPattern: z.string().nullable(),
  sessionId: z.string().nullable(),
  expiresAt: z.string().nullable(),
  maxUses: z.number().int().nullable(),
  uses: z.number().int(),
  createdBy: z.string(),
  createdAt: z.string(),
  permissionRequestId: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

function viewRequest(request: PermissionRequestRecord, notifications?: NotificationRecord[]): z.infer<typeof requestView> {
  return {
    id: request.id,
    tenantId: request.tenantId,
    sessionId: request.sessionId,
    requestId: request.requestId,
    source: request.source,
    toolCallId: request.toolCallId,
    tool: request.tool,
    arguments: request.arguments,
    argumentsHash: request.argumentsHash,
    risk: request.risk,
    reason: request.reason,
    status: request.status,
    createdAt: new Date(request.createdAtMs).toISOString(),
    deadlineAt: new Date(request.deadlineAtMs).toISOString(),
    decidedAt: iso(request.decidedAtMs),
    decidedBy: request.decidedBy,
    decision: request.decision,
    decisionReason: request.decisionReason,
    runtimeApprovalId: request.runtimeApprovalId,
    runtimeResolvedAt: iso(request.runtimeResolvedAtMs),
    ...(notifications ? { notifications: notifications.map((item) => ({ channel: item.channel, attempts: item.attempts, deliveredAt: iso(item.deliveredAtMs), nextAttemptAt: iso(item.nextAttemptAtMs), lastError: item.lastError })) } : {}),
  };
}

function viewGrant(grant: GrantRecord): z.infer<typeof grantView> {
  return {
    id: grant.id,
    tenantId: grant.tenantId,
    tool: grant.tool,
    argumentsHash: grant.argumentsHash,
    argumentsPattern: grant.argumentsPattern,
    sessionId: grant.sessionId,
    expiresAt: iso(grant.expiresAtMs),
    maxUses: grant.maxUses,
    uses: grant.uses,
    createdBy: grant.createdBy,
    createdAt: new Date(grant.createdAtMs).toISOString(),
    permissionRequestId: grant.permissionRequestId,
    revokedAt: iso(grant.revokedAtMs),
  };
}

/** The structured decision body; free text is only ever a reason, never an instruction. */
export const decisionBody = z
  .object({
    decision: z.enum(["approve_once", "approve_for", "approve_permanently", "reject"]),
    durationMs: z.number().int().min(1).max(MAX_GRANT_DURATION_MS).optional().describe("approve_for: grant lifetime, at most 24 h"),
    argumentsPattern: z.string().min(1).max(MAX_PATTERN_LENGTH).optional().describe("approve_for: wildcard over the call's subject (command, path, url, else canonical JSON); * and ? never match shell metacharacters"),
    reason: z.string().max(MAX_REASON_LENGTH).optional().describe("Required for reject"),
  })
  .strict();

export function registerApprovalRoutes(scope: FastifyInstance, dependencies: ApprovalAdminDependencies): void {
  const api = scope.withTypeProvider<ZodTypeProvider>();

  api.get(
    "/approvals",
    {
      schema: {
        summary: "List permission requests, newest first (pending ones by default is ?status=pending)",
        querystring: z
          .object({
            status: z.enum(["pending", "approved", "rejected", "expired"]).optional(),
            tenantId: z.string().max(63).optional(),
            cursor: z.string().regex(/^apr_[0-9a-f]{22}$/).optional().describe("nextCursor of the previous page"),
            limit: z.coerce.number().int().min(1).max(500).default(50),
          })
          .strict(),
        response: { 200: z.object({ approvals: z.array(requestView), nextCursor: z.string().nullable() }), ...errors },
      },
    },
    async (request) => {
      const { status, tenantId, cursor, limit } = request.query;
      const records = await dependencies.repository.listRequests({ limit, ...(status ? { status } : {}), ...(tenantId ? { tenantId } : {}), ...(cursor ? { cursor } : {}) });
      return { approvals: records.map((record) => viewRequest(record)), nextCursor: records.length === limit ? (records.at(-1)?.id ?? null) : null };
    },
  );

  api.get(
    "/approvals/:id",
    { schema: { summary: "Show a permission request with its notification deliveries", params: idParams, response: { 200: requestView, ...errors } } },
    async (request) => {
      const record = await dependencies.repository.getRequest(request.params.id);
      if (!record) throw new ClawfleetError("CF_APPROVAL_NOT_FOUND", `no permission request "${request.params.id}"`);
      return viewRequest(record, await dependencies.repository.listNotifications(record.id));
    },
  );

  api.post(
    "/approvals/:id/decision",
    {
      schema: {
        summary: "Decide a pending permission request: approve once, approve for a time (≤ 24 h), approve permanently (changes the tenant's profile), or reject with a reason",
        params: idParams,
        body: decisionBody,
        response: { 200: requestView, ...errors },
      },
    },
    async (request) => {
      const decided = await dependencies.inbox.decide(request.params.id, request.body, "admin");
      request.log.info({ permissionRequestId: decided.id, decision: decided.decision, tenantId: decided.tenantId }, "permission request decided");
      return viewRequest(decided);
    },
  );

  api.get(
    "/grants",
    {
      schema: {
        summary: "List grants, newest first (?active=true: only usable ones)",
        querystring: z.object({ tenantId: z.string().max(63).optional(), active: z.enum(["true", "false"]).default("false"), limit: z.coerce.number().int().min(1).max(500).default(100) }).strict(),
        response: { 200: z.object({ grants: z.array(grantView) }), ...errors },
      },
    },
    async (request) => {
      const { tenantId, active, limit } = request.query;
      const grants = await dependencies.repository.listGrants({ limit, ...(tenantId ? { tenantId } : {}), ...(active === "true" ? { activeAtMs: dependencies.now() } : {}) });
      return { grants: grants.map(viewGrant) };
    },
  );

  api.delete(
    "/grants/:id",
    { schema: { summary: "Revoke a grant", params: idParams, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      if (!(await dependencies.repository.revokeGrant(request.params.id, dependencies.now()))) {
        const grant = await dependencies.repository.getGrant(request.params.id);
        if (!grant) throw new ClawfleetError("CF_GRANT_NOT_FOUND", `no grant "${request.params.id}"`);
      }
      request.log.info({ grantId: request.params.id }, "grant revoked");
      return reply.code(204).send(null);
    },
  );
}
