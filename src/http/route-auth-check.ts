/**
 * The check behind "a non-loopback bind is refused while any route is left without authentication" (issue 5),
 * made over the route table rather than over a list of known prefixes, so routes added later (by any plane,
 * any branch) are covered without being listed here.
 *
 * {@link RouteTable} records every route as Fastify registers it (`onRoute`). {@link unauthenticatedRoutes}
 * then sends each one a request without credentials through `app.inject` (no socket; the probe carries a
 * per-process random marker so it never counts towards lockouts) and expects a refusal (401 or 403). Routes
 * that are public on purpose say so with `config: PUBLIC_ROUTE` (or are listed in {@link PUBLIC_PATHS}).
 */
import { randomBytes } from "node:crypto";
import type { FastifyInstance, RouteOptions } from "fastify";

/** Route `config` marking a route deliberately reachable without credentials (say, a login page). */
export const PUBLIC_ROUTE = Object.freeze({ clawfleetPublic: true });

/** Paths public by design: liveness, readiness, the admin API's OpenAPI document (no data). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/admin/v1/openapi.json"]);

/** Header carrying {@link ROUTE_PROBE_MARKER} on probe requests. */
export const ROUTE_PROBE_HEADER = "x-clawfleet-route-probe";
/** Random per process: a probe cannot be imitated from the network. */
export const ROUTE_PROBE_MARKER = randomBytes(24).toString("base64url");

/** One registered route. */
export interface RecordedRoute {
  method: string;
  url: string;
  public: boolean;
}

/** Records the route table; call {@link RouteTable.attach} before any route is registered. */
export class RouteTable {
  readonly routes: RecordedRoute[] = [];

  attach(app: FastifyInstance): void {
    app.addHook("onRoute", (route: RouteOptions) => {
      const config = route.config as { clawfleetPublic?: unknown } | undefined;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) this.routes.push({ method: String(method), url: route.url ?? "/", public: config?.clawfleetPublic === true || PUBLIC_PATHS.has(route.url ?? "") });
    });
  }
}

/** A concrete path for a route pattern: parameters and wildcards become `probe`. */
export function probePath(pattern: string): string {
  return pattern.replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, "probe").replace(/\*/g, "probe");
}

/** True for requests made by {@link unauthenticatedRoutes}. */
export function isRouteProbe(headers: Record<string, string | string[] | undefined>): boolean {
  return headers[ROUTE_PROBE_HEADER] === ROUTE_PROBE_MARKER;
}

/**
 * Every non-public route that does NOT refuse a request without credentials, as `METHOD /path answered S`
 * lines (empty = every route authenticates). `ignore(path)` skips paths the caller handles otherwise.
 */
export async function unauthenticatedRoutes(app: FastifyInstance, table: RouteTable, ignore: (path: string) => boolean = () => false): Promise<string[]> {
  const problems: string[] = [];
  for (const route of table.routes) {
    if (route.public || ignore(route.url)) continue;
    const url = probePath(route.url);
    const response = await app.inject({ method: route.method as "GET", url, headers: { [ROUTE_PROBE_HEADER]: ROUTE_PROBE_MARKER } });
    if (response.statusCode !== 401 && response.statusCode !== 403) problems.push(`${route.method} ${route.url} answered ${response.statusCode} to a request without credentials`);
  }
  return problems;
}
