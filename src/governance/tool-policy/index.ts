/** Tool policy: the pure engine (decide), the request filter, the answer guards and their interim dependencies. */
export { decide, reviewToolCall, riskOf, toolLevelVerdict, type DecisionContext, type ReviewedCall, type ToolCallInput, type ToolLevelVerdict } from "./decide.js";
export { checkCommand, splitCommand, type ExecRules, type ExecVerdict } from "./exec-rules.js";
export { normalizeToolName, unwrapToolCall, MAX_META_DEPTH, type UnwrappedCall } from "./meta-tools.js";
export { canonicalizePath, isInsideRoots, pathsInArguments, type CanonicalPath, type PathContext } from "./paths.js";
export { filterRequestTools, filterSystemPromptTools, type RequestFilterResult } from "./request-filter.js";
export { ToolCallGuard, guardResponse, guardStream, APPROVAL_REQUIRED_CODE, TOOL_DENIED_CODE, type GuardVerdict, type ToolGuardScope } from "./guard.js";
export { guardPassthroughBody, guardPassthroughJson, documentHasToolCall, jsonBodyHasToolCall, type PassthroughGuardOptions } from "./passthrough-guard.js";
export { auditActor, conversationId, createToolGuard, passthroughGuardOptions, toolCacheScope, PASSTHROUGH_REFUSAL_TEXT, type ToolPolicyDependencies } from "./gateway-hooks.js";
