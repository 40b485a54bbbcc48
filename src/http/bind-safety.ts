/**
 * Refuses to listen on a non-loopback address while something would be reachable without protection
 * (issue 5, "Hardening"). Every route authenticates except `/healthz`, `/readyz` (harmless liveness) and
 * `/metrics` (Prometheus: tenant ids, models, volumes), which is protected only by `server.metricsToken`.
 * Pure: looks at the config only, never at the network.
 */
import { isIP } from "node:net";
import type { ClawfleetConfig } from "../config/schema.js";
import { ConfigError } from "../config/load.js";

/** True for addresses only this machine can reach: `localhost`, 127.0.0.0/8, `::1`, `::ffff:127.x.y.z`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === "localhost" || lower.endsWith(".localhost")) return true;
  if (isIP(lower) === 4) return lower.startsWith("127.");
  if (isIP(lower) === 6) {
    if (lower === "::1" || lower === "0:0:0:0:0:0:0:1") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return mapped !== null && (mapped[1] as string).startsWith("127.");
  }
  return false;
}

/**
 * Every reason the configured bind is unsafe, as `server.<field>: message` lines (empty = safe). A loopback
 * host is always safe; `server.allowInsecureBind: true` accepts the risk explicitly (say, behind a reverse
 * proxy that terminates TLS on the same host).
 */
export function bindSafetyProblems(config: Pick<ClawfleetConfig, "server">): string[] {
  const { host, tls, metricsToken, allowInsecureBind } = config.server;
  if (isLoopbackHost(host) || allowInsecureBind) return [];
  const problems: string[] = [];
  const fix = "or set server.allowInsecureBind: true (CLAWFLEET_ALLOW_INSECURE_BIND=true) to accept the risk, or bind 127.0.0.1";
  if (tls === undefined) {
    problems.push(`server.tls: host ${host} is not loopback and TLS is not configured, so API keys and admin tokens would cross the network in clear text; set server.tls.certFile and server.tls.keyFile (CLAWFLEET_TLS_CERT_FILE, CLAWFLEET_TLS_KEY_FILE), ${fix}`);
  }
  if (metricsToken === undefined) {
    problems.push(`server.metricsToken: host ${host} is not loopback and /metrics would be served without authentication; set server.metricsToken (CLAWFLEET_METRICS_TOKEN, at least 24 characters), ${fix}`);
  }
  return problems;
}

/**
 * Throws when {@link bindSafetyProblems} finds anything.
 * @throws ConfigError (`CF_CONFIG_INVALID`) listing every problem.
 */
export function checkBindSafety(config: Pick<ClawfleetConfig, "server">): void {
  const problems = bindSafetyProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
}
