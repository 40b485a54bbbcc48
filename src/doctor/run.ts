/**
 * `clawfleet doctor`: checks a deployment from its configuration and data dir, with or without the server
 * running, and says how to fix each problem. The server is asked (admin API) only for the digests of the
 * runtime tokens it holds; when it is not reachable that check is replaced by a search for orphan runtimes.
 */
import type { ClawfleetConfig } from "../config/schema.js";
import type { RuntimeTokenDigests } from "../admin/diagnostics.js";
import { checkBind, checkPermissions, checkTls } from "./deployment-checks.js";
import { summarize, type DoctorCheck, type DoctorReport } from "./report.js";
import { checkOpenclawVersion, checkRuntimeHost, checkRuntimeNode, checkSandbox, checkTokenParity } from "./runtime-checks.js";

export interface DoctorOptions {
  config: ClawfleetConfig;
  /** Where `PATH` is read (bubblewrap, setpriv). */
  env: NodeJS.ProcessEnv;
  /** The running server's base URL; null = do not ask. */
  serverUrl: string | null;
  /** Admin token for the server (null = cannot ask). */
  adminToken: string | null;
  nowMs?: number;
  isRoot?: boolean;
  /** Time allowed for the server to answer, in ms (default 3000). */
  serverTimeoutMs?: number;
}

async function fetchHeldTokens(options: DoctorOptions): Promise<{ held: RuntimeTokenDigests | null; problem: string | null }> {
  if (options.serverUrl === null) return { held: null, problem: "no server URL" };
  if (options.adminToken === null) return { held: null, problem: "no admin token to ask it with" };
  try {
    const response = await fetch(`${options.serverUrl.replace(/\/$/, "")}/admin/v1/diagnostics/runtime-tokens`, {
      headers: { authorization: `Bearer ${options.adminToken}` },
      signal: AbortSignal.timeout(options.serverTimeoutMs ?? 3_000),
    });
    if (response.status !== 200) return { held: null, problem: `${options.serverUrl} answered ${response.status}` };
    return { held: (await response.json()) as RuntimeTokenDigests, problem: null };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { held: null, problem: `${options.serverUrl}: ${cause ?? (error as Error).message}` };
  }
}

/** Runs every check. Never throws for a finding; each problem is a `fail` (or `warn`) entry with its fix. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { config } = options;
  const nowMs = options.nowMs ?? Date.now();
  const isRoot = options.isRoot ?? (typeof process.getuid === "function" && process.getuid() === 0);
  const checks: DoctorCheck[] = [
    ...checkBind(config),
    ...checkTls(config, nowMs),
    ...checkPermissions(config),
    // With a runtime host, the sandbox is its business: ask it instead of testing bubblewrap here.
    ...(config.runtime.process.launcherSocket ? await checkRuntimeHost(config.runtime.process.launcherSocket) : checkSandbox(config, options.env, isRoot)),
    checkRuntimeNode(config),
    checkOpenclawVersion(config),
  ];
  const { held, problem } = await fetchHeldTokens(options);
  checks.push(...checkTokenParity(config.dataDir, held, problem));
  return summarize(config.dataDir, checks);
}
