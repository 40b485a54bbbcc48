/**
 * The one error type of Clawfleet and its stable code catalog.
 *
 * Every failure the platform reports to a caller is a {@link ClawfleetError} with a code from
 * {@link ERROR_CATALOG}. The code decides the HTTP status and whether a retry can help; the mapping to
 * HTTP bodies (OpenAI shape on OpenAI paths, Clawfleet shape elsewhere) happens in exactly one place,
 * `src/http/error-mapping.ts`. Codes are public contract: never rename one, only add.
 * Model: fastify `lib/errors.js`, vercel/ai `APICallError.isRetryable`.
 */

/** Stable error codes, their HTTP status (RFC 9110) and whether retrying the same request can succeed. */
export const ERROR_CATALOG = {
  CF_BAD_REQUEST: { status: 400, retryable: false, type: "invalid_request_error" },
  CF_INVALID_JSON: { status: 400, retryable: false, type: "invalid_request_error" },
  CF_VALIDATION_FAILED: { status: 400, retryable: false, type: "invalid_request_error" },
  CF_AUTH_MISSING: { status: 401, retryable: false, type: "authentication_error" },
  CF_AUTH_INVALID_TOKEN: { status: 401, retryable: false, type: "authentication_error" },
  CF_AUTH_KEY_EXPIRED: { status: 401, retryable: false, type: "authentication_error" },
  CF_AUTH_KEY_REVOKED: { status: 401, retryable: false, type: "authentication_error" },
  CF_BUDGET_EXCEEDED: { status: 402, retryable: false, type: "insufficient_quota" },
  CF_FORBIDDEN_TENANT: { status: 403, retryable: false, type: "permission_error" },
  CF_FORBIDDEN_SCOPE: { status: 403, retryable: false, type: "permission_error" },
  CF_FORBIDDEN_CHANNEL: { status: 403, retryable: false, type: "permission_error" },
  /** A tool call refused by the tenant's permission profile (carried in refusal texts; see src/governance/tool-policy/). */
  CF_TOOL_DENIED: { status: 403, retryable: false, type: "permission_error" },
  /** A tool call held until a human approves it (refusal texts carry the permission request id). */
  CF_APPROVAL_REQUIRED: { status: 403, retryable: true, type: "permission_error" },
  CF_NOT_FOUND: { status: 404, retryable: false, type: "not_found_error" },
  CF_TENANT_NOT_FOUND: { status: 404, retryable: false, type: "not_found_error" },
  CF_KEY_NOT_FOUND: { status: 404, retryable: false, type: "not_found_error" },
  CF_MODEL_NOT_FOUND: { status: 404, retryable: false, type: "not_found_error" },
  CF_APPROVAL_NOT_FOUND: { status: 404, retryable: false, type: "not_found_error" },
  CF_GRANT_NOT_FOUND: { status: 404, retryable: false, type: "not_found_error" },
  CF_METHOD_NOT_ALLOWED: { status: 405, retryable: false, type: "invalid_request_error" },
  CF_TENANT_EXISTS: { status: 409, retryable: false, type: "conflict_error" },
  /** A decision on a permission request that is no longer pending (decided by someone else, or expired). */
  CF_APPROVAL_ALREADY_DECIDED: { status: 409, retryable: false, type: "conflict_error" },
  CF_PAYLOAD_TOO_LARGE: { status: 413, retryable: false, type: "invalid_request_error" },
  CF_UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, type: "invalid_request_error" },
  CF_RATE_LIMITED: { status: 429, retryable: true, type: "rate_limit_error" },
  /** Too many failed authentications from this source address: every request from it is refused until the lockout ends (`Retry-After`). */
  CF_AUTH_LOCKED_OUT: { status: 429, retryable: true, type: "rate_limit_error" },
  /** A credential was sent in the URL's query string (`?token=`, `?api_key=`…), where proxies and logs keep it. */
  CF_SECRET_IN_QUERY: { status: 400, retryable: false, type: "invalid_request_error" },
  /** A header that must appear once (Authorization, Host, x-api-key…) appeared several times. */
  CF_DUPLICATE_HEADER: { status: 400, retryable: false, type: "invalid_request_error" },
  /** The request's header block is larger than `server.maxHeaderBytes` (Node answers 431 itself). */
  CF_HEADERS_TOO_LARGE: { status: 431, retryable: false, type: "invalid_request_error" },
  CF_INTERNAL: { status: 500, retryable: false, type: "api_error" },
  CF_UPSTREAM_ERROR: { status: 502, retryable: true, type: "api_error" },
  CF_UPSTREAM_UNREACHABLE: { status: 502, retryable: true, type: "api_error" },
  CF_RUNTIME_UNAVAILABLE: { status: 503, retryable: true, type: "api_error" },
  CF_RUNTIME_START_FAILED: { status: 503, retryable: true, type: "api_error" },
  /** The runtime host (`clawfleet runtime-host`, `runtime.process.launcherSocket`) cannot be reached or dropped the connection. */
  CF_RUNTIME_HOST_UNAVAILABLE: { status: 503, retryable: true, type: "api_error" },
  /** The runtime host refused a request: not exactly its own sandbox launch plan, a malformed message, or a runtime that is not ours (`details.reason`). */
  CF_RUNTIME_LAUNCH_REFUSED: { status: 500, retryable: false, type: "api_error" },
  CF_SHUTTING_DOWN: { status: 503, retryable: true, type: "api_error" },
  CF_STATE_UNAVAILABLE: { status: 503, retryable: true, type: "api_error" },
  /** The identity provider (OIDC discovery/JWKS, ALB key endpoint) could not be reached: the request fails closed. */
  CF_AUTH_PROVIDER_UNAVAILABLE: { status: 503, retryable: true, type: "api_error" },
  CF_UPSTREAM_TIMEOUT: { status: 504, retryable: true, type: "api_error" },
  CF_RUNTIME_START_TIMEOUT: { status: 504, retryable: true, type: "api_error" },
  CF_CONFIG_INVALID: { status: 500, retryable: false, type: "api_error" },
  /** A message, the whole request text or a tool call's arguments exceed `governance.inputLimits` (details name which). */
  CF_INPUT_TOO_LARGE: { status: 413, retryable: false, type: "invalid_request_error" },
  /** A tool name breaks OpenAI's function-name rule `^[a-zA-Z0-9_-]{1,64}$`. */
  CF_INVALID_TOOL_NAME: { status: 400, retryable: false, type: "invalid_request_error" },
  /** The loop guard stopped an agent run (sent to callers as an explanatory completion, not as an HTTP error). */
  CF_LOOP_DETECTED: { status: 409, retryable: false, type: "invalid_request_error" },
  /** A tool result or memory write carried a prompt injection and the tenant's profile blocks it. */
  CF_INJECTION_BLOCKED: { status: 400, retryable: false, type: "invalid_request_error" },
  /** A feature whose implementation is not wired in this build (e.g. approve permanently without stored profiles). */
  CF_NOT_IMPLEMENTED: { status: 501, retryable: false, type: "api_error" },
  /** A permission profile failed validation; `details.problems` lists every problem found. */
  CF_PROFILE_INVALID: { status: 400, retryable: false, type: "invalid_request_error" },
  CF_PROFILE_NOT_FOUND: { status: 404, retryable: false, type: "not_found_error" },
  /** The profile changed since the caller read it (`expectedVersion`), or it already exists. */
  CF_PROFILE_CONFLICT: { status: 409, retryable: false, type: "conflict_error" },
  /** The profile is assigned to tenants (`details.tenants`) and cannot be deleted. */
  CF_PROFILE_IN_USE: { status: 409, retryable: false, type: "conflict_error" },
  /** Built-in presets cannot be changed or deleted. */
  CF_PROFILE_READONLY: { status: 409, retryable: false, type: "conflict_error" },
  /** A state-changing browser request without a valid CSRF token or with a foreign Origin. */
  CF_CSRF_REJECTED: { status: 403, retryable: false, type: "permission_error" },
  /** The caller is authenticated but its role does not allow this action. */
  /** A runtime route or WebSocket method the ingress never exposes (direct tool invocation bypasses the model gateway's tool policy). */
  CF_ROUTE_FORBIDDEN: { status: 403, retryable: false, type: "permission_error" },
  CF_FORBIDDEN_ROLE: { status: 403, retryable: false, type: "permission_error" },
  /** Browser login failed (bad state, code exchange refused, no usable identity). */
  CF_LOGIN_FAILED: { status: 401, retryable: false, type: "authentication_error" },
  CF_USER_NOT_FOUND: { status: 404, retryable: false, type: "not_found_error" },
  CF_USER_EXISTS: { status: 409, retryable: false, type: "conflict_error" },
} as const satisfies Record<string, { status: number; retryable: boolean; type: string }>;

/** A stable Clawfleet error code such as `CF_AUTH_INVALID_TOKEN`. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Structured, JSON-serialisable context attached to an error (never secrets). */
export type ErrorDetails = Record<string, unknown>;

/**
 * A failure with a stable code. `status` and `retryable` come from the catalog unless overridden
 * (an upstream's own status, for instance). `details` is returned to the caller, so it must not carry
 * secrets or prompt bodies.
 */
export class ClawfleetError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: ErrorDetails | undefined;
  /** Seconds a caller should wait before retrying (sent as `Retry-After`), when known. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: ErrorDetails; status?: number; cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ClawfleetError";
    this.code = code;
    this.status = options.status ?? ERROR_CATALOG[code].status;
    this.retryable = ERROR_CATALOG[code].retryable;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** True when `value` is a {@link ClawfleetError} (also across module copies, by shape). */
export function isClawfleetError(value: unknown): value is ClawfleetError {
  return value instanceof ClawfleetError;
}
