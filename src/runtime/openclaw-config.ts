/**
 * Rendering of one tenant runtime's OpenClaw config file (`state/openclaw.json`). Pure functions, no I/O.
 *
 * Layers, lowest first (each later layer wins):
 *   1. {@link LEAN_TEMPLATE}: hardened operational defaults (no control UI, no phoning home, no background
 *      LLM runs); tenants may change any of them.
 *   2. `existing`: the config currently on disk, so changes the tenant made through OpenClaw itself survive
 *      restarts and upgrades.
 *   3. `tenantSettings`: the tenant's operational settings as stored by the platform.
 *   4. platform-managed keys ({@link buildPlatformKeys}), which always win, then the platform `overrides`.
 *
 * Facts behind the template: /work/shared/openclaw/FACTS.md (OpenClaw 2026.9.6, verified by running it).
 */

import type { RuntimeModelApi, RuntimeTrustedProxy } from "../contracts/runtime-driver.js";
import { tenantPathPrefix } from "../ingress/runtime-paths.js";

/** A JSON object as parsed from / written to `openclaw.json`. */
export type ConfigObject = Record<string, unknown>;

/** Keys never copied by {@link deepMerge} (prototype pollution). */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** True for `{}`-style objects (prototype `Object.prototype` or `null`); false for arrays, dates, class instances. */
export function isPlainObject(value: unknown): value is ConfigObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Deep copy of plain objects and arrays (other values are returned as is), dropping forbidden keys. */
function cloneValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => cloneValue(item));
  if (isPlainObject(value)) {
    const copy: ConfigObject = {};
    for (const [key, item] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) continue;
      copy[key] = cloneValue(item);
    }
    return copy;
  }
  return value;
}

/**
 * Deep merge of two plain objects into a new object.
 *
 * Plain objects on both sides merge key by key; anything else in `override` (arrays, scalars, `null`)
 * replaces the base value; keys whose override value is `undefined` keep the base value. The result
 * shares no object or array with either input, and neither input is mutated. Keys `__proto__`,
 * `constructor` and `prototype` are ignored on both sides.
 *
 * @param base lower-priority object
 * @param override higher-priority object
 * @returns a fresh merged object
 */
export function deepMerge(base: ConfigObject, override: ConfigObject): ConfigObject {
  const result: ConfigObject = {};
  for (const [key, value] of Object.entries(base)) {
    if (FORBIDDEN_KEYS.has(key)) continue;
    result[key] = cloneValue(value);
  }
  for (const [key, value] of Object.entries(override)) {
    if (FORBIDDEN_KEYS.has(key) || value === undefined) continue;
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : cloneValue(value);
  }
  return result;
}

/**
 * Lean, hardened operational defaults for a tenant runtime (the `configs/tenant-lean-token-openai.json`
 * shape without its per-tenant values). Tenant settings may change any of these.
 *
 * - `gateway.controlUi` / `gateway.terminal` off: the platform's ingress is the only front door.
 * - `update.checkOnStart: false`, `models.catalogRefresh.enabled: false`: no phoning home.
 * - `agents.defaults.heartbeat.every: "0m"`, `skills.workshop.autonomous.mode: "off"`, memory-core
 *   `dreaming` off: no background LLM runs the tenant did not ask for.
 * - `plugins.allow: ["memory-core", "openai"]`: loads only what a chat runtime needs (startup 8-13 s instead
 *   of ~20 s); `openai` carries the `openai-completions` transport used to reach the model gateway.
 */
export const LEAN_TEMPLATE: Readonly<ConfigObject> = Object.freeze({
  gateway: {
    mode: "local",
    bind: "loopback",
    controlUi: { enabled: false },
    terminal: { enabled: false },
  },
  update: { checkOnStart: false },
  browser: { enabled: false },
  models: { mode: "merge", catalogRefresh: { enabled: false } },
  plugins: {
    allow: ["memory-core", "openai"],
    entries: { "memory-core": { config: { dreaming: { enabled: false } } } },
  },
  agents: { defaults: { heartbeat: { every: "0m" } } },
  skills: { workshop: { autonomous: { mode: "off" } } },
});

