/**
 * The hot path of one model call, for every client API (`/v1/chat/completions`, `/v1/responses`,
 * `/v1/messages`). This file decides the order of the chain:
 *
 *   request id (Fastify) → authenticate virtual key + runtime channel → tenant from snapshot → parse and
 *   validate (client API codec) → route plan (alias, policy overrides, load balancing) → execute the plan
 *   (retries, fallbacks, circuit breakers, timeouts) with the provider in the same schema passed through
 *   untouched or translated otherwise → stream or send the answer → usage, cost and overhead recorded.
 *
 * Safety checks, admission (rate limits, budgets), the response cache and the tool policy sit at their places in
 * this order. The answers Clawfleet writes itself after `reply.hijack()` are in answers.ts; the call's timer and
 * outcome in call-outcome.ts. Everything here reads in-memory state; the request record is written off the hot path.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { chatStreamIncludesUsage } from "../apis/index.js";
import type { ClientApi } from "../contracts/chat.js";
import type { ClientApiCodec } from "../contracts/client-api.js";
import { ClawfleetError, isClawfleetError } from "../contracts/errors.js";
import type { ProviderAdapter, UpstreamCallResult } from "../contracts/provider.js";
import { CallAbortController } from "../http/call-abort.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import { CACHE_HEADER, OVERHEAD_HEADER, UPSTREAM_REQUEST_ID_HEADER, sendEvents, sendStreamedAnswer, sendWholeAnswer, warningsHeaderValue, WARNINGS_HEADER } from "./answers.js";
import { CallTimer, type CallOutcome } from "./call-outcome.js";
import { authenticateModelCaller, type CallerDependencies, type ModelCaller } from "./caller.js";
import { UsageTap } from "./passthrough-usage.js";
import type { PriceTable } from "./pricing.js";
import { newRecordId } from "./record-ids.js";
import type { RequestRecorder } from "./request-recorder.js";
import { generateAttempt, parseTagsHeader, passthroughAttempt, streamAttempt, type AttemptRecord, type PlannedTarget, type Router } from "./routing/index.js";
import type { Admission, AdmissionControl } from "./limits/admission.js";
import { estimateRequestTokens, tokensForCharacters, usageFromEstimate } from "./limits/estimate.js";
import { sendRefusalCompletion } from "./refusal.js";
import type { ResponseCache } from "./response-cache.js";
import type { SafetyGuard } from "../governance/safety/index.js";
import { auditActor, createToolGuard, filterRequestTools, guardPassthroughBody, guardPassthroughJson, guardResponse, guardStream, passthroughGuardOptions, toolCacheScope, type ToolPolicyDependencies } from "../governance/tool-policy/index.js";

export interface ModelCallDependencies extends CallerDependencies, ToolPolicyDependencies {
  router: Router;
  admission: AdmissionControl;
  cache: ResponseCache;
  providers: ReadonlyMap<string, ProviderAdapter>;
  prices: PriceTable;
  recorder: RequestRecorder;
  metrics: GatewayMetrics;
  /** Input limits, loop guard, prompt-injection scan (src/governance/safety/). */
  safety: SafetyGuard;
  /**
   * Security headers written on answers this handler sends itself after `reply.hijack()` (passed-through and
   * streamed answers skip Fastify's `onSend` hooks): `ownResponseSecurityHeaders` of src/http/security-headers.ts.
   */
  securityHeaders: ReadonlyArray<readonly [string, string]>;
}

/**
 * Longest provider request id kept on a record, characters (the column is `varchar(255)`). Real ids are far
 * shorter (OpenAI `req_` + 32 hex, Anthropic `req_` + 24 characters, AWS a UUID); a longer header from an
 * OpenAI-compatible server is cut, so it can never fail the batch of records it is written in.
 */
const UPSTREAM_REQUEST_ID_MAX_CHARACTERS = 255;

/** Levels at which pino drops `info` lines: the "model call" line's fields are then not even built. */
const INFO_DISABLED_LEVELS: ReadonlySet<string> = new Set(["warn", "error", "fatal", "silent"]);

function parseJsonBody(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new ClawfleetError("CF_INVALID_JSON", "request body must be a JSON object");
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new ClawfleetError("CF_INVALID_JSON", "request body is not valid JSON");
  }
}

/** The caller's body for one target: the exact bytes when the model id stays, else with `model` replaced. */
function passthroughBody(raw: Buffer, body: Record<string, unknown>, target: PlannedTarget): Buffer {
  if (body.model === target.model) return raw;
  return Buffer.from(JSON.stringify({ ...body, model: target.model }));
}

