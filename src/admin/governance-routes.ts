/**
 * Admin API routes of governance (registered by `routes.ts` inside `/admin/v1`): permission profiles, their
 * versions, a tenant's profile, and the audit trail (paged JSON and a streamed NDJSON export).
 *
 * Audit paging: `GET /audit` returns events newest first (`order=desc`, default) or oldest first (`order=asc`),
 * at most `limit` (default 100, max 1000); `nextCursor` is the id of the page's last event when the page is full
 * (pass it as `cursor` for the next page), else null. `GET /audit/export` streams every matching event, oldest
 * first unless `order=desc`, one JSON object per line (`application/x-ndjson`).
 */
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { ClawfleetError } from "../contracts/errors.js";
import type { AuditEvent, AuditLog, PermissionProfile } from "../contracts/governance.js";
import type { AuditQuery, AuditRepository, TenantRecord } from "../contracts/store.js";
import type { ProfileService } from "../governance/profiles/service.js";
import * as schemas from "./schemas.js";

/** What the governance routes need. */
export interface GovernanceAdminDependencies {
  profiles: ProfileService;
  /** Flushed before the trail is read, so events recorded just before are listed. */
  audit: Pick<AuditLog, "flush">;
  auditEvents: AuditRepository;
}

const AUDIT_EVENT_TYPES = ["agent_invocation", "tool_call_allowed", "permission_denied", "approval_requested", "approval_decision", "profile_changed", "injection_detected", "loop_stopped", "key_created", "key_revoked"] as const;

const profileNameParams = z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "profile name must match ^[a-z0-9][a-z0-9-]{0,62}$") }).strict();

const profileView = z.object({
  name: z.string(),
  version: z.number().int().describe("1 for the first stored version; built-in presets are version 0"),
  builtIn: z.boolean().optional(),
  description: z.string(),
  tools: z.object({ allow: z.array(z.string()), deny: z.array(z.string()), approval: z.array(z.string()) }),
  paths: z.object({ roots: z.array(z.string()) }),
  exec: z.object({ allow: z.array(z.string()), deny: z.array(z.string()), defaultAction: z.enum(["allow", "deny", "approval"]) }),
  injection: z.object({ action: z.enum(["audit", "block"]) }),
  updatedBy: z.string().optional(),
  updatedAt: z.string().optional(),
});

const profileBody = z
  .record(z.string(), z.unknown())
  .describe(
    "A permission profile: {name, description?, tools?: {allow, deny, approval}, paths?: {roots}, exec?: {allow, deny, defaultAction: allow|deny|approval}, injection?: {action: audit|block}}. Invalid profiles get CF_PROFILE_INVALID with every problem in details.problems (docs/governance.md).",
  );

const auditEvent = z.object({
  id: z.string().describe("Increasing with every append; the pagination cursor"),
  type: z.enum(AUDIT_EVENT_TYPES),
  tenantId: z.string().nullable(),
  actor: z.string(),
  requestId: z.string().nullable(),
  at: z.string(),
  atMs: z.number().int(),
  details: z.record(z.string(), z.unknown()),
});

const time = z
  .string()
  .refine((value) => /^[0-9]{1,15}$/.test(value) || !Number.isNaN(Date.parse(value)), "an RFC 3339 time or epoch milliseconds")
  .transform((value) => (/^[0-9]{1,15}$/.test(value) ? Number(value) : Date.parse(value)));

const auditFilters = {
  tenantId: z.string().min(1).max(63).optional(),
  type: z.enum(AUDIT_EVENT_TYPES).optional(),
  actor: z.string().min(1).max(255).optional(),
  requestId: z.string().min(1).max(128).optional(),
  from: time.optional().describe("Events at or after this time (RFC 3339 or epoch ms)"),
  to: time.optional().describe("Events before this time (RFC 3339 or epoch ms)"),
  cursor: z.string().regex(/^[0-9]{1,15}$/, "cursor: an audit event id").optional().describe("nextCursor of the previous page"),
};

function viewProfile(profile: PermissionProfile & { builtIn?: boolean }): z.infer<typeof profileView> {
  const { updatedAtMs, ...rest } = profile;
  return { ...rest, ...(updatedAtMs === undefined ? {} : { updatedAt: new Date(updatedAtMs).toISOString() }) };
}

function viewEvent(event: AuditEvent): z.infer<typeof auditEvent> {
  return { ...event, at: new Date(event.atMs).toISOString() };
}

function filtersOf(query: { tenantId?: string; type?: AuditEvent["type"]; actor?: string; requestId?: string; from?: number; to?: number; cursor?: string }): Omit<AuditQuery, "limit" | "order"> {
  return {
    ...(query.tenantId === undefined ? {} : { tenantId: query.tenantId }),
    ...(query.type === undefined ? {} : { type: query.type }),
    ...(query.actor === undefined ? {} : { actor: query.actor }),
    ...(query.requestId === undefined ? {} : { requestId: query.requestId }),
    ...(query.from === undefined ? {} : { fromMs: query.from }),
    ...(query.to === undefined ? {} : { toMs: query.to }),
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
  };
}