/** Name of the only model provider a runtime gets: the platform's model gateway. */
export const PLATFORM_PROVIDER_NAME = "clawfleet";

/** Context window (tokens) and output cap (tokens) announced to OpenClaw for every platform model. */
export const PLATFORM_MODEL_LIMITS = { contextWindow: 128_000, maxTokens: 4_096 } as const;

/** Values the platform binds into one runtime's config; paths are as seen by the runtime (inside its sandbox). */
export interface PlatformBindings {
  tenantId: string;
  /** TCP port the gateway listens on (loopback, inside the runtime's own network namespace when sandboxed). */
  gatewayPort: number;
  /** The runtime's gateway token (`gateway.auth.token`). */
  gatewayToken: string;
  /** Base URL of the model gateway as the runtime reaches it, ending in `/v1`, e.g. `http://127.0.0.1:19100/v1`. */
  modelBaseUrl: string;
  /** The runtime's virtual key for the model gateway (sent as `Authorization: Bearer`); never a provider key. */
  virtualKey: string;
  /** Model ids offered by the model gateway; the first becomes the primary model. Must not be empty. */
  modelIds: string[];
  /** Absolute path of the agent workspace (`agents.defaults.workspace`). */
  workspaceDir: string;
  /** Absolute path of OpenClaw's own log file (`logging.file`). */
  logFile: string;
  /** Extra platform-managed keys merged last (e.g. a profile's `tools` section). */
  overrides: ConfigObject;
  /** API of the model calls (default `openai-completions`). */
  modelApi?: RuntimeModelApi;
  /** Trusted-proxy auth instead of the gateway token (see {@link platformGatewayAuth}). */
  trustedProxy?: RuntimeTrustedProxy;
}

/**
 * The OpenClaw plugin carrying each model API's transport (it must be in `plugins.allow`), and whether the
 * provider's `baseUrl` includes `/v1`: OpenClaw appends `/v1/messages` to an `anthropic-messages` base URL
 * and `/chat/completions` or `/responses` to the others (FACTS.md).
 */
const MODEL_API_TRANSPORT: Record<RuntimeModelApi, { plugin: string; baseUrlHasVersion: boolean }> = {
  "openai-completions": { plugin: "openai", baseUrlHasVersion: true },
  "openai-responses": { plugin: "openai", baseUrlHasVersion: true },
  "anthropic-messages": { plugin: "anthropic", baseUrlHasVersion: false },
};

/**
 * The platform-managed part of a runtime config (without `overrides`). These keys always win over the
 * template, the file on disk and the tenant settings:
 *
 * - `gateway.port`, `gateway.bind: "loopback"`, `gateway.auth` (replaced whole: `{mode: "token", token}`),
 *   `gateway.http.endpoints.chatCompletions.enabled: true`
 * - `gateway.controlUi` ({@link platformControlUi}: base path `/t/{tenant}`; with trusted proxy, enabled and the
 *   allowed origins), and with trusted proxy `gateway.trustedProxies` and `gateway.publicOrigin`
 * - `logging.file`, `agents.defaults.workspace`, `agents.defaults.model.primary` (`clawfleet/<modelIds[0]>`)
 * - `models.providers` (replaced whole: only the `clawfleet` provider survives)
 * - `update.checkOnStart: false`, `models.catalogRefresh.enabled: false`
 *
 * @throws Error when `modelIds` is empty (a runtime without a model cannot answer anything)
 */
export function buildPlatformKeys(bindings: PlatformBindings): ConfigObject {
  const primaryModelId = bindings.modelIds[0];
  if (primaryModelId === undefined) throw new Error(`tenant ${bindings.tenantId}: modelIds must not be empty`);
  const publicOrigin = bindings.trustedProxy ? openClawPublicOrigin(bindings.trustedProxy.allowedOrigins) : undefined;
  return {
    gateway: {
      port: bindings.gatewayPort,
      bind: "loopback",
      auth: platformGatewayAuth(bindings),
      http: { endpoints: { chatCompletions: { enabled: true } } },
      controlUi: platformControlUi(bindings),
      ...(bindings.trustedProxy ? { trustedProxies: ["127.0.0.1"] } : {}),
      ...(publicOrigin !== undefined ? { publicOrigin } : {}),
    },
    logging: { file: bindings.logFile },
    update: { checkOnStart: false },
    agents: {
      defaults: {
        workspace: bindings.workspaceDir,
        model: { primary: `${PLATFORM_PROVIDER_NAME}/${primaryModelId}` },
      },
    },
    models: {
      catalogRefresh: { enabled: false },
      providers: platformProviders(bindings),
    },
  };
}

