/**
 * Which path a request to `/t/{tenant}/…` has on the tenant's runtime: the one mapping between the ingress's URL
 * space and OpenClaw's.
 *
 * Every runtime is configured with `gateway.controlUi.basePath: "/t/{tenant}"` ({@link tenantPathPrefix}), so
 * OpenClaw serves its Control UI / WebChat (pages, `/assets/…`, `control-ui-config.json`, avatars, plugin UI
 * assets, media) under the very prefix the browser sees, and builds every URL it hands the browser with it.
 * OpenClaw's HTTP APIs do not move with the base path (OpenClaw 2026.9.6 `server-start`, its HTTP request stages;
 * docs/web/control-ui.md): those are {@link RUNTIME_ROOT_PATHS}. Hence:
 *
 * - a path whose first segment after `/t/{tenant}` is one of {@link RUNTIME_ROOT_PATHS} goes to the runtime
 *   without the prefix (`/t/acme/v1/chat/completions` → `/v1/chat/completions`);
 * - every other path goes as it is, prefix kept (`/t/acme/chat/main` → `/t/acme/chat/main`): Control UI.
 *
 * Paths are normalized first the way OpenClaw reads them (WHATWG URL: dot segments, `%2e`, backslashes), so the
 * path the runtime routes on is the path this mapping decided on; a path that normalizes out of the tenant's
 * prefix is refused. Root-level OpenClaw routes outside the list (`/tools/invoke`, `/__openclaw__/cap/…`,
 * `/__openclaw__/worker…`, `/oauth/…`, plugin routes) are therefore unreachable through the ingress: they arrive
 * with the prefix, where only the Control UI answers.
 */

/** First path segments OpenClaw serves at its root whatever its Control UI base path is (see module doc). */
export const RUNTIME_ROOT_PATHS: readonly string[] = Object.freeze([
  "/v1", // OpenAI-compatible API (chat completions, responses, models, embeddings)
  "/api", // artifact downloads, chat media, node watch (OpenClaw also accepts the first two under the base path)
  "/sessions", // /sessions/{key}/history and /kill
  "/hooks", // webhooks (`hooks.basePath`, default `/hooks`; off unless the tenant enables them)
  "/health",
  "/healthz",
  "/ready",
  "/readyz",
  "/startup",
  "/startupz",
]);

/** Base of the WHATWG parse; never sent anywhere. */
const PARSE_BASE = "http://ingress.invalid";

/** `/t/{tenantId}`: the tenant's URL prefix on the ingress, and its runtime's `gateway.controlUi.basePath`. */
export function tenantPathPrefix(tenantId: string): string {
  return `/t/${tenantId}`;
}

/** Where one ingress request goes on the runtime. */
export interface RuntimeTarget {
  /** Path and query to send to the runtime (normalized). */
  path: string;
  /** The path after `/t/{tenant}` (no query), as the caller addressed it, normalized: `/`, `/v1/models`, … */
  tenantPath: string;
  /** `root`: one of {@link RUNTIME_ROOT_PATHS}, prefix stripped; `control-ui`: prefix kept. */
  kind: "root" | "control-ui";
}

/** True when `tenantPath` (after the prefix, no query) lies in one of {@link RUNTIME_ROOT_PATHS}. */
export function isRuntimeRootPath(tenantPath: string): boolean {
  return RUNTIME_ROOT_PATHS.some((root) => tenantPath === root || tenantPath.startsWith(`${root}/`));
}

/**
 * Maps a request URL (`request.raw.url`, e.g. `/t/acme/v1/models?x=1`) of tenant `tenantId` to its runtime path.
 * Returns null when the normalized path is not under `/t/{tenantId}` (e.g. `/t/acme/../admin`): such a request
 * must not be forwarded.
 */
export function runtimeTarget(url: string, tenantId: string): RuntimeTarget | null {
  let parsed: URL;
  try {
    parsed = new URL(url, PARSE_BASE);
  } catch {
    return null;
  }
  if (parsed.origin !== PARSE_BASE) return null;
  const prefix = tenantPathPrefix(tenantId);
  const pathname = parsed.pathname;
  if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) return null;
  const tenantPath = pathname.slice(prefix.length) || "/";
  if (isRuntimeRootPath(tenantPath)) return { path: `${tenantPath}${parsed.search}`, tenantPath, kind: "root" };
  return { path: `${pathname}${parsed.search}`, tenantPath, kind: "control-ui" };
}
