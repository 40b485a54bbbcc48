/**
 * The admin API under `/admin/v1`, authenticated by the bootstrap admin token (`Authorization: Bearer …`).
 * Tenants, keys and runtimes; its OpenAPI document is served at `/admin/v1/openapi.json`.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import fastifySwagger from "@fastify/swagger";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { credentialFromHeaders } from "../auth/authenticate.js";
import { secretsEqual } from "../auth/api-keys.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { RequestRepository, TenantRecord } from "../contracts/store.js";
import type { TenantService } from "../control/tenants.js";
import type { RuntimeManager } from "../runtime/manager.js";
import type { RuntimeOwnership } from "../runtime/ownership.js";
import type { RuntimeClientPool } from "../ingress/upstream-pool.js";
import * as schemas from "./schemas.js";
import { reportCsv, reportRecord } from "./usage-report.js";
import { registerApprovalRoutes, type ApprovalAdminDependencies } from "./approval-routes.js";
import { registerGovernanceRoutes, type GovernanceAdminDependencies } from "./governance-routes.js";

export interface AdminDependencies {
  adminToken: string;
  /** Decides which replica runs a tenant's runtime. */
  ownership: RuntimeOwnership;
  requests: RequestRepository;
  /** Writes buffered request records before they are listed. */
  flushRequests: () => Promise<void>;
  tenants: TenantService;
  runtimes: RuntimeManager;
  clients: RuntimeClientPool;
  sandboxed: boolean;
  version: string;
  /** The approval inbox (permission requests and grants); its routes are absent without it. */
  approvals?: ApprovalAdminDependencies;
  /** Permission profiles and the audit trail (routes registered when present). */
  governance?: GovernanceAdminDependencies;
  /** Authorizes a request (admin token or a user's platform roles, `src/auth/setup.ts`); default: the admin token only. */
  authorizeRequest?: (request: FastifyRequest) => Promise<void>;
  /** Registers more admin routes in the same scope (same authentication, validation and OpenAPI document). */
  extraRoutes?: Array<(scope: FastifyInstance) => void>;
}

const errorResponses = { 400: schemas.errorResponse, 401: schemas.errorResponse, 404: schemas.errorResponse, 409: schemas.errorResponse };