/**
 * `gateway.controlUi`, platform-managed. `basePath` is always `/t/{tenantId}` (the ingress prefix, see
 * `src/ingress/runtime-paths.ts`): OpenClaw then serves its Control UI and builds every UI URL under the path the
 * browser sees (OpenClaw docs/web/control-ui.md; its base-path grammar trims slashes and takes any string, and
 * tenant ids `^[a-z0-9][a-z0-9-]{0,62}$` need no escaping; a change needs a restart, and it never changes for a
 * tenant). With trusted proxy the UI is on (`enabled: true`, the browser front door: logged-in users are admitted
 * by the identity headers of the ingress) and `allowedOrigins` lists the public origin. In token mode it stays as
 * the template has it (off): a browser could only log in with the runtime token, which never leaves the platform.
 */
function platformControlUi(bindings: PlatformBindings): ConfigObject {
  const basePath = tenantPathPrefix(bindings.tenantId);
  const trusted = bindings.trustedProxy;
  return trusted ? { enabled: true, basePath, allowedOrigins: trusted.allowedOrigins } : { basePath };
}

/**
 * The rendered `gateway.controlUi`: the tenant's own keys (labels, colours, invitations…) with
 * {@link platformControlUi} on top, minus what would let tenant-chosen code run in Clawfleet's origin, which every
 * tenant's UI, the console and the admin API share (path-prefix routing): `root` (serve any files as the UI) and
 * `dangerouslyAllowHostHeaderOriginFallback` are dropped, `experimental.customPlugins` (plugin code inside the page)
 * and `allowExternalEmbedUrls` are off, and `embedSandbox` is `scripts` or `strict`, never `trusted` (which adds
 * `allow-same-origin` to agent-generated embeds; OpenClaw docs/web/control-ui/chat.md "Hosted embeds").
 */
function pinControlUi(current: unknown, bindings: PlatformBindings): ConfigObject {
  const tenant: ConfigObject = isPlainObject(current) ? { ...current } : {};
  delete tenant.root;
  delete tenant.dangerouslyAllowHostHeaderOriginFallback;
  const experimental = isPlainObject(tenant.experimental) ? tenant.experimental : {};
  return {
    ...tenant,
    embedSandbox: tenant.embedSandbox === "strict" ? "strict" : "scripts",
    allowExternalEmbedUrls: false,
    experimental: { ...experimental, customPlugins: false },
    ...platformControlUi(bindings),
  };
}

/**
 * `gateway.publicOrigin` for a trusted-proxy runtime: the public origin (the one allowed origin), used by OpenClaw
 * for absolute links it builds (shared-session documents, deep links). OpenClaw's schema takes only a bare HTTPS
 * origin or HTTP on `localhost`, `127.0.0.1` or `[::1]`; any other origin (a cleartext test setup) is left out,
 * and OpenClaw then falls back to the request's Host.
 */
export function openClawPublicOrigin(allowedOrigins: readonly string[]): string | undefined {
  if (allowedOrigins.length !== 1) return undefined;
  let origin: URL;
  try {
    origin = new URL(allowedOrigins[0] as string);
  } catch {
    return undefined;
  }
  const loopback = origin.hostname === "localhost" || origin.hostname === "127.0.0.1" || origin.hostname === "[::1]";
  if (origin.protocol !== "https:" && !(origin.protocol === "http:" && loopback)) return undefined;
  return origin.origin;
}

