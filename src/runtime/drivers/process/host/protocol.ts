/**
 * The wire protocol between the main service (`RemoteProcessLauncher`) and `clawfleet runtime-host`
 * (`RuntimeHost`) over a Unix stream socket: one JSON object per line (UTF-8, `\n`-terminated), every line
 * validated on arrival with the closed schemas below. Version {@link RUNTIME_HOST_PROTOCOL}.
 *
 * ```
 * client → host   {"type":"hello","protocol":1}
 * host → client   {"type":"hello","protocol":1,"hostPid":…,"uid":…,"root":false,"support":{…}}
 * client → host   {"type":"launch","id":1,"request":{…RuntimeLaunchRequest…}}
 * host → client   {"type":"launched","id":1,"handle":"…","tenantId":"…","pid":…}   or {"type":"error","id":1,"code":"CF_…",…}
 * host → client   {"type":"sandbox","handle":"…","sandboxPid":…,"launcherPid":…}   (once, when known)
 * client → host   {"type":"signal","id":2,"handle":"…","target":"launcher","signal":"SIGTERM"}
 * host → client   {"type":"signaled","id":2,"delivered":true}
 * host → client   {"type":"exit","handle":"…","code":0,"signal":null}              (once, when it ended)
 * ```
 * Runtimes belong to the connection that launched them: when it closes, the host stops them.
 */
import { z } from "zod";
import { SANDBOX_PATHS, TENANT_ID_PATTERN } from "../layout.js";
import { SANDBOX_INFO_FD } from "../launcher.js";

/** Protocol version both sides must speak. */
export const RUNTIME_HOST_PROTOCOL = 1;
/** Longest accepted line (bytes); a longer one is refused and the connection closed. */
export const MAX_LINE_BYTES = 256 * 1024;
/** The only extra environment a runtime may be launched with: the persistent compile cache in its home. */
export const ALLOWED_COMPILE_CACHE = `${SANDBOX_PATHS.homeDir}/.cache/node-compile-cache`;

const absolutePath = z.string().min(1).max(4096).startsWith("/");
const pid = z.number().int().positive();
const handle = z.string().min(1).max(64);
const requestId = z.number().int().nonnegative();
/** A line of the runtime log: printable, no control characters but the final newline. */
const logHeader = z
  .string()
  .max(512)
  .regex(/^[^\u0000-\u001f\u007f]*\n$/, "one printable line ending in a newline");

/** A {@link RuntimeLaunchRequest} as the runtime host accepts it: sandboxed only, nothing it does not rebuild. */
export const launchRequestSchema = z
  .object({
    tenantId: z.string().regex(TENANT_ID_PATTERN),
    sandboxed: z.literal(true, { message: "the runtime host only launches sandboxed runtimes" }),
    uid: z.number().int().nonnegative().nullable(),
    extraEnvironment: z.object({ NODE_COMPILE_CACHE: z.literal(ALLOWED_COMPILE_CACHE).optional() }).strict(),
    command: absolutePath,
    args: z.array(z.string().max(4096)).max(512),
    environment: z.record(z.string().max(256), z.string().max(4096)).refine((value) => Object.keys(value).length <= 64, "at most 64 variables"),
    cwd: absolutePath,
    spawnAs: z.null({ message: "sandboxed runtimes switch uid through setpriv, never through spawn" }),
    tenantRoot: absolutePath,
    logPath: absolutePath,
    logHeader,
    infoFd: z.literal(SANDBOX_INFO_FD),
  })
  .strict();

/** Validated launch request. */
export type HostLaunchRequest = z.infer<typeof launchRequestSchema>;

export const signalTargetSchema = z.enum(["process", "sandbox", "launcher"]);

/** Messages the main service sends. */
export const clientMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("hello"), protocol: z.number().int() }).strict(),
  z.object({ type: z.literal("launch"), id: requestId, request: z.unknown() }).strict(),
  z.object({ type: z.literal("signal"), id: requestId, handle, target: signalTargetSchema, signal: z.enum(["SIGTERM", "SIGKILL"]) }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** What the runtime host reports about its sandbox (same shape as the driver's `SandboxSupport`). */
const supportSchema = z.object({ available: z.boolean(), perTenantUid: z.boolean(), reason: z.string().nullable() }).strict();

/** Messages the runtime host sends. */
export const hostMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("hello"), protocol: z.number().int(), hostPid: pid, uid: z.number().int().nonnegative(), root: z.boolean(), support: supportSchema }).strict(),
  z.object({ type: z.literal("launched"), id: requestId, handle, tenantId: z.string().regex(TENANT_ID_PATTERN), pid }).strict(),
  z.object({ type: z.literal("sandbox"), handle, sandboxPid: pid.nullable(), launcherPid: pid.nullable() }).strict(),
  z.object({ type: z.literal("exit"), handle, code: z.number().int().nullable(), signal: z.string().max(32).nullable() }).strict(),
  z.object({ type: z.literal("signaled"), id: requestId, delivered: z.boolean() }).strict(),
  z.object({ type: z.literal("error"), id: requestId.nullable(), code: z.string().regex(/^CF_[A-Z_]+$/), message: z.string().max(4096) }).strict(),
]);
export type HostMessage = z.infer<typeof hostMessageSchema>;

/** One message as a protocol line. */
export function encodeLine(message: ClientMessage | HostMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * Splits a byte stream into lines. `onLine` gets each complete line (without `\n`); `onOverflow` is called
 * once when a line grows past {@link MAX_LINE_BYTES} (the caller then closes the connection).
 */
export function lineReader(onLine: (line: string) => void, onOverflow: () => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  let overflowed = false;
  return (chunk) => {
    if (overflowed) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const newline = pending.indexOf(0x0a);
      if (newline === -1) break;
      const line = pending.subarray(0, newline).toString("utf8");
      pending = pending.subarray(newline + 1);
      onLine(line);
    }
    if (pending.length > MAX_LINE_BYTES) {
      overflowed = true;
      onOverflow();
    }
  };
}
