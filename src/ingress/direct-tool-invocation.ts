/**
 * OpenClaw lets an operator invoke one tool directly, without a model turn: HTTP `POST /tools/invoke` and the
 * WebSocket method `tools.invoke` (both need only `operator.write`; OpenClaw 2026.9.6
 * docs/gateway/tools-invoke-http-api.md and docs/gateway/protocol/operator-methods.md). Such a call never passes the
 * model gateway, so the profile's hard enforcement (approvals, argument rules, exec rules) would not see it. The
 * ingress therefore never forwards either; tools run only when a model asks for them through the gateway.
 */
import type { RawData } from "ws";

const DIRECT_TOOL_PATH = "/tools/invoke";
const DIRECT_TOOL_METHOD = "tools.invoke";
/** OpenClaw's capability-scoped URL prefix, `/__openclaw__/cap/<capability>` (lowercased, as compared here). */
const CAPABILITY_SCOPED_PREFIX = /^\/__openclaw__\/cap\/[^/]+(?=\/)/;
/** Decoding rounds for percent-encoded paths (`%252F` → `%2F` → `/`). */
const MAX_DECODE_ROUNDS = 4;

/**
 * True when a runtime path (after `/t/{tenant}`, query included) names the direct tool endpoint, however it is
 * spelled: percent-encoding (also nested), case, repeated or trailing slashes, dot segments, backslashes, and
 * OpenClaw's capability-scoped form `/__openclaw__/cap/<capability>/tools/invoke`.
 */
export function isDirectToolPath(runtimePath: string): boolean {
  let path = runtimePath.split("?")[0] ?? "/";
  for (let round = 0; round < MAX_DECODE_ROUNDS; round += 1) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      break;
    }
    if (decoded === path) break;
    path = decoded;
  }
  path = path.replace(/\\/g, "/").replace(/\/{2,}/g, "/").toLowerCase();
  let normalized: string;
  try {
    normalized = new URL(path.startsWith("/") ? path : `/${path}`, "http://runtime.invalid").pathname;
  } catch {
    return true;
  }
  normalized = normalized.replace(/\/+$/, "");
  // OpenClaw rewrites `/__openclaw__/cap/<capability>/<path>` to `<path>` before routing (plugin node
  // capabilities, 2026.9.6 `normalizePluginNodeCapabilityScopedUrl`), so `/__openclaw__/cap/x/tools/invoke` is
  // the direct tool endpoint too.
  while (CAPABILITY_SCOPED_PREFIX.test(normalized)) normalized = normalized.replace(CAPABILITY_SCOPED_PREFIX, "");
  return normalized === DIRECT_TOOL_PATH || normalized.startsWith(`${DIRECT_TOOL_PATH}/`);
}

/**
 * For a caller's WebSocket frame: the request id when the frame is a `tools.invoke` request (to be refused), else
 * null. Every frame is parsed (JSON escapes such as `tools\u002einvoke` defeat a substring test); frames that are
 * not JSON objects are not requests and pass.
 */
export function directToolInvocationId(data: RawData, isBinary: boolean): string | null {
  const text = isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString();
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return null;
  const request = frame as { method?: unknown; id?: unknown };
  if (typeof request.method !== "string" || request.method.trim().toLowerCase() !== DIRECT_TOOL_METHOD) return null;
  return typeof request.id === "string" ? request.id : String(request.id ?? "");
}

/** The error response frame a refused `tools.invoke` request gets (OpenClaw's `res` frame shape). */
export function directToolRefusalFrame(id: string): string {
  return JSON.stringify({
    type: "res",
    id,
    ok: false,
    error: { code: "CF_ROUTE_FORBIDDEN", message: "tools.invoke is not available through Clawfleet: tools run only when a model calls them through the model gateway, where the tenant's permission profile is enforced" },
  });
}
