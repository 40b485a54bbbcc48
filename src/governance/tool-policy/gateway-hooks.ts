/**
 * What the model gateway's hot path (src/gateway/model-calls.ts) needs from the tool policy, in one place:
 * the dependencies it takes, the per-call guard, the conversation id and the cache scope.
 */
import { createHash } from "node:crypto";
import { EMPTY_USAGE, type CanonicalRequest, type CanonicalResponse, type CanonicalUsage } from "../../contracts/chat.js";
import type { ClientApiCodec } from "../../contracts/client-api.js";
import type { ApprovalGate, AuditLog, PermissionProfile, ProfileResolver } from "../../contracts/governance.js";
import type { DecisionContext } from "./decide.js";
import { TOOL_DENIED_CODE, ToolCallGuard } from "./guard.js";
import type { PassthroughGuardOptions } from "./passthrough-guard.js";

/** The governance dependencies of the model gateway (built in src/deps.ts). */
export interface ToolPolicyDependencies {
  profiles: ProfileResolver;
  approvals: ApprovalGate;
  audit: AuditLog;
  /** Where a tenant's tool calls run: its runtime's workspace and HOME as the runtime sees them. */
  toolContext: (tenantId: string) => DecisionContext;
}

/** OpenClaw's internal-context user message (FACTS.md): never the conversation's first user message. */
const INTERNAL_CONTEXT_MARKER = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>";

/**
 * The conversation a call belongs to (`ToolCallUnderReview.sessionId`): the `x-openclaw-session-key` header,
 * else the request's `user`, else `sha256:<hex>` of the first user message's text (stable across the model
 * calls of one conversation, since history only grows).
 */
export function conversationId(sessionHeader: string | string[] | undefined, request: CanonicalRequest): string {
  const header = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
  if (header && header.trim().length > 0) return header.trim();
  if (request.user && request.user.length > 0) return request.user;
  const hash = createHash("sha256");
  for (const message of request.messages) {
    if (message.role !== "user") continue;
    const texts = message.content.flatMap((part) => (part.type === "text" ? [part.text] : []));
    if (texts.some((text) => text.includes(INTERNAL_CONTEXT_MARKER))) continue;
    for (const text of texts) hash.update(text).update("\n");
    break;
  }
  return `sha256:${hash.digest("hex")}`;
}

/** The caller's audit actor: `runtime:<tenant>` through a runtime channel, else `key:<keyId>`. */
export function auditActor(channelTenantId: string | null, keyId: string): string {
  return channelTenantId !== null ? `runtime:${channelTenantId}` : `key:${keyId}`;
}

/**
 * The cache scope of a request that offers tools: tenant + profile name and version, so a cached tool call is
 * never replayed under a profile that changed since it was allowed.
 */
export function toolCacheScope(tenantId: string, profile: PermissionProfile): string {
  return `${tenantId}\u0000profile:${profile.name}@${profile.version}`;
}

/** Creates the guard for one model call. */
export function createToolGuard(
  dependencies: ToolPolicyDependencies,
  call: { tenantId: string; actor: string; requestId: string; profile: PermissionProfile; sessionHeader: string | string[] | undefined; request: CanonicalRequest },
): ToolCallGuard {
  let sessionId: string | undefined;
  return new ToolCallGuard(dependencies, {
    tenantId: call.tenantId,
    actor: call.actor,
    requestId: call.requestId,
    profile: call.profile,
    context: dependencies.toolContext(call.tenantId),
    sessionId: () => (sessionId ??= conversationId(call.sessionHeader, call.request)),
  });
}

/** The text a direct caller gets when a passed-through answer (no tools offered) held a tool call anyway. */
export const PASSTHROUGH_REFUSAL_TEXT = `Clawfleet blocked a tool call: this request offered no tools, so no tool call is accepted. The tool was not run. [${TOOL_DENIED_CODE}]`;

/**
 * Options of `guardPassthroughJson` / `guardPassthroughBody` for one passed-through answer: the refusal in the
 * caller's API (a JSON answer, or a stream error event), and an audit event when it trips.
 */
export function passthroughGuardOptions(
  dependencies: Pick<ToolPolicyDependencies, "audit">,
  call: { codec: ClientApiCodec; model: string; isStream: boolean; tenantId: string; actor: string; requestId: string; readUsage: (document: unknown) => CanonicalUsage | null },
): PassthroughGuardOptions {
  return {
    api: call.codec.api,
    isStream: call.isStream,
    readUsage: call.readUsage,
    refusalBody: (usage: CanonicalUsage | null): Buffer => {
      const response: CanonicalResponse = { id: `clawfleet-refusal-${call.requestId}`, model: call.model, content: [{ type: "text", text: PASSTHROUGH_REFUSAL_TEXT }], finishReason: "stop", usage: usage ?? EMPTY_USAGE, createdAt: Math.floor(Date.now() / 1000) };
      return Buffer.from(JSON.stringify(call.codec.encodeResponse(response, call.model)));
    },
    refusalEvent: (): string => call.codec.createStreamEncoder(call.model, { includeUsage: false }).encode({ type: "error", status: 403, message: PASSTHROUGH_REFUSAL_TEXT, errorType: "permission_error" }),
    onTrip: (): void => {
      dependencies.audit.record({ type: "permission_denied", tenantId: call.tenantId, actor: call.actor, requestId: call.requestId, details: { tool: "unknown", reason: "no_tools_offered", message: "a passed-through answer held a tool call although the request offered no tools" } });
    },
  };
}