/** Creates the handler of one client API. */
export function createModelCallHandler(codec: ClientApiCodec, dependencies: ModelCallDependencies) {
  const api: ClientApi = codec.api;
  return async function modelCall(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const timer = new CallTimer();
    let caller: ModelCaller | null = null;
    const outcome: CallOutcome = { streamedCharacters: 0, estimatedInputTokens: 0, status: 500, provider: null, model: null, usage: null, attempts: 0, errorCode: null, upstreamRequestId: null };
    let admission: Admission | null = null;
    let codecRequestStream = false;
    let requestedModel = "";
    let stream = false;
    const abort = new CallAbortController();
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) abort.abort(new ClawfleetError("CF_BAD_REQUEST", "the caller closed the connection", { status: 499 }));
    });
    try {
      caller = authenticateModelCaller(request, dependencies);
      const body = parseJsonBody(request.body);
      const decoded = codec.decodeRequest(body);
      // Tool policy on the request: tools the tenant's profile does not permit are not offered (tools.md).
      const profile = dependencies.profiles.forTenant(caller.tenant.id, caller.tenant.profile);
      const offersTools = (decoded.request.tools?.length ?? 0) > 0;
      const canonical = offersTools ? filterRequestTools(decoded.request, profile).request : decoded.request;
      const actor = auditActor(caller.channelTenantId, caller.key.id);
      requestedModel = canonical.model;
      stream = canonical.stream;
      codecRequestStream = stream;
      const safety = dependencies.safety.check(canonical, body, { tenantId: caller.tenant.id, profile: caller.tenant.profile, requestId: request.id, actor });
      if (safety.kind === "stop") {
        outcome.status = 200;
        reply.header(OVERHEAD_HEADER, timer.overheadMs().toFixed(3));
        sendRefusalCompletion(reply, codec, requestedModel || "clawfleet", stream, safety.error);
        return reply;
      }
      if (safety.rewrittenBody) request.body = safety.rewrittenBody;
      const routingRequest = { tags: parseTagsHeader(request.headers["x-clawfleet-tags"]), tenantId: caller.tenant.id, profile: caller.tenant.profile };
      let plan = dependencies.router.plan({ model: canonical.model, ...routingRequest });
      if (!dependencies.admission.idle) {
        const estimate = estimateRequestTokens(canonical);
        outcome.estimatedInputTokens = estimate.inputTokens;
        const first = plan.targets[0] as PlannedTarget;
        admission = await dependencies.admission.admit({
          tenantId: caller.tenant.id,
          keyId: caller.key.id,
          profile: caller.tenant.profile,
          model: plan.routeAlias,
          provider: first.provider,
          estimatedTokens: estimate.inputTokens + estimate.outputTokens,
          estimatedCostMicros: dependencies.prices.costOf(first.provider, first.model, usageFromEstimate(estimate.inputTokens, estimate.outputTokens)).usdMicros,
        });
        for (const [name, value] of Object.entries(admission.headers)) reply.header(name, value);
        if (admission.fallbackRoute) plan = dependencies.router.plan({ model: admission.fallbackRoute, ...routingRequest });
      }
      const cacheMode = dependencies.cache.modeFor(request.headers[CACHE_HEADER], caller.tenant.id, stream);
      const cacheKey = cacheMode === "off" ? null : dependencies.cache.keyFor(api, offersTools ? toolCacheScope(caller.tenant.id, profile) : caller.tenant.id, body);
      if (cacheKey) {
        const cached = await dependencies.cache.get(cacheKey);
        if (cached) {
          outcome.status = cached.status;
          reply.header(CACHE_HEADER, "hit").header(OVERHEAD_HEADER, timer.overheadMs().toFixed(3));
          return reply.code(cached.status).type(cached.contentType).send(cached.body);
        }
        reply.header(CACHE_HEADER, "miss");
      }
      const storeInCache = (answer: { status: number; contentType: string; body: Buffer }) => {
        if (cacheKey) dependencies.cache.set(cacheKey, cacheMode, answer).catch((error: unknown) => request.log.warn({ err: error }, "cache store failed"));
      };
      const rawBody = request.body as Buffer;
      const bodyObject = body as Record<string, unknown>;
      // Same schema on both sides: the caller's bytes go upstream untouched (the first target decides; a
      // fallback to another kind of provider is translated). Only when no tools are offered: then the tool
      // guard on the passed-through answer refuses any tool call; otherwise the canonical path reviews each.
      const firstProvider = dependencies.providers.get(plan.targets[0]?.provider ?? "");
      const passthrough = !offersTools && firstProvider?.nativeApi === api && typeof firstProvider.passthrough === "function" && plan.targets.every((target) => dependencies.providers.get(target.provider)?.nativeApi === api);
      const executeOptions = { requestId: request.id, signal: abort.signal };

      if (passthrough) {
        const result = await timer.upstream(() =>
          dependencies.router.execute(
            plan,
            passthroughAttempt(dependencies.providers, (target) => ({ body: passthroughBody(rawBody, bodyObject, target), stream })),
            executeOptions,
          ),
        );
        noteAnsweredCall(reply, outcome, result);
        const answer = result.result;
        const readUsage = (document: unknown) => {
          const tap = new UsageTap(api);
          tap.feedDocument(document);
          return tap.result();
        };
        const guardOptions = passthroughGuardOptions(dependencies, { codec, model: requestedModel, isStream: answer.kind === "stream", tenantId: caller.tenant.id, actor, requestId: request.id, readUsage });
        if (answer.kind === "whole") {
          sendWholeAnswer(reply, answer, guardPassthroughJson(answer.body, guardOptions), api, timer, outcome, storeInCache, dependencies.securityHeaders);
          return reply;
        }
        return await sendStreamedAnswer(reply, answer, guardPassthroughBody(answer.body, guardOptions), api, timer, outcome, dependencies.securityHeaders);
      }

      const guard = createToolGuard(dependencies, { tenantId: caller.tenant.id, actor, requestId: request.id, profile, sessionHeader: request.headers["x-openclaw-session-key"], request: canonical });
      if (!stream) {
        const result = await timer.upstream(() => dependencies.router.execute(plan, generateAttempt(dependencies.providers, canonical), executeOptions));
        noteAnsweredCall(reply, outcome, result);
        // Tool policy on the answer: refused calls become an assistant message saying why (guard.ts).
        result.result.response = await guardResponse(result.result.response, guard);
        const warnings = [...decoded.warnings, ...result.result.warnings];
        outcome.usage = result.result.response.usage;
        outcome.status = 200;
        if (warnings.length > 0) reply.header(WARNINGS_HEADER, warningsHeaderValue(warnings));
        const encoded = Buffer.from(JSON.stringify(codec.encodeResponse(result.result.response, requestedModel)));
        if (guard.grantedCalls === 0) storeInCache({ status: 200, contentType: "application/json; charset=utf-8", body: encoded });
        reply.header(OVERHEAD_HEADER, timer.overheadMs().toFixed(3));
        return reply.code(200).type("application/json; charset=utf-8").send(encoded);
      }

      const result = await timer.upstream(() => dependencies.router.execute(plan, streamAttempt(dependencies.providers, canonical), executeOptions));
      noteAnsweredCall(reply, outcome, result);
      const warnings = [...decoded.warnings, ...result.result.warnings];
      const includeUsage = api === "openai-chat" ? chatStreamIncludesUsage(body) : true;
      await sendEvents(reply, guardStream(result.result.events, guard), codec.createStreamEncoder(requestedModel, { includeUsage }), warnings, timer, outcome, dependencies.securityHeaders);
      return reply;
    } catch (error) {
      const clawfleetError = isClawfleetError(error) ? error : new ClawfleetError("CF_INTERNAL", "internal error", { cause: error });
      outcome.status = clawfleetError.status;
      outcome.errorCode = clawfleetError.code;
      const details = clawfleetError.details as { attempts?: unknown[]; upstreamRequestId?: unknown } | undefined;
      if (Array.isArray(details?.attempts)) outcome.attempts = details.attempts.length;
      if (outcome.upstreamRequestId === null && typeof details?.upstreamRequestId === "string") {
        // The id from the provider's error answer: on the record, and on this answer when it is still to be sent.
        outcome.upstreamRequestId = details.upstreamRequestId;
        reply.header(UPSTREAM_REQUEST_ID_HEADER, outcome.upstreamRequestId);
      }
      if (!reply.sent && !reply.raw.headersSent) reply.header(OVERHEAD_HEADER, timer.overheadMs().toFixed(3));
      if (reply.raw.headersSent) {
        request.log.warn({ err: error }, "model call failed after the answer started");
        reply.raw.destroy();
        return reply;
      }
      const headers = (clawfleetError.details as { headers?: Record<string, string> } | undefined)?.headers;
      if (headers) for (const [name, value] of Object.entries(headers)) reply.header(name, value);
      // A runtime must not see 429/402: OpenClaw retries 429 for minutes and disables its key for 10 minutes on
      // 402 (FACTS.md). It gets a normal assistant answer that explains the refusal instead.
      if (caller?.channelTenantId && (clawfleetError.code === "CF_RATE_LIMITED" || clawfleetError.code === "CF_BUDGET_EXCEEDED")) {
        outcome.status = 200;
        sendRefusalCompletion(reply, codec, requestedModel || "clawfleet", codecRequestStream, clawfleetError);
        return reply;
      }
      throw error;
    } finally {
      if (outcome.usage === null && outcome.streamedCharacters > 0) {
        // The caller left (or the stream broke) before usage arrived: bill what was produced.
        outcome.usage = usageFromEstimate(outcome.estimatedInputTokens, tokensForCharacters(outcome.streamedCharacters));
      }
      const cost = finishRecord(dependencies, { request, caller, api, requestedModel, stream, timer, outcome });
      if (admission) void admission.settle({ usage: outcome.usage, costMicros: cost });
    }
  };
}

