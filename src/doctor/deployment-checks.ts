/**
 * `clawfleet doctor` checks of the deployment itself: bind versus authentication, TLS files, and the modes of
 * the data dir and the secrets in it. They read files only (never the network), so they work with or without
 * a running server.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { ClawfleetConfig } from "../config/schema.js";
import { bindSafetyProblems, isLoopbackHost } from "../http/bind-safety.js";
import { loadTlsMaterial, TlsMaterialError } from "../http/tls.js";
import type { DoctorCheck } from "./report.js";

/** A TLS certificate expiring within this many days is a warning. */
export const CERTIFICATE_EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, "0");
}

/** Bind address against authentication (the pure part of `clawfleet serve`'s refusal). */
export function checkBind(config: ClawfleetConfig): DoctorCheck[] {
  const { host, allowInsecureBind, trustedProxies, authLockout } = config.server;
  const problems = bindSafetyProblems(config);
  const checks: DoctorCheck[] = [];
  if (problems.length > 0) {
    checks.push({ id: "bind.auth", status: "fail", detail: problems.join("; "), fix: "set server.tls and server.metricsToken, or bind 127.0.0.1 (server.host)" });
  } else if (isLoopbackHost(host)) {
    checks.push({ id: "bind.auth", status: "pass", detail: `listening on ${host} (loopback only)` });
  } else if (allowInsecureBind) {
    checks.push({ id: "bind.auth", status: "warn", detail: `${host} is not loopback and server.allowInsecureBind accepts clear text or an open /metrics`, fix: "only behind a TLS-terminating proxy on this host; otherwise configure server.tls and server.metricsToken" });
  } else {
    checks.push({ id: "bind.auth", status: "pass", detail: `${host} is not loopback; TLS and a /metrics token are configured (serve also probes every route for authentication at start)` });
  }
  if (!isLoopbackHost(host) && authLockout.enabled && trustedProxies.length === 0) {
    checks.push({ id: "bind.lockout-source", status: "warn", detail: "failed-auth lockouts key on the socket's peer address; behind a load balancer that is the balancer, whose lockout would refuse everyone", fix: "list your proxies' addresses in server.trustedProxies (their X-Forwarded-For is then used), or ignore if clients connect directly" });
  }
  if (!authLockout.enabled) checks.push({ id: "bind.lockout", status: isLoopbackHost(host) ? "warn" : "fail", detail: "failed-auth lockout is disabled (server.authLockout.enabled: false)", fix: "remove server.authLockout.enabled: false" });
  return checks;
}

