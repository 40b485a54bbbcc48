/**
 * The hot path of one model call through `/v1/chat/completions`. This file decides the order of the chain:
 *
 *   request id (Fastify) → authenticate virtual key → runtime channel binding → tenant from snapshot →
 *   input validation → route → provider call → stream back
 *
 * (Limits, budgets, tool policy, cache, usage and audit slot into this order in later steps; see DESIGN.md.)
 * Everything here reads the in-memory snapshot; nothing queries the database.
 */
import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { authenticateKey, credentialFromHeaders, type KeyUsageRecorder } from "../auth/authenticate.js";
import { ClawfleetError } from "../contracts/errors.js";
import type { ProviderAdapter } from "../contracts/provider.js";
import type { ApiKeyRecord, TenantRecord } from "../contracts/store.js";
import type { SnapshotPublisher } from "../control/snapshot.js";
import { channelTenantOf } from "./model-channels.js";
import type { ModelRouter } from "./router.js";

export interface ModelGatewayDependencies {
  snapshots: SnapshotPublisher;
  router: ModelRouter;
  providers: ReadonlyMap<string, ProviderAdapter>;
  keyUsage: KeyUsageRecorder;
  now: () => number;
}

/** Who is calling: the key, its tenant, and the runtime channel the connection came through (if any). */
export interface ModelCaller {
  key: ApiKeyRecord;
  tenant: TenantRecord;
  channelTenantId: string | null;
}

/**
 * Authenticates a model-gateway request and checks that a runtime's virtual key is used only through that
 * runtime's own channel, and that a runtime channel carries only its runtime's key.
 * @throws ClawfleetError CF_AUTH_* (see `authenticateKey`), CF_FORBIDDEN_CHANNEL.
 */
export function authenticateModelCaller(request: FastifyRequest, dependencies: ModelGatewayDependencies): ModelCaller {
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

/** Parses and minimally validates a Chat Completions body (the provider validates the rest). */
function parseChatRequest(rawBody: unknown): Record<string, unknown> {
  if (!Buffer.isBuffer(rawBody) || rawBody.length === 0) throw new ClawfleetError("CF_INVALID_JSON", "request body must be a JSON object");
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString("utf8"));
  } catch {
    throw new ClawfleetError("CF_INVALID_JSON", "request body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ClawfleetError("CF_INVALID_JSON", "request body must be a JSON object");
  const record = body as Record<string, unknown>;
  if (typeof record.model !== "string" || record.model.length === 0) {
    throw new ClawfleetError("CF_VALIDATION_FAILED", "`model` is required and must be a string", { details: { param: "model" } });
  }
  if (!Array.isArray(record.messages) || record.messages.length === 0) {
    throw new ClawfleetError("CF_VALIDATION_FAILED", "`messages` is required and must be a non-empty array", { details: { param: "messages" } });
  }
  if (record.stream !== undefined && typeof record.stream !== "boolean") {
    throw new ClawfleetError("CF_VALIDATION_FAILED", "`stream` must be a boolean", { details: { param: "stream" } });
  }
  return record;
}

/** Handles `POST /v1/chat/completions`. */
export function createChatCompletionsHandler(dependencies: ModelGatewayDependencies) {
  return async function chatCompletions(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const caller = authenticateModelCaller(request, dependencies);
    request.log = request.log.child({ tenantId: caller.tenant.id, keyId: caller.key.id });
    const body = parseChatRequest(request.body);
    const route = dependencies.router.resolve(body.model as string);
    const provider = dependencies.providers.get(route.providerId);
    if (!provider) throw new ClawfleetError("CF_INTERNAL", `provider ${route.providerId} is not loaded`);
    const stream = body.stream === true;
    if (!route.modelUnchanged) body.model = route.upstreamModel;

    const abort = new AbortController();
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const upstream = await provider.chatCompletions({
      body,
      rawBody: route.modelUnchanged ? (request.body as Buffer) : null,
      stream,
      requestId: request.id,
      signal: abort.signal,
    });
    request.log.info({ provider: provider.id, model: route.upstreamModel, status: upstream.status, stream }, "model call");
    reply.code(upstream.status).headers(upstream.headers);
    if (stream && upstream.status < 300) reply.header("cache-control", "no-cache").header("x-accel-buffering", "no");
    return reply.send(Readable.from(upstream.body, { objectMode: false }));
  };
}

/** Handles `GET /v1/models` (OpenAI list shape). */
export function createListModelsHandler(dependencies: ModelGatewayDependencies) {
  return async function listModels(request: FastifyRequest): Promise<Record<string, unknown>> {
    authenticateModelCaller(request, dependencies);
    return {
      object: "list",
      data: dependencies.router.offeredModels().map((model) => ({ id: model.id, object: "model", created: 0, owned_by: model.ownedBy })),
    };
  };
}
