/**
 * Loads Clawfleet's configuration from, lowest precedence first: built-in defaults, `clawfleet.yaml`,
 * `CLAWFLEET_*` environment variables, command-line flags. Every problem in every source is collected and
 * reported in one {@link ConfigError}; loading has no side effects (it reads the file and `env`, nothing else).
 */
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { ClawfleetError } from "../contracts/errors.js";
import type { CredentialSource } from "../credentials/schema.js";
import { routeSchema, routingReferenceIssues } from "../gateway/routing/config.js";
import { configSchema, type ClawfleetConfig, type ProviderConfig } from "./schema.js";

/** Environment variables read by Clawfleet and the config path each one sets. Documented in the README. */
export const ENVIRONMENT_VARIABLES: ReadonlyArray<{ name: string; path: string[] }> = [
  { name: "CLAWFLEET_HOST", path: ["server", "host"] },
  { name: "CLAWFLEET_PORT", path: ["server", "port"] },
  { name: "CLAWFLEET_BODY_LIMIT_BYTES", path: ["server", "bodyLimitBytes"] },
  { name: "CLAWFLEET_ADVERTISE_URL", path: ["server", "advertiseUrl"] },
  { name: "CLAWFLEET_REPLICA_SECRET", path: ["server", "replicaSecret"] },
  { name: "CLAWFLEET_TLS_CERT_FILE", path: ["server", "tls", "certFile"] },
  { name: "CLAWFLEET_TLS_KEY_FILE", path: ["server", "tls", "keyFile"] },
  { name: "CLAWFLEET_ALLOW_INSECURE_BIND", path: ["server", "allowInsecureBind"] },
  { name: "CLAWFLEET_METRICS_TOKEN", path: ["server", "metricsToken"] },
  { name: "CLAWFLEET_DATA_DIR", path: ["dataDir"] },
  { name: "CLAWFLEET_ADMIN_TOKEN", path: ["adminToken"] },
  { name: "CLAWFLEET_LOG_LEVEL", path: ["logLevel"] },
  { name: "CLAWFLEET_RUNTIME_SANDBOX", path: ["runtime", "sandbox"] },
  { name: "CLAWFLEET_RUNTIME_START_TIMEOUT_MS", path: ["runtime", "startTimeoutMs"] },
  { name: "CLAWFLEET_RUNTIME_IDLE_TIMEOUT_MS", path: ["runtime", "idleTimeoutMs"] },
  { name: "CLAWFLEET_RUNTIME_NODE_PATH", path: ["runtime", "nodePath"] },
  { name: "CLAWFLEET_RUNTIME_OPENCLAW_DIR", path: ["runtime", "openclawDir"] },
  { name: "CLAWFLEET_RUNTIME_MODEL_API", path: ["runtime", "modelApi"] },
  { name: "CLAWFLEET_RUNTIME_LAUNCHER_SOCKET", path: ["runtime", "process", "launcherSocket"] },
  { name: "CLAWFLEET_DATABASE_URL", path: ["databaseUrl"] },
  { name: "CLAWFLEET_REDIS_URL", path: ["redisUrl"] },
  { name: "CLAWFLEET_REDIS_KEY_PREFIX", path: ["redisKeyPrefix"] },
  { name: "CLAWFLEET_DEFAULT_PROFILE", path: ["governance", "defaultProfile"] },
  { name: "CLAWFLEET_AUDIT_FILE", path: ["governance", "audit", "file"] },
];

/** Flags of `clawfleet serve` that override config (undefined = not given). */
export interface ConfigFlags {
  config?: string | undefined;
  host?: string | undefined;
  port?: string | number | undefined;
  dataDir?: string | undefined;
}

/** Something the operator must see at start (e.g. "no provider configured, using mock"). */
export interface ConfigNotice {
  level: "warn" | "info";
  message: string;
}

export interface LoadedConfig {
  config: ClawfleetConfig;
  /** The config file that was read, if any (absolute path). */
  configFile: string | null;
  notices: ConfigNotice[];
}

/** Thrown when any source is invalid; `problems` lists every one as `source: path: message`. */
export class ConfigError extends ClawfleetError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super("CF_CONFIG_INVALID", `invalid configuration:\n  - ${problems.join("\n  - ")}`, { details: { problems } });
    this.problems = problems;
  }
}

type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function setPath(target: PlainObject, keys: string[], value: unknown): void {
  let cursor = target;
  keys.slice(0, -1).forEach((key) => {
    if (!isPlainObject(cursor[key])) cursor[key] = {};
    cursor = cursor[key] as PlainObject;
  });
  cursor[keys[keys.length - 1] as string] = value;
}