/** TLS: files readable, certificate valid now (and not expiring soon), key matches, key file not readable by others. */
export function checkTls(config: ClawfleetConfig, nowMs: number): DoctorCheck[] {
  const tls = config.server.tls;
  if (tls === undefined) {
    return [{ id: "tls", status: isLoopbackHost(config.server.host) ? "skip" : config.server.allowInsecureBind ? "warn" : "fail", detail: "server.tls is not configured", ...(isLoopbackHost(config.server.host) ? {} : { fix: "set server.tls.certFile and server.tls.keyFile (PEM)" }) }];
  }
  const checks: DoctorCheck[] = [];
  try {
    const keyMode = statSync(tls.keyFile).mode;
    if ((keyMode & 0o077) !== 0) checks.push({ id: "tls.key-mode", status: "fail", detail: `key file ${tls.keyFile} has mode ${octal(keyMode)}: readable by other users`, fix: `chmod 600 ${tls.keyFile} (owned by the user Clawfleet runs as)` });
    else checks.push({ id: "tls.key-mode", status: "pass", detail: `key file mode ${octal(keyMode)}` });
  } catch (error) {
    checks.push({ id: "tls.key-mode", status: "fail", detail: `key file ${tls.keyFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, fix: "point server.tls.keyFile at the PEM key" });
  }
  try {
    const material = loadTlsMaterial(tls, nowMs);
    const daysLeft = Math.floor((material.validTo.getTime() - nowMs) / DAY_MS);
    if (daysLeft < CERTIFICATE_EXPIRY_WARNING_DAYS) checks.push({ id: "tls.certificate", status: "warn", detail: `certificate ${material.subject} expires in ${daysLeft} days (${material.validTo.toISOString()})`, fix: "renew it; Clawfleet reloads the new files without a restart" });
    else checks.push({ id: "tls.certificate", status: "pass", detail: `certificate valid until ${material.validTo.toISOString()}, key matches (${material.fingerprint256.slice(0, 23)}…)` });
  } catch (error) {
    if (!(error instanceof TlsMaterialError)) throw error;
    const fix = /does not match/.test(error.problem)
      ? "install the key that belongs to this certificate (or the certificate of this key)"
      : /expired|not valid before/.test(error.problem)
        ? "renew the certificate; Clawfleet reloads the new files without a restart"
        : "point server.tls.certFile / keyFile at readable PEM files";
    checks.push({ id: "tls.certificate", status: "fail", detail: error.problem, fix });
  }
  return checks;
}

interface ModeRule {
  id: string;
  filePath: string;
  what: string;
  /** Bits that fail the check. */
  failBits: number;
  /** Bits that only warn. */
  warnBits: number;
  fix: string;
  /** A missing file passes with this detail (null = missing fails). */
  missingDetail: string | null;
  /** Fix when the file is missing and that fails (default `fix`). */
  missingFix?: string;
}

function checkMode(rule: ModeRule): DoctorCheck {
  let mode: number;
  try {
    mode = statSync(rule.filePath).mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && rule.missingDetail !== null) return { id: rule.id, status: "skip", detail: rule.missingDetail };
    return { id: rule.id, status: "fail", detail: `${rule.what} ${rule.filePath} cannot be read (${code ?? String(error)})`, fix: code === "ENOENT" ? (rule.missingFix ?? rule.fix) : rule.fix };
  }
  if ((mode & rule.failBits) !== 0) return { id: rule.id, status: "fail", detail: `${rule.what} ${rule.filePath} has mode ${octal(mode)}`, fix: rule.fix };
  if ((mode & rule.warnBits) !== 0) return { id: rule.id, status: "warn", detail: `${rule.what} ${rule.filePath} has mode ${octal(mode)}`, fix: rule.fix };
  return { id: rule.id, status: "pass", detail: `${rule.what} mode ${octal(mode)}` };
}

/**
 * Modes of the data dir (no read or write for others; `o+x` is allowed, per-tenant uids need to traverse it),
 * the admin token file (0600), the SQLite database and its WAL files, and each tenant's directory.
 */
export function checkPermissions(config: ClawfleetConfig): DoctorCheck[] {
  const dataDir = config.dataDir;
  const checks: DoctorCheck[] = [
    checkMode({ id: "permissions.data-dir", filePath: dataDir, what: "data dir", failBits: 0o006 | 0o020, warnBits: 0o040, fix: `chmod 700 ${dataDir} (0711 when runtimes run under per-tenant uids)`, missingDetail: null, missingFix: `check --data-dir / CLAWFLEET_DATA_DIR; clawfleet serve creates ${dataDir} (mode 0700) on first start` }),
  ];
  if (config.adminToken !== undefined) checks.push({ id: "permissions.admin-token", status: "pass", detail: "admin token comes from the configuration or CLAWFLEET_ADMIN_TOKEN, not a file" });
  else checks.push(checkMode({ id: "permissions.admin-token", filePath: path.join(dataDir, "admin-token"), what: "admin token file", failBits: 0o077, warnBits: 0, fix: `chmod 600 ${path.join(dataDir, "admin-token")}`, missingDetail: "no admin token file yet (generated on first start, mode 0600)" }));
  if (config.databaseUrl === undefined) {
    for (const suffix of ["", "-wal", "-shm"]) {
      const filePath = path.join(dataDir, `clawfleet.sqlite${suffix}`);
      checks.push(checkMode({ id: `permissions.database${suffix}`, filePath, what: "database file", failBits: 0o006, warnBits: 0o070, fix: `chmod 600 ${filePath}`, missingDetail: suffix === "" ? "no database yet (created on first start)" : `no ${suffix.slice(1).toUpperCase()} file` }));
    }
  } else {
    checks.push({ id: "permissions.database", status: "skip", detail: "PostgreSQL (databaseUrl): permissions are the database server's" });
  }
  const tenantsDir = path.join(dataDir, "tenants");
  let tenants: string[] = [];
  try {
    tenants = readdirSync(tenantsDir);
  } catch {
    // no tenant has run yet
  }
  for (const tenantId of tenants) {
    checks.push(checkMode({ id: `permissions.tenant.${tenantId}`, filePath: path.join(tenantsDir, tenantId), what: `tenant ${tenantId}'s directory`, failBits: 0o077, warnBits: 0, fix: `chmod 700 ${path.join(tenantsDir, tenantId)}`, missingDetail: null }));
  }
  return checks;
}