/** Events per page of the streamed export. */
const EXPORT_PAGE = 500;

/**
 * Registers the governance routes on the admin scope. `viewTenant` renders a tenant like `GET /tenants/{id}`.
 * Changes made here are attributed to the actor `admin`.
 */
export function registerGovernanceRoutes(scope: FastifyInstance, dependencies: GovernanceAdminDependencies, viewTenant: (tenant: TenantRecord) => Promise<z.infer<typeof schemas.tenantView>>): void {
  const api = scope.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: schemas.errorResponse, 401: schemas.errorResponse, 404: schemas.errorResponse, 409: schemas.errorResponse };
  const { profiles } = dependencies;

  api.get("/profiles", { schema: { summary: "List permission profiles: built-in presets, then stored profiles", response: { 200: z.object({ profiles: z.array(profileView) }) } } }, async () => ({
    profiles: (await profiles.list()).map(viewProfile),
  }));

  api.post(
    "/profiles",
    { schema: { summary: "Create a permission profile (version 1)", body: profileBody, response: { 201: profileView, ...errors } } },
    async (request, reply) => reply.code(201).send(viewProfile(await profiles.create(request.body, "admin"))),
  );

  api.get("/profiles/:name", { schema: { summary: "Show a permission profile (preset or stored)", params: profileNameParams, response: { 200: profileView, ...errors } } }, async (request) =>
    viewProfile(await profiles.get(request.params.name)),
  );

  api.put(
    "/profiles/:name",
    {
      schema: {
        summary: "Replace a stored profile with a new version (409 CF_PROFILE_CONFLICT when expectedVersion is stale)",
        params: profileNameParams,
        querystring: z.object({ expectedVersion: z.coerce.number().int().min(1).optional().describe("The version this change is based on") }).strict(),
        body: profileBody,
        response: { 200: profileView, ...errors },
      },
    },
    async (request) => viewProfile(await profiles.replace(request.params.name, request.body, "admin", request.query.expectedVersion)),
  );

  api.delete(
    "/profiles/:name",
    { schema: { summary: "Delete a stored profile (refused while assigned to tenants; its versions stay)", params: profileNameParams, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await profiles.delete(request.params.name, "admin");
      return reply.code(204).send(null);
    },
  );

  api.get(
    "/profiles/:name/versions",
    { schema: { summary: "Every version of a profile, newest first", params: profileNameParams, response: { 200: z.object({ versions: z.array(profileView) }), ...errors } } },
    async (request) => ({ versions: (await profiles.versions(request.params.name)).map(viewProfile) }),
  );

  api.put(
    "/tenants/:id/profile",
    {
      schema: {
        summary: "Assign a permission profile to a tenant (a running runtime restarts with the new policy)",
        params: schemas.tenantIdParams,
        body: z.object({ profile: profileNameParams.shape.name }).strict(),
        response: { 200: schemas.tenantView, ...errors },
      },
    },
    async (request) => viewTenant(await profiles.assign(request.params.id, request.body.profile, "admin")),
  );

  api.get(
    "/audit",
    {
      schema: {
        summary: "Audit events, newest first (order=desc, default) or oldest first (order=asc); page with nextCursor",
        querystring: z.object({ ...auditFilters, limit: z.coerce.number().int().min(1).max(1000).default(100), order: z.enum(["desc", "asc"]).default("desc") }).strict(),
        response: { 200: z.object({ events: z.array(auditEvent), nextCursor: z.string().nullable() }), ...errors },
      },
    },
    async (request) => {
      await dependencies.audit.flush();
      const events = await dependencies.auditEvents.list({ ...filtersOf(request.query), limit: request.query.limit, order: request.query.order });
      return { events: events.map(viewEvent), nextCursor: events.length === request.query.limit ? (events[events.length - 1]?.id ?? null) : null };
    },
  );

  api.get(
    "/audit/export",
    {
      schema: {
        summary: "Every matching audit event as NDJSON (application/x-ndjson), streamed; oldest first unless order=desc",
        querystring: z.object({ ...auditFilters, order: z.enum(["asc", "desc"]).default("asc") }).strict(),
      },
    },
    async (request, reply) => {
      await dependencies.audit.flush();
      const filters = filtersOf(request.query);
      const order = request.query.order;
      // The first page is read before answering, so a bad filter still gets a proper error status.
      const first = await dependencies.auditEvents.list({ ...filters, limit: EXPORT_PAGE, order });
      async function* lines(): AsyncGenerator<string> {
        let page = first;
        for (;;) {
          if (page.length > 0) yield page.map((event) => `${JSON.stringify(viewEvent(event))}\n`).join("");
          if (page.length < EXPORT_PAGE) return;
          const cursor = page[page.length - 1]?.id;
          if (cursor === undefined) return;
          try {
            page = await dependencies.auditEvents.list({ ...filters, cursor, limit: EXPORT_PAGE, order });
          } catch (error) {
            request.log.error({ err: error }, "audit export failed mid-stream");
            throw new ClawfleetError("CF_INTERNAL", "audit export failed");
          }
        }
      }
      return reply.type("application/x-ndjson; charset=utf-8").send(Readable.from(lines()));
    },
  );
}
