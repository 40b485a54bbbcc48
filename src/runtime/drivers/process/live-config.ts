/**
 * Live changes to a RUNNING runtime's `state/openclaw.json`, applied by OpenClaw's own config watcher without a
 * restart. Only `gateway.auth.identityScopes` is ever rewritten here: OpenClaw classifies it as hot ("Gateway
 * access policy … No (clients reconnect with current authority)", docs/gateway/configuration/hot-reload.md;
 * `gateway.auth.identityScopes` is in the `hot` rules of dist/config-reload-plan-*.mjs, 2026.9.6), the default
 * `gateway.reload.mode` (`hybrid`) applies it, and `OPENCLAW_CONFIG_READONLY=1` only stops OpenClaw itself from
 * writing the file ("Change the config through your external deployment system, then let the Gateway reload
 * it", docs/cli/config.md). Every other key of the file is left byte-for-byte as parsed (re-serialized the way
 * the driver writes it at start).
 *
 * Consequence worth knowing (verified on 2026.9.6, `test/e2e/live-identity-scopes.test.ts`): OpenClaw fingerprints
 * the whole access policy (`resolveGatewayAuthPolicyGeneration`), so ANY identityScopes change closes every
 * trusted-proxy WebSocket of the runtime with code 4001 ("gateway policy changed"); clients reconnect and get
 * their current scopes. Writes are therefore skipped when the rendered map equals the one on disk.
 *
 * File handling (`tenant-files.ts`): no symlinks followed, descriptor checked to lie in the tenant root, and the
 * file rewritten IN PLACE (same inode, owner, mode 0600): a sandboxed runtime sees its config through a read-only
 * bind mount of that inode (`sandbox.ts`), so it cannot change the file, and a file renamed over it would never
 * reach the sandbox.
 */
import { constants as fsConstants } from "node:fs";
import { ClawfleetError } from "../../../contracts/errors.js";
import { isPlainObject, type ConfigObject } from "../../openclaw-config.js";
import type { TenantLayout } from "./layout.js";
import { openInsideRoot, overwriteFileInPlace } from "./tenant-files.js";

/** Largest config file read back (bytes); same bound as at start. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** What {@link rewriteIdentityScopes} did: wrote a new map, or found the same map already on disk. */
export type IdentityScopesRewrite = "written" | "unchanged";

/** Canonical JSON of an identity → scopes map (identities sorted, scopes sorted and deduplicated). */
export function canonicalIdentityScopes(identityScopes: Readonly<Record<string, readonly string[]>>): string {
  const entries = Object.keys(identityScopes)
    .sort()
    .map((identity) => [identity, [...new Set(identityScopes[identity] ?? [])].sort()] as const);
  return JSON.stringify(entries);
}

/** Parses the identity scopes found on disk; anything not shaped `Record<string, string[]>` counts as none. */
function identityScopesOf(config: ConfigObject): Record<string, string[]> | null {
  const gateway = config.gateway;
  const auth = isPlainObject(gateway) ? gateway.auth : undefined;
  const scopes = isPlainObject(auth) ? auth.identityScopes : undefined;
  if (!isPlainObject(scopes)) return null;
  const parsed: Record<string, string[]> = {};
  for (const [identity, value] of Object.entries(scopes)) {
    if (!Array.isArray(value) || !value.every((scope): scope is string => typeof scope === "string")) return null;
    parsed[identity] = value;
  }
  return parsed;
}

/** Reads and parses the running runtime's config (regular file, at most 4 MiB, a JSON object). */
async function readRunningConfig(layout: TenantLayout): Promise<ConfigObject> {
  const handle = await openInsideRoot(layout.tenantRoot, layout.configPath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  let text: string;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > MAX_CONFIG_BYTES) throw new ClawfleetError("CF_INTERNAL", `${layout.configPath} is not a regular file of at most ${MAX_CONFIG_BYTES} bytes`);
    text = await handle.readFile({ encoding: "utf8" });
  } finally {
    await handle.close();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ClawfleetError("CF_INTERNAL", `${layout.configPath} is not valid JSON; the runtime's next start renders it again`, { cause: error });
  }
  if (!isPlainObject(parsed)) throw new ClawfleetError("CF_INTERNAL", `${layout.configPath} is not a JSON object; the runtime's next start renders it again`);
  return parsed;
}

/**
 * Sets `gateway.auth.identityScopes` of the runtime's config file to `identityScopes`, touching nothing else.
 * The caller serializes calls per tenant with starts and stops (the driver's tenant lock).
 * @param identityScopes identity (`apikey:<keyId>`, `user:<userId>`, `clawfleet:approvals`) → operator scopes
 * @returns `unchanged` when the file already holds an equal map (nothing written), else `written`
 * @throws ClawfleetError `CF_INTERNAL` when the file is missing, unsafe (symlink, outside the root), not a JSON
 *   object, or not in trusted-proxy mode (a token-mode runtime has no identity scopes to change)
 */
export async function rewriteIdentityScopes(layout: TenantLayout, identityScopes: Readonly<Record<string, readonly string[]>>): Promise<IdentityScopesRewrite> {
  const config = await readRunningConfig(layout);
  const gateway = config.gateway;
  const auth = isPlainObject(gateway) ? gateway.auth : undefined;
  if (!isPlainObject(auth) || auth.mode !== "trusted-proxy") {
    throw new ClawfleetError("CF_INTERNAL", `runtime of tenant ${layout.tenantId} is not in trusted-proxy mode; identity scopes apply only there`);
  }
  const current = identityScopesOf(config);
  if (current !== null && canonicalIdentityScopes(current) === canonicalIdentityScopes(identityScopes)) return "unchanged";
  auth.identityScopes = Object.fromEntries(Object.entries(identityScopes).map(([identity, scopes]) => [identity, [...scopes]]));
  await overwriteFileInPlace(layout.tenantRoot, layout.configPath, `${JSON.stringify(config, null, 2)}\n`);
  return "written";
}