/**
 * `gateway.auth`: token auth with the runtime's own gateway token; or, with `trustedProxy`, OpenClaw's
 * trusted-proxy mode: the ingress (connecting from loopback, hence `allowLoopback`) is the only proxy; browser
 * devices are auto-approved up to read/write/approvals (never `operator.admin`), capped per caller by the
 * `x-openclaw-scopes` header the ingress sets. No token: OpenClaw refuses a token next to trusted-proxy.
 */
function platformGatewayAuth(bindings: PlatformBindings): ConfigObject {
  const trusted = bindings.trustedProxy;
  if (trusted) {
    return {
      mode: "trusted-proxy",
      trustedProxy: {
        userHeader: trusted.userHeader,
        allowLoopback: true,
        deviceAutoApprove: { enabled: true, scopes: ["operator.read", "operator.write", "operator.approvals"] },
      },
      identityScopes: trusted.identityScopes,
    };
  }
  return { mode: "token", token: bindings.gatewayToken };
}

/** `models.providers`: the platform's model gateway as the one and only provider. */
function platformProviders(bindings: PlatformBindings): ConfigObject {
  const api = bindings.modelApi ?? "openai-completions";
  return {
    [PLATFORM_PROVIDER_NAME]: {
      baseUrl: MODEL_API_TRANSPORT[api].baseUrlHasVersion ? bindings.modelBaseUrl : bindings.modelBaseUrl.replace(/\/v1\/?$/, ""),
      apiKey: bindings.virtualKey,
      api,
      models: bindings.modelIds.map((id) => ({ id, name: id, ...PLATFORM_MODEL_LIMITS })),
    },
  };
}

/** Sets `object[path]` to a copy of `value`, creating plain objects on the way (replaces, never merges). */
function replaceAt(object: ConfigObject, path: readonly string[], value: unknown): void {
  let cursor = object;
  for (const key of path.slice(0, -1)) {
    const next = cursor[key];
    if (isPlainObject(next)) {
      cursor = next;
    } else {
      const created: ConfigObject = {};
      cursor[key] = created;
      cursor = created;
    }
  }
  const last = path[path.length - 1];
  if (last !== undefined) cursor[last] = cloneValue(value);
}

/** Inputs of {@link renderOpenClawConfig}. */
export interface RenderOpenClawConfigInput {
  /** The parsed config currently on disk (`{}` when there is none or it is unreadable). */
  existing: ConfigObject;
  /** The tenant's operational settings. */
  tenantSettings: ConfigObject;
  /** Platform bindings; see {@link buildPlatformKeys} for the keys they manage. */
  platform: PlatformBindings;
}

/**
 * Renders a runtime's full OpenClaw config:
 * `deepMerge(deepMerge(deepMerge(LEAN_TEMPLATE, existing), tenantSettings), platformKeys)`, with
 * `gateway.auth` and `models.providers` replaced whole by the platform's values (so no tenant provider or
 * auth mode survives) and `gateway.controlUi` pinned ({@link pinControlUi}), then `platform.overrides` merged
 * last. Inputs are not mutated.
 *
 * @returns a fresh object, ready for `JSON.stringify`
 * @throws Error when `platform.modelIds` is empty
 */
export function renderOpenClawConfig(input: RenderOpenClawConfigInput): ConfigObject {
  const platformKeys = buildPlatformKeys(input.platform);
  const merged = deepMerge(deepMerge(deepMerge(LEAN_TEMPLATE, input.existing), input.tenantSettings), platformKeys);
  replaceAt(merged, ["gateway", "auth"], platformGatewayAuth(input.platform));
  replaceAt(merged, ["models", "providers"], platformProviders(input.platform));
  replaceAt(merged, ["gateway", "controlUi"], pinControlUi(isPlainObject(merged.gateway) ? merged.gateway.controlUi : undefined, input.platform));
  // The transport plugin of the model API must load, whatever plugin allow-list the tenant chose.
  const transportPlugin = MODEL_API_TRANSPORT[input.platform.modelApi ?? "openai-completions"].plugin;
  const plugins = isPlainObject(merged.plugins) ? merged.plugins : undefined;
  if (plugins && Array.isArray(plugins.allow) && !plugins.allow.includes(transportPlugin)) plugins.allow = [...plugins.allow, transportPlugin];
  return deepMerge(merged, input.platform.overrides);
}