export async function registerAdminApi(app: FastifyInstance, dependencies: AdminDependencies): Promise<void> {
  await app.register(
    async (scope) => {
      scope.setValidatorCompiler(validatorCompiler);
      scope.setSerializerCompiler(serializerCompiler);
      await scope.register(fastifySwagger, {
        openapi: {
          openapi: "3.1.0",
          info: { title: "Clawfleet admin API", version: dependencies.version, description: "Tenants, keys and runtimes. Bearer admin token." },
          components: { securitySchemes: { adminToken: { type: "http", scheme: "bearer" } } },
          security: [{ adminToken: [] }],
        },
        transform: jsonSchemaTransform,
      });
      scope.addHook("onRequest", async function authenticateAdmin(request) {
        if (request.url.split("?")[0] === "/admin/v1/openapi.json") return;
        if (dependencies.authorizeRequest) return dependencies.authorizeRequest(request);
        const presented = credentialFromHeaders(request.headers, { allowApiKeyHeader: false });
        if (presented === null) throw new ClawfleetError("CF_AUTH_MISSING", "missing credentials: send Authorization: Bearer <admin token>");
        if (!secretsEqual(presented, dependencies.adminToken)) throw new ClawfleetError("CF_AUTH_INVALID_TOKEN", "invalid admin token");
      });
      const api = scope.withTypeProvider<ZodTypeProvider>();

      const viewTenant = async (tenant: TenantRecord) => ({
        id: tenant.id,
        profile: tenant.profile,
        settings: tenant.settings,
        createdAt: new Date(tenant.createdAtMs).toISOString(),
        runtime: { ...(await dependencies.runtimes.status(tenant.id)), sandboxed: dependencies.sandboxed },
      });

      api.get("/openapi.json", { schema: { hide: true } }, async () => scope.swagger());
      if (dependencies.approvals) registerApprovalRoutes(scope, dependencies.approvals);
      if (dependencies.governance) registerGovernanceRoutes(scope, dependencies.governance, viewTenant);
      for (const register of dependencies.extraRoutes ?? []) register(scope);

      api.post(
        "/tenants",
        {
          schema: {
            summary: "Create a tenant; its API key is returned once",
            body: schemas.createTenantBody,
            response: { 201: z.object({ id: z.string(), profile: z.string(), apiKey: z.string(), keyId: z.string() }), ...errorResponses },
          },
        },
        async (request, reply) => {
          const created = await dependencies.tenants.createTenant(request.body);
          request.log.info({ tenantId: created.tenant.id, keyId: created.keyId }, "tenant created");
          return reply.code(201).send({ id: created.tenant.id, profile: created.tenant.profile, apiKey: created.key, keyId: created.keyId });
        },
      );

      api.get("/tenants", { schema: { summary: "List tenants", response: { 200: z.object({ tenants: z.array(schemas.tenantView) }) } } }, async () => ({
        tenants: await Promise.all((await dependencies.tenants.listTenants()).map(viewTenant)),
      }));

      api.get(
        "/tenants/:id",
        { schema: { summary: "Show a tenant and its runtime's state", params: schemas.tenantIdParams, response: { 200: schemas.tenantView, ...errorResponses } } },
        async (request) => viewTenant(await dependencies.tenants.getTenant(request.params.id)),
      );

      api.delete(
        "/tenants/:id",
        { schema: { summary: "Delete a tenant, its keys and its runtime's files", params: schemas.tenantIdParams, response: { 204: z.null(), ...errorResponses } } },
        async (request, reply) => {
          await dependencies.tenants.getTenant(request.params.id);
          await dependencies.runtimes.destroy(request.params.id);
          await dependencies.clients.drop(request.params.id);
          await dependencies.tenants.deleteTenant(request.params.id);
          request.log.info({ tenantId: request.params.id }, "tenant deleted");
          return reply.code(204).send(null);
        },
      );

      api.put(
        "/tenants/:id/settings",
        {
          schema: {
            summary: "Replace the tenant's operational OpenClaw settings (applied at the runtime's next start)",
            params: schemas.tenantIdParams,
            body: schemas.updateSettingsBody,
            response: { 200: schemas.tenantView, ...errorResponses },
          },
        },
        async (request) => viewTenant(await dependencies.tenants.updateSettings(request.params.id, request.body.settings)),
      );

      api.post(
        "/tenants/:id/keys",
        {
          schema: {
            summary: "Create an API key (shown once)",
            params: schemas.tenantIdParams,
            body: schemas.createKeyBody,
            response: { 201: schemas.keySummary.extend({ key: z.string() }), ...errorResponses },
          },
        },
        async (request, reply) => {
          const expiresAtMs = request.body.expiresAt ? Date.parse(request.body.expiresAt) : null;
          const created = await dependencies.tenants.createKey(request.params.id, request.body.scopes, expiresAtMs);
          request.log.info({ tenantId: request.params.id, keyId: created.summary.id }, "key created");
          return reply.code(201).send({ ...created.summary, key: created.key });
        },
      );

      api.get(
        "/tenants/:id/keys",
        { schema: { summary: "List a tenant's keys (never the keys themselves)", params: schemas.tenantIdParams, response: { 200: z.object({ keys: z.array(schemas.keySummary) }), ...errorResponses } } },
        async (request) => ({ keys: await dependencies.tenants.listKeys(request.params.id) }),
      );

      api.delete(
        "/tenants/:id/keys/:keyId",
        { schema: { summary: "Revoke a key", params: schemas.keyParams, response: { 204: z.null(), ...errorResponses } } },
        async (request, reply) => {
          await dependencies.tenants.revokeKey(request.params.id, request.params.keyId);
          request.log.info({ tenantId: request.params.id, keyId: request.params.keyId }, "key revoked");
          return reply.code(204).send(null);
        },
      );

      api.get(
        "/tenants/:id/requests",
        {
          schema: {
            summary: "The tenant's latest model calls with usage, cost (USD micros) and overhead, newest first",
            params: schemas.tenantIdParams,
            querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
            response: { 200: z.object({ requests: z.array(schemas.requestRecord) }), ...errorResponses },
          },
        },
        async (request) => {
          await dependencies.tenants.getTenant(request.params.id);
          await dependencies.flushRequests();
          const records = await dependencies.requests.list({ tenantId: request.params.id, limit: request.query.limit });
          return { requests: records.map((record) => ({ ...record, createdAt: new Date(record.createdAtMs).toISOString() })) };
        },
      );

      api.get(
        "/usage",
        {
          schema: {
            summary: "Usage and cost report: request records summed per tenant, key, provider, model and/or UTC day (JSON or CSV)",
            querystring: z
              .object({
                from: z.iso.date().describe("First UTC day, YYYY-MM-DD"),
                to: z.iso.date().describe("Last UTC day, YYYY-MM-DD (inclusive)"),
                tenant: z.string().optional(),
                groupBy: z
                  .string()
                  .default("tenant,day")
                  .transform((value) => value.split(",").map((item) => item.trim()).filter(Boolean))
                  .pipe(z.array(z.enum(["tenant", "key", "provider", "model", "day"])).min(1)),
                format: z.enum(["json", "csv"]).default("json"),
              })
              .strict(),
          },
        },
        async (request, reply) => {
          await dependencies.flushRequests();
          const fromMs = Date.parse(`${request.query.from}T00:00:00Z`);
          const toMs = Date.parse(`${request.query.to}T00:00:00Z`) + 86_400_000;
          if (toMs <= fromMs) throw new ClawfleetError("CF_VALIDATION_FAILED", "`to` must not be before `from`", { details: { param: "to" } });
          const rows = await dependencies.requests.usage({ fromMs, toMs, groupBy: request.query.groupBy, ...(request.query.tenant ? { tenantId: request.query.tenant } : {}) });
          if (request.query.format === "csv") return reply.type("text/csv; charset=utf-8").send(reportCsv(rows, request.query.groupBy));
          return { from: request.query.from, to: request.query.to, groupBy: request.query.groupBy, rows: rows.map((row) => reportRecord(row, request.query.groupBy)) };
        },
      );

      api.get(
        "/tenants/:id/runtime",
        { schema: { summary: "The runtime's state", params: schemas.tenantIdParams, response: { 200: schemas.runtimeStatus, ...errorResponses } } },
        async (request) => {
          await dependencies.tenants.getTenant(request.params.id);
          return { ...(await dependencies.runtimes.status(request.params.id)), sandboxed: dependencies.sandboxed };
        },
      );

      api.post(
        "/tenants/:id/runtime/start",
        {
          schema: {
            summary: "Start the runtime; with ?wait=true, answer when it is ready",
            params: schemas.tenantIdParams,
            querystring: z.object({ wait: z.enum(["true", "false"]).default("false") }).strict(),
            response: { 200: schemas.runtimeStatus, 202: schemas.runtimeStatus, ...errorResponses },
          },
        },
        async (request, reply) => {
          await dependencies.tenants.getTenant(request.params.id);
          const decision = await dependencies.ownership.decide(request.params.id);
          if (decision.kind === "remote") {
            throw new ClawfleetError("CF_RUNTIME_UNAVAILABLE", `this tenant's runtime runs on replica ${decision.ownerUrl}; start or stop it there`, { status: 409, details: { owner: decision.ownerUrl } });
          }
          if (request.query.wait === "true") {
            await dependencies.runtimes.ensureReady(request.params.id);
            return reply.code(200).send({ ...(await dependencies.runtimes.status(request.params.id)), sandboxed: dependencies.sandboxed });
          }
          dependencies.runtimes.start(request.params.id).catch((error: unknown) => request.log.warn({ err: error }, "runtime start failed"));
          return reply.code(202).send({ ...(await dependencies.runtimes.status(request.params.id)), sandboxed: dependencies.sandboxed });
        },
      );

      api.post(
        "/tenants/:id/runtime/stop",
        { schema: { summary: "Stop the runtime gracefully", params: schemas.tenantIdParams, response: { 200: schemas.runtimeStatus, ...errorResponses } } },
        async (request) => {
          await dependencies.tenants.getTenant(request.params.id);
          await dependencies.runtimes.stop(request.params.id);
          await dependencies.clients.drop(request.params.id);
          return { ...(await dependencies.runtimes.status(request.params.id)), sandboxed: dependencies.sandboxed };
        },
      );

      api.get(
        "/tenants/:id/runtime/logs",
        { schema: { summary: "The last lines of the runtime's log (text/plain)", params: schemas.tenantIdParams, querystring: schemas.logsQuery } },
        async (request, reply) => {
          await dependencies.tenants.getTenant(request.params.id);
          return reply.type("text/plain; charset=utf-8").send(await dependencies.runtimes.logs(request.params.id, request.query.lines));
        },
      );
    },
    { prefix: "/admin/v1" },
  );
}
