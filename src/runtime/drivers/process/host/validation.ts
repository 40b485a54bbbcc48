/**
 * The runtime host's gate: a launch request is run only when it is exactly the sandbox launch plan this host
 * would build itself for that tenant (`sandboxedLaunchPlan`, with the host's own install paths, data dir and
 * system paths). So the host never executes anything but bubblewrap with Clawfleet's argument shape —
 * `--unshare-net`, `--cap-drop ALL`, `--die-with-parent`, only the tenant's own directories bound, the launcher
 * and OpenClaw as the command — whatever the caller sends. Pure: no I/O.
 */
import { ClawfleetError } from "../../../../contracts/errors.js";
import type { RuntimeSpec } from "../../../../contracts/runtime-driver.js";
import { sandboxedLaunchPlan, type RuntimeInstall } from "../launch.js";
import { SANDBOX_INFO_FD } from "../launcher.js";
import { tenantLayout } from "../layout.js";
import type { HostSystemPaths } from "../sandbox-support.js";
import { launchRequestSchema, type HostLaunchRequest } from "./protocol.js";

/** What the host knows for itself (never taken from a request). */
export interface LaunchGateContext {
  /** The host's data dir (absolute). */
  dataDir: string;
  install: RuntimeInstall;
  system: HostSystemPaths;
  /** True when the host runs as root (per-tenant uids possible; bwrap then runs without its own user namespace). */
  root: boolean;
  /** Lowest per-tenant uid accepted (`runtime.uidBase`). */
  uidBase: number;
}

/** A refusal with the stable code `CF_RUNTIME_LAUNCH_REFUSED` and `details.reason`. */
export function launchRefused(reason: string, message: string, details: Record<string, unknown> = {}): ClawfleetError {
  return new ClawfleetError("CF_RUNTIME_LAUNCH_REFUSED", `runtime host refused the launch: ${message}`, { details: { reason, ...details } });
}

/** Shortens a value for an error message (arguments can be long paths). */
function shown(value: string | undefined): string {
  if (value === undefined) return "(nothing)";
  return JSON.stringify(value.length > 160 ? `${value.slice(0, 160)}…` : value);
}

/**
 * Validates `raw` (an untrusted launch request) against the schema and against the plan this host builds.
 * @returns the validated request (its `command`/`args`/`environment`/`cwd` are the host's own plan)
 * @throws ClawfleetError `CF_RUNTIME_LAUNCH_REFUSED` with `details.reason`: `malformed` (schema; `details.problems`),
 *   `uid` (a uid this host may not use), `paths` (tenant root or log path not the tenant's), `plan` (command, an
 *   argument, the environment or the working directory differ; `details.index` for an argument)
 */
export function validateLaunchRequest(raw: unknown, context: LaunchGateContext): HostLaunchRequest {
  const parsed = launchRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(request)"}: ${issue.message}`);
    throw launchRefused("malformed", `not a sandboxed runtime launch request (${problems.join("; ")})`, { problems });
  }
  const request = parsed.data;
  if (request.uid !== null && !context.root) throw launchRefused("uid", `per-tenant uid ${request.uid} asked for, but the runtime host does not run as root`);
  if (request.uid !== null && request.uid < context.uidBase) throw launchRefused("uid", `uid ${request.uid} is below runtime.uidBase ${context.uidBase}`);

  const layout = tenantLayout(context.dataDir, request.tenantId);
  if (request.tenantRoot !== layout.tenantRoot || request.logPath !== layout.runtimeLogPath) {
    throw launchRefused("paths", `tenant root or log path is not tenant ${request.tenantId}'s under ${context.dataDir}`);
  }
  // Only `tenantId` and `uid` of the spec shape the command line; the rest feeds the rendered config, not used here.
  const spec: RuntimeSpec = { tenantId: request.tenantId, gatewayToken: "", virtualKey: "", modelIds: [], tenantSettings: {}, platformOverrides: {}, uid: request.uid };
  const expected = sandboxedLaunchPlan({
    spec,
    layout,
    install: context.install,
    system: context.system,
    uid: request.uid,
    unprivileged: !context.root,
    infoFd: SANDBOX_INFO_FD,
    extraEnvironment: request.extraEnvironment.NODE_COMPILE_CACHE === undefined ? {} : { NODE_COMPILE_CACHE: request.extraEnvironment.NODE_COMPILE_CACHE },
  });
  if (request.command !== expected.command) throw launchRefused("plan", `command ${shown(request.command)} is not ${shown(expected.command)}`);
  const length = Math.max(request.args.length, expected.args.length);
  for (let index = 0; index < length; index += 1) {
    if (request.args[index] !== expected.args[index]) {
      throw launchRefused("plan", `argument ${index} is ${shown(request.args[index])}, this host's sandbox plan has ${shown(expected.args[index])} (same config file and install on both sides?)`, { index });
    }
  }
  const names = new Set([...Object.keys(request.environment), ...Object.keys(expected.environment)]);
  for (const name of names) {
    if (request.environment[name] !== expected.environment[name]) throw launchRefused("plan", `environment variable ${name} differs from this host's sandbox plan`);
  }
  if (request.cwd !== expected.cwd) throw launchRefused("plan", `working directory ${shown(request.cwd)} is not ${shown(expected.cwd)}`);
  return request;
}