function mergeLayers(base: PlainObject, layer: PlainObject): PlainObject {
  const result: PlainObject = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    result[key] = isPlainObject(value) && isPlainObject(result[key]) ? mergeLayers(result[key] as PlainObject, value) : value;
  }
  return result;
}

function readConfigFile(filePath: string, problems: string[]): PlainObject {
  let text: string;
  try {
    text = readFileSync(filePath, "utf8");
  } catch (error) {
    problems.push(`${filePath}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    return {};
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    for (const error of document.errors) problems.push(`${filePath}: ${error.message.split("\n")[0]}`);
    return {};
  }
  const value: unknown = document.toJS();
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    problems.push(`${filePath}: the top level must be a mapping`);
    return {};
  }
  return value;
}

function formatIssues(source: string, issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${source}: ${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`);
}

/** Default model of each provider kind when `CLAWFLEET_DEFAULT_MODEL` is not set. */
const DEFAULT_MODEL_BY_KIND: Record<ProviderConfig["kind"], string> = {
  openai: "gpt-4o-mini",
  anthropic: "claude-3-5-haiku-latest",
  bedrock: "anthropic.claude-3-5-haiku-20241022-v1:0",
  ollama: "llama3.2",
  mock: "mock-1",
};

/**
 * Providers from the environment with the SDKs' standard variables when the file configures none:
 * `OPENAI_API_KEY` (+ `OPENAI_BASE_URL`), `ANTHROPIC_API_KEY` (+ `ANTHROPIC_BASE_URL`), `OLLAMA_HOST`, and
 * Bedrock when `CLAWFLEET_BEDROCK_MODEL` is set (region from `AWS_REGION`, credentials from the AWS chain).
 * The first found serves the `default` route (`CLAWFLEET_DEFAULT_MODEL` or the kind's default model). With
 * none, the built-in `mock` provider, announced loudly.
 */
function providersFromEnvironment(env: NodeJS.ProcessEnv, notices: ConfigNotice[]): ProviderConfig[] {
  const providers: ProviderConfig[] = [];
  if (env.OPENAI_API_KEY) {
    providers.push({ id: "openai", kind: "openai", baseUrl: env.OPENAI_BASE_URL ?? "https://api.openai.com/v1", apiKey: { source: "env", name: "OPENAI_API_KEY" }, models: [] });
  }
  if (env.ANTHROPIC_API_KEY) {
    providers.push({ id: "anthropic", kind: "anthropic", baseUrl: env.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com", apiKey: { source: "env", name: "ANTHROPIC_API_KEY" }, models: [] });
  }
  if (env.CLAWFLEET_BEDROCK_MODEL) {
    providers.push({ id: "bedrock", kind: "bedrock", ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}), models: [env.CLAWFLEET_BEDROCK_MODEL] });
  }
  if (env.OLLAMA_HOST) {
    const host = env.OLLAMA_HOST.startsWith("http") ? env.OLLAMA_HOST : `http://${env.OLLAMA_HOST}`;
    providers.push({ id: "ollama", kind: "ollama", baseUrl: host, models: [] });
  }
  if (providers.length === 0) {
    notices.push({
      level: "warn",
      message:
        "NO MODEL PROVIDER CONFIGURED: using the built-in mock provider (canned answers). Set OPENAI_API_KEY (and OPENAI_BASE_URL), ANTHROPIC_API_KEY, OLLAMA_HOST, or configure providers in clawfleet.yaml.",
    });
    providers.push({ id: "mock", kind: "mock", models: [] });
  }
  for (const provider of providers) {
    const model = provider.kind === "bedrock" ? (provider.models[0] as string) : (env.CLAWFLEET_DEFAULT_MODEL ?? DEFAULT_MODEL_BY_KIND[provider.kind]);
    if (!provider.models.includes(model)) provider.models.push(model);
    notices.push({ level: "info", message: `model provider: ${provider.id} (${provider.kind})${provider.baseUrl ? ` at ${provider.baseUrl}` : ""}, models ${provider.models.join(", ")}` });
  }
  return providers;
}

/** Each provider's key source: `apiKey`, else `apiKeyEnv`; null for kinds that need none (bedrock, ollama, mock). */
export function credentialSourceOf(provider: ProviderConfig): CredentialSource | null {
  if (provider.apiKey) return provider.apiKey;
  if (provider.apiKeyEnv) return { source: "env", name: provider.apiKeyEnv };
  return null;
}

function crossCheck(config: ClawfleetConfig, env: NodeJS.ProcessEnv, problems: string[]): void {
  const providerIds = new Set<string>();
  config.providers.forEach((provider, index) => {
    if (providerIds.has(provider.id)) problems.push(`config: providers.${index}.id: duplicate provider id "${provider.id}"`);
    providerIds.add(provider.id);
    if (provider.kind === "openai" && !provider.baseUrl) problems.push(`config: providers.${index}.baseUrl: required for kind openai`);
    if ((provider.kind === "openai" || provider.kind === "anthropic") && !credentialSourceOf(provider)) {
      problems.push(`config: providers.${index}: kind ${provider.kind} needs apiKey (a credential source) or apiKeyEnv`);
    }
    if (provider.apiKeyEnv && !provider.apiKey && !env[provider.apiKeyEnv]) {
      problems.push(`config: providers.${provider.id}: no API key (the environment variable ${provider.apiKeyEnv} is not set)`);
    }
    if (provider.kind === "bedrock" && !provider.region && !env.AWS_REGION) problems.push(`config: providers.${index}.region: required for bedrock (or set AWS_REGION)`);
  });
  for (const issue of routingReferenceIssues(config, providerIds)) problems.push(`config: ${issue.path.join(".")}: ${issue.message}`);
  const aliases = new Set(config.routes.map((route) => route.alias));
  config.budgets.rules.forEach((rule, index) => {
    if (rule.fallbackRoute !== undefined && !aliases.has(rule.fallbackRoute)) problems.push(`config: budgets.rules.${index}.fallbackRoute: no route with alias "${rule.fallbackRoute}"`);
  });
  try {
    new Intl.DateTimeFormat("en-CA", { timeZone: config.budgets.timeZone });
  } catch {
    problems.push(`config: budgets.timeZone: unknown time zone "${config.budgets.timeZone}"`);
  }
}

/**
 * Builds the configuration. `cwd` anchors relative paths (`dataDir`, the config file).
 * @throws ConfigError listing every problem found in every source.
 */
export function loadConfig(options: { flags?: ConfigFlags; env?: NodeJS.ProcessEnv; cwd?: string } = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const flags = options.flags ?? {};
  const problems: string[] = [];
  const notices: ConfigNotice[] = [];

  const explicitFile = flags.config ?? env.CLAWFLEET_CONFIG;
  const candidate = path.resolve(cwd, explicitFile ?? "clawfleet.yaml");
  let configFile: string | null = null;
  let fileLayer: PlainObject = {};
  if (explicitFile !== undefined || existsSync(candidate)) {
    configFile = candidate;
    fileLayer = readConfigFile(candidate, problems);
  }
  const fileResult = configSchema.safeParse(fileLayer);
  if (!fileResult.success) problems.push(...formatIssues(configFile ?? "config", fileResult.error.issues));

  const environmentLayer: PlainObject = {};
  for (const variable of ENVIRONMENT_VARIABLES) {
    const value = env[variable.name];
    if (value !== undefined && value !== "") setPath(environmentLayer, variable.path, value);
  }
  const flagLayer: PlainObject = {};
  if (flags.host !== undefined) setPath(flagLayer, ["server", "host"], flags.host);
  if (flags.port !== undefined) setPath(flagLayer, ["server", "port"], flags.port);
  if (flags.dataDir !== undefined) setPath(flagLayer, ["dataDir"], flags.dataDir);

  const merged = mergeLayers(mergeLayers(fileLayer, environmentLayer), flagLayer);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    // File problems were already reported against the file; report what env/flags added.
    const fileProblemPaths = new Set(fileResult.success ? [] : fileResult.error.issues.map((issue) => issue.path.join(".")));
    const rest = result.error.issues.filter((issue) => !fileProblemPaths.has(issue.path.join(".")));
    problems.push(...formatIssues("environment/flags", rest));
    throw new ConfigError(problems);
  }
  const config = result.data;
  if (config.providers.length === 0) config.providers = providersFromEnvironment(env, notices);
  if (config.routes.length === 0) {
    // Without routes, `default` goes to the first provider's first model (with default timeouts and retries).
    const first = config.providers.find((provider) => provider.models.length > 0);
    if (first) {
      const defaultRoute = routeSchema.parse({ alias: "default", targets: [{ provider: first.id, model: first.models[0] }] });
      config.routes = [defaultRoute];
    } else {
      problems.push("config: routes: no route, and no provider lists a model to make the default route from");
    }
  }
  crossCheck(config, env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  config.dataDir = path.resolve(cwd, config.dataDir);
  if (config.server.tls) config.server.tls = { ...config.server.tls, certFile: path.resolve(cwd, config.server.tls.certFile), keyFile: path.resolve(cwd, config.server.tls.keyFile) };
  return { config, configFile, notices };
}
