/**
 * `clawfleet doctor` checks of what runtimes need and run with: the sandbox (bubblewrap usable, setpriv for
 * per-tenant uids), Node 24 for runtimes, the installed OpenClaw against known advisories, and whether each
 * running runtime's config carries the gateway token the platform holds for it.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants as fsConstants, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ClawfleetConfig } from "../config/schema.js";
import { DEFAULT_BWRAP_PATH, DEFAULT_SETPRIV_PATH, detectSandboxSupport, probeRuntimeHost, runtimeInstallPaths, tenantLayout } from "../deps.js";
import { createLogger } from "../observability/logger.js";
import { tokenDigest, type RuntimeTokenDigests } from "../admin/diagnostics.js";
import { advisoriesAffecting, OPENCLAW_ADVISORIES } from "./advisories.js";
import type { DoctorCheck } from "./report.js";

/** Lowest Node version OpenClaw accepts (its preinstall check, `shared/openclaw/FACTS.md`). */
export const MINIMUM_RUNTIME_NODE = [24, 16, 0] as const;

/** The first executable `name` on `PATH` (like `command -v`), or null. */
export function findOnPath(name: string, pathVariable: string | undefined): string | null {
  for (const directory of (pathVariable ?? "").split(path.delimiter)) {
    if (directory === "") continue;
    const candidate = path.join(directory, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * bubblewrap: found on `PATH` and at the path the process driver runs (`/usr/bin/bwrap`), and its self-test
 * passes; as root, setpriv and the per-tenant uid self-test. `runtime.sandbox: none` is a warning.
 */
export function checkSandbox(config: ClawfleetConfig, env: NodeJS.ProcessEnv, isRoot: boolean): DoctorCheck[] {
  if (config.runtime.sandbox === "none") {
    return [{ id: "sandbox.bwrap", status: "warn", detail: "runtime.sandbox is none: tenant runtimes run as plain processes with the host's network and files (not isolated)", fix: "install bubblewrap (apt-get install bubblewrap) and remove runtime.sandbox: none" }];
  }
  const install = "install bubblewrap (apt-get install bubblewrap; the driver runs /usr/bin/bwrap)";
  const onPath = findOnPath("bwrap", env.PATH);
  if (onPath === null) return [{ id: "sandbox.bwrap", status: "fail", detail: `bwrap is not on PATH (${env.PATH ?? ""}): runtimes cannot be sandboxed${config.runtime.sandbox === "auto" ? " and would start NOT isolated" : " and will not start"}`, fix: install }];
  const support = detectSandboxSupport(DEFAULT_BWRAP_PATH, DEFAULT_SETPRIV_PATH);
  if (!support.available) return [{ id: "sandbox.bwrap", status: "fail", detail: `${support.reason ?? "bubblewrap unusable"} (found ${onPath} on PATH)`, fix: `${install}; under systemd run runtimes through clawfleet-runtimes.service (runtime.process.launcherSocket, see docs/security.md); user namespaces must be enabled (sysctl kernel.unprivileged_userns_clone=1, no AppArmor userns restriction)` }];
  const checks: DoctorCheck[] = [{ id: "sandbox.bwrap", status: "pass", detail: `bubblewrap self-test passed (${DEFAULT_BWRAP_PATH})` }];
  if (!isRoot) {
    checks.push({ id: "sandbox.setpriv", status: "skip", detail: "not running as root: all runtimes share this user's uid (each still in its own namespaces)" });
  } else if (findOnPath("setpriv", env.PATH) === null) {
    checks.push({ id: "sandbox.setpriv", status: "fail", detail: "running as root but setpriv is not on PATH: runtimes cannot get per-tenant uids", fix: "install util-linux (setpriv)" });
  } else {
    checks.push(support.perTenantUid ? { id: "sandbox.setpriv", status: "pass", detail: "setpriv + bwrap run runtimes under per-tenant uids" } : { id: "sandbox.setpriv", status: "fail", detail: support.reason ?? "per-tenant uid self-test failed", fix: "check that setpriv works and user namespaces are allowed for unprivileged uids" });
  }
  return checks;
}

/**
 * With `runtime.process.launcherSocket`: the runtime host (`clawfleet runtime-host`) answers on the socket and
 * its bubblewrap self-test passed. Replaces {@link checkSandbox}: this process never runs bubblewrap then.
 */
export async function checkRuntimeHost(socketPath: string, probe: typeof probeRuntimeHost = probeRuntimeHost): Promise<DoctorCheck[]> {
  const answer = await probe(socketPath, createLogger("silent"));
  if (!answer.reachable) {
    return [
      {
        id: "sandbox.runtime-host",
        status: "fail",
        detail: `runtime.process.launcherSocket is ${socketPath} but the runtime host does not answer (${answer.problem}): no runtime can start`,
        fix: `start it (systemctl start clawfleet-runtimes, or clawfleet runtime-host --socket ${socketPath}); run doctor as the service's user (the socket is mode 0600)`,
      },
    ];
  }
  if (!answer.support.available) return [{ id: "sandbox.runtime-host", status: "fail", detail: `the runtime host at ${socketPath} reports no working sandbox: ${answer.support.reason ?? "unknown"}`, fix: "install bubblewrap where the runtime host runs; user namespaces must be allowed for its user" }];
  return [{ id: "sandbox.runtime-host", status: "pass", detail: `runtime host at ${socketPath} answers; its bubblewrap self-test passed${answer.support.perTenantUid ? " (per-tenant uids available)" : ` (${answer.support.reason ?? "one uid for all runtimes"})`}` }];
}

function parseNodeVersion(text: string): number[] | null {
  const match = /^v(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

function atLeast(version: number[], minimum: readonly number[]): boolean {
  for (let index = 0; index < minimum.length; index += 1) {
    if ((version[index] ?? 0) !== (minimum[index] as number)) return (version[index] ?? 0) > (minimum[index] as number);
  }
  return true;
}

/** Node for runtimes: `<nodePath>/bin/node --version` ≥ 24.16. */
export function checkRuntimeNode(config: ClawfleetConfig): DoctorCheck {
  const nodeBinary = path.join(runtimeInstallPaths(config).nodePath, "bin", "node");
  const fix = "run npm ci (it installs Node 24 into runtime/node) or set runtime.nodePath to a folder holding bin/node >= 24.16";
  const result = spawnSync(nodeBinary, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (result.error || result.status !== 0) return { id: "runtime.node", status: "fail", detail: `${nodeBinary} does not run (${result.error?.message ?? `exit ${result.status}`})`, fix };
  const version = parseNodeVersion(result.stdout);
  if (version === null || !atLeast(version, MINIMUM_RUNTIME_NODE)) return { id: "runtime.node", status: "fail", detail: `${nodeBinary} is ${result.stdout.trim()}; OpenClaw needs >= ${MINIMUM_RUNTIME_NODE.join(".")}`, fix };
  return { id: "runtime.node", status: "pass", detail: `${nodeBinary} ${result.stdout.trim()}` };
}

/** The installed `openclaw` package's version against {@link OPENCLAW_ADVISORIES}. */
export function checkOpenclawVersion(config: ClawfleetConfig): DoctorCheck {
  const packageFile = path.join(runtimeInstallPaths(config).openclawDir, "node_modules", "openclaw", "package.json");
  let version: string;
  try {
    version = String((JSON.parse(readFileSync(packageFile, "utf8")) as { version?: unknown }).version ?? "");
  } catch (error) {
    return { id: "runtime.openclaw", status: "fail", detail: `OpenClaw is not installed (${packageFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)})`, fix: "run npm ci (it installs the pinned OpenClaw into runtime/openclaw) or set runtime.openclawDir" };
  }
  let affecting;
  try {
    affecting = advisoriesAffecting(version);
  } catch {
    return { id: "runtime.openclaw", status: "warn", detail: `OpenClaw version "${version}" cannot be compared with the advisory table`, fix: "install a released OpenClaw version (YYYY.M.D)" };
  }
  if (affecting.length > 0) {
    const newest = affecting.map((advisory) => advisory.fixedIn).sort().at(-1) as string;
    return {
      id: "runtime.openclaw",
      status: "fail",
      detail: `OpenClaw ${version} is affected by ${affecting.map((advisory) => `${advisory.id} (${advisory.summary}; fixed in ${advisory.fixedIn}; ${advisory.sources[0]})`).join(", ")}`,
      fix: `upgrade OpenClaw to ${newest} or later (runtime/openclaw/package.json, then npm ci)`,
    };
  }
  return { id: "runtime.openclaw", status: "pass", detail: `OpenClaw ${version}: none of the ${OPENCLAW_ADVISORIES.length} known advisories applies` };
}

/** The gateway token written in a tenant's runtime config (`gateway.auth.token`), or null. */
export function configuredGatewayToken(dataDir: string, tenantId: string): string | null {
  try {
    const config = JSON.parse(readFileSync(tenantLayout(dataDir, tenantId).configPath, "utf8")) as { gateway?: { auth?: { token?: unknown } } };
    const token = config.gateway?.auth?.token;
    return typeof token === "string" ? token : null;
  } catch {
    return null;
  }
}

/** Processes (pid → command line) that belong to runtimes of this data dir: their command line or environment names it. */
export function runtimeProcesses(dataDir: string): Array<{ pid: number; command: string }> {
  const tenantsDir = `${path.join(dataDir, "tenants")}${path.sep}`;
  const found: Array<{ pid: number; command: string }> = [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      let environment = "";
      try {
        environment = readFileSync(`/proc/${entry}/environ`, "utf8");
      } catch {
        // another user's process: its command line is all we see
      }
      if (command.includes(tenantsDir) || environment.includes(`OPENCLAW_CONFIG_PATH=${tenantsDir}`)) found.push({ pid: Number(entry), command: command.slice(0, 200) });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Token parity. With the server reachable: each ready runtime's config must carry the token the platform holds
 * (compared as SHA-256 digests from `/admin/v1/diagnostics/runtime-tokens`). Without it: no runtime process of
 * this data dir may still run (an orphan nobody supervises).
 */
export function checkTokenParity(dataDir: string, held: RuntimeTokenDigests | null, serverProblem: string | null): DoctorCheck[] {
  if (held === null) {
    const orphans = runtimeProcesses(dataDir);
    if (orphans.length > 0) {
      return [{ id: "runtime.orphans", status: "fail", detail: `the server is not reachable (${serverProblem ?? "unknown"}) but ${orphans.length} runtime process(es) of this data dir run: ${orphans.map((orphan) => `pid ${orphan.pid}`).join(", ")}`, fix: `stop them (kill ${orphans.map((orphan) => orphan.pid).join(" ")}) or start clawfleet serve, which supervises its runtimes` }];
    }
    return [{ id: "runtime.token-parity", status: "skip", detail: `server not reachable (${serverProblem ?? "unknown"}) and no runtime process runs: nothing to compare` }];
  }
  if (held.runtimes.length === 0) return [{ id: "runtime.token-parity", status: "pass", detail: "no runtime is running" }];
  return held.runtimes.map((runtime) => {
    const configured = configuredGatewayToken(dataDir, runtime.tenantId);
    if (configured !== null && tokenDigest(configured) === runtime.tokenSha256) return { id: `runtime.token-parity.${runtime.tenantId}`, status: "pass", detail: `runtime of ${runtime.tenantId}: its config carries the token the platform holds` };
    return {
      id: `runtime.token-parity.${runtime.tenantId}`,
      status: "fail",
      detail: `runtime of ${runtime.tenantId}: ${configured === null ? "its config has no gateway token" : "its config carries a different gateway token than the platform holds"} (ingress requests will fail, or someone else configured it)`,
      fix: `clawfleet runtime stop ${runtime.tenantId} && clawfleet runtime start ${runtime.tenantId} (the config is rendered again with a fresh token)`,
    };
  });
}