/**
 * Notes the call that answered on the outcome (attempts, provider, model, the provider's id for the call) and puts
 * that id on the reply as `x-clawfleet-upstream-request-id`: Fastify sends it with a translated JSON answer, and
 * `startHijackedAnswer` copies the reply's headers into every answer Clawfleet writes itself.
 */
function noteAnsweredCall(reply: FastifyReply, outcome: CallOutcome, execution: { attempts: readonly AttemptRecord[]; target: PlannedTarget; result: UpstreamCallResult }): void {
  outcome.attempts = execution.attempts.length;
  outcome.provider = execution.target.provider;
  outcome.model = execution.target.model;
  outcome.upstreamRequestId = execution.result.upstreamRequestId ?? null;
  if (outcome.upstreamRequestId !== null) reply.header(UPSTREAM_REQUEST_ID_HEADER, outcome.upstreamRequestId);
}

/** Records the call (metrics, request record, log line); returns its cost in USD micros. */
function finishRecord(
  dependencies: ModelCallDependencies,
  context: { request: FastifyRequest; caller: ModelCaller | null; api: ClientApi; requestedModel: string; stream: boolean; timer: CallTimer; outcome: CallOutcome },
): number {
  const { caller, outcome, timer, api } = context;
  const overheadMs = timer.overheadMs();
  dependencies.metrics.overhead.observe({ api }, overheadMs);
  dependencies.metrics.requests.inc({ api, provider: outcome.provider ?? "none", status: String(outcome.status) });
  if (!caller) return 0;
  const usage = outcome.usage ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  const cost = outcome.provider && outcome.model ? dependencies.prices.costOf(outcome.provider, outcome.model, usage) : { usdMicros: 0, priced: false };
  if (outcome.provider) {
    dependencies.metrics.upstreamDuration.observe({ provider: outcome.provider }, Math.max(0, timer.elapsedMs() - overheadMs));
    dependencies.metrics.tokens.inc({ provider: outcome.provider, kind: "input" }, usage.inputTokens);
    dependencies.metrics.tokens.inc({ provider: outcome.provider, kind: "output" }, usage.outputTokens);
    dependencies.metrics.costUsd.inc({ provider: outcome.provider }, cost.usdMicros / 1e6);
  }
  dependencies.recorder.record({
    // Time-ordered (UUIDv7, RFC 9562 section 5.7): each record's id lands at the right edge of the primary-key index
    // instead of a random page of it, so a batch of records rewrites a few index pages, not one per record.
    id: newRecordId(),
    requestId: context.request.id,
    tenantId: caller.tenant.id,
    keyId: caller.key.id,
    api,
    requestedModel: context.requestedModel,
    provider: outcome.provider,
    model: outcome.model,
    status: outcome.status,
    stream: context.stream,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cacheReadTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    reasoningTokens: usage.reasoningTokens,
    costUsdMicros: cost.usdMicros,
    overheadMs,
    durationMs: timer.elapsedMs(),
    attempts: outcome.attempts,
    errorCode: outcome.errorCode,
    upstreamRequestId: outcome.upstreamRequestId === null ? null : outcome.upstreamRequestId.slice(0, UPSTREAM_REQUEST_ID_MAX_CHARACTERS),
    createdAtMs: dependencies.now(),
  });
  if (!INFO_DISABLED_LEVELS.has(context.request.log.level)) context.request.log.info(
    { tenantId: caller.tenant.id, keyId: caller.key.id, provider: outcome.provider, model: outcome.model, status: outcome.status, stream: context.stream, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costUsdMicros: cost.usdMicros, overheadMs: Number(overheadMs.toFixed(3)), attempts: outcome.attempts },
    "model call",
  );
  return cost.usdMicros;
}
