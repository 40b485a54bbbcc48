/**
 * The one schema of Clawfleet's configuration: `clawfleet.yaml`, `CLAWFLEET_*` environment variables and
 * command-line flags all land in this shape, validated in one pass (see `load.ts`). The JSON Schema of the
 * file (`clawfleet.schema.json`) is generated from it by `npm run schema`.
 *
 * Units are in the names: `…Ms` milliseconds, `…Bytes` bytes.
 */
import { z } from "zod";
import { credentialSourceSchema } from "../credentials/schema.js";
import { circuitBreakerSchema, routeSchema, routingPolicySchema } from "../gateway/routing/config.js";
import { approvalsConfigSchema } from "../governance/approvals/config.js";
import { governanceConfigSchema } from "../governance/config.js";
import { authSchema } from "./auth-schema.js";

const port = z.coerce.number().int().min(0).max(65535);
const durationMs = z.coerce.number().int().min(0);
/** A boolean from YAML (`true`) or from an environment variable (`"true"` / `"false"`). */
const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")]);

/** TLS termination by Clawfleet itself: PEM files, re-read when either changes (no restart). */
export const tlsSchema = z
  .object({
    certFile: z.string().min(1).describe("PEM certificate chain (leaf first)"),
    keyFile: z.string().min(1).describe("PEM private key of the certificate"),
    reloadCheckMs: durationMs.min(100).default(2_000).describe("How often the two files are checked for changes (a valid new pair is served without a restart)"),
  })
  .strict();

/**
 * An upstream model provider the gateway may call. Secrets are never written in the file: `apiKey` says where
 * the key comes from (environment, file, AWS Secrets Manager, SSM Parameter Store), `apiKeyEnv` is shorthand
 * for `{source: env, name}`. Bedrock uses the standard AWS credential chain.
 */
export const providerSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "provider id: lowercase letters, digits, '-' or '_'"),
    kind: z
      .enum(["openai", "anthropic", "bedrock", "ollama", "mock"])
      .describe("openai: OpenAI or an OpenAI-compatible server; anthropic; bedrock (Converse); ollama (native /api/chat); mock: built-in canned answers"),
    baseUrl: z.url().optional().describe("openai: base URL including /v1; anthropic: https://api.anthropic.com; ollama: http://127.0.0.1:11434"),
    apiKey: credentialSourceSchema.optional().describe("Where the provider key comes from (rotated without a restart)"),
    apiKeyEnv: z.string().min(1).optional().describe("Shorthand for apiKey: {source: env, name: …}"),
    region: z.string().min(1).optional().describe("bedrock: AWS region (default AWS_REGION)"),
    endpoint: z.url().optional().describe("bedrock: endpoint override (VPC endpoint)"),
    headers: z.record(z.string(), z.string()).optional().describe("Extra headers sent upstream (openai, anthropic)"),
    models: z.array(z.string().min(1)).default([]).describe("Upstream model ids offered directly through /v1/models"),
  })
  .strict();

/** Price of one model in USD per million tokens (overrides or extends the built-in table). */
export const modelPriceSchema = z
  .object({
    inputPerMillion: z.coerce.number().min(0),
    outputPerMillion: z.coerce.number().min(0),
    cacheReadPerMillion: z.coerce.number().min(0).optional(),
    cacheWritePerMillion: z.coerce.number().min(0).optional(),
  })
  .strict();

/** Which requests a limit or budget applies to (all given fields must match; none = every request). */
const scopeMatchSchema = z
  .object({
    tenant: z.string().min(1).optional(),
    profile: z.string().min(1).optional(),
  })
  .strict();

/**
 * A token-bucket rate limit. One bucket per value of `scope` (each key, tenant, model alias or provider): it
 * holds a minute's worth and refills continuously, so bursts up to the per-minute figure are allowed.
 */
export const rateLimitSchema = z
  .object({
    scope: z.enum(["key", "tenant", "model", "provider"]),
    requestsPerMinute: z.coerce.number().int().positive().optional(),
    tokensPerMinute: z.coerce.number().int().positive().optional().describe("Estimated input + max output tokens, corrected by real usage"),
    match: scopeMatchSchema.optional(),
  })
  .strict()
  .refine((limit) => limit.requestsPerMinute !== undefined || limit.tokensPerMinute !== undefined, { message: "a limit needs requestsPerMinute or tokensPerMinute" });

/** A USD budget per tenant or per key for each calendar day or month (in `budgets.timeZone`). */
export const budgetRuleSchema = z
  .object({
    scope: z.enum(["tenant", "key"]),
    period: z.enum(["day", "month"]),
    limitUsd: z.coerce.number().positive(),
    match: scopeMatchSchema.optional(),
    alertThresholds: z.array(z.coerce.number().gt(0).lte(1)).default([0.8, 1]).describe("Fractions of the limit that trigger an alert"),
    alertWebhook: z.url().optional().describe("POSTed a JSON alert when a threshold is crossed"),
    action: z.enum(["block", "fallback"]).default("block"),
    fallbackRoute: z.string().min(1).optional().describe("action fallback: the (cheaper) route used once the budget is spent"),
  })
  .strict()
  .refine((rule) => rule.action !== "fallback" || rule.fallbackRoute !== undefined, { message: "action fallback needs fallbackRoute", path: ["fallbackRoute"] });

/** Governance: default profile and audit trail (docs/governance.md), safety limits of the model gateway (docs/governance.md#safety; sizes are UTF-8 bytes) and human approvals (docs/governance.md#approvals). */
export const governanceSchema = z
  .object({
    ...governanceConfigSchema.shape,
    inputLimits: z
      .object({
        mode: z.enum(["reject", "truncate"]).default("reject").describe("reject: 413 CF_INPUT_TOO_LARGE; truncate: cut over-long texts and mark the cut"),
        maxMessageBytes: z.coerce.number().int().min(1024).default(1_048_576).describe("Largest text of one message (UTF-8 bytes)"),
        maxTotalBytes: z.coerce.number().int().min(1024).default(3_145_728).describe("Largest text of all messages together (UTF-8 bytes)"),
        maxToolArgumentsBytes: z.coerce.number().int().min(256).default(262_144).describe("Largest arguments of one tool call in the history (UTF-8 bytes)"),
        maxTools: z.coerce.number().int().min(1).default(256).describe("Most tools offered in one request"),
      })
      .strict()
      .prefault({}),
    loopGuard: z
      .object({
        enabled: flag.default(true),
        maxIdenticalToolCalls: z.coerce.number().int().min(2).default(5).describe("Stop a run once the same tool call (name + arguments) was made this many times"),
        maxModelCallsPerRun: z.coerce.number().int().min(2).default(50).describe("Stop a run after this many model calls since the last user message"),
      })
      .strict()
      .prefault({}),
    injection: z
      .object({
        enabled: flag.default(true),
        scanMaxBytes: z.coerce.number().int().min(1024).default(262_144).describe("Bytes of each tool result scanned (head and tail halves of longer ones)"),
      })
      .strict()
      .prefault({}),
    approvals: approvalsConfigSchema.prefault({}).describe("Human approvals: deadlines and approver notifications"),
  })
  .strict();

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1).default("127.0.0.1"),
        port: port.default(8420),
        bodyLimitBytes: z.coerce.number().int().min(1024).default(4 * 1024 * 1024).describe("Largest accepted request body"),
        requestTimeoutMs: durationMs.default(300_000).describe("Whole-request timeout against slow clients (0 = none)"),
        advertiseUrl: z.url().optional().describe("This replica's base URL as other replicas reach it (default http://host:port)"),
        replicaSecret: z
          .string()
          .min(32, "replica secret: at least 32 characters")
          .optional()
          .describe("Key (shared by all replicas) signing the assertion of a verified caller sent with a request forwarded to the replica that owns the tenant's runtime; default: derived from the admin token"),
        tls: tlsSchema.optional().describe("Serve HTTPS with these files (reloaded on change); HSTS is sent under TLS"),
        allowInsecureBind: flag.default(false).describe("Allow a non-loopback host without TLS or a metrics token (e.g. behind a TLS-terminating proxy)"),
        metricsToken: z.string().min(24, "metrics token: at least 24 characters").optional().describe("Bearer token required on /metrics (required when binding a non-loopback host)"),
        adminBodyLimitBytes: z.coerce.number().int().min(1024).default(1024 * 1024).describe("Largest accepted request body on the admin API and other non-model routes"),
        maxHeaderBytes: z.coerce.number().int().min(1024).max(1024 * 1024).default(16 * 1024).describe("Largest accepted request header block (larger: 431)"),
        headersTimeoutMs: durationMs.min(1000).default(20_000).describe("Time a client has to send its whole header block (slowloris)"),
        keepAliveTimeoutMs: durationMs.default(5_000).describe("Idle keep-alive connections are closed after this long"),
        trustedProxies: z.array(z.string().min(1)).default([]).describe("Addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (the client address for lockouts and logs)"),
        authLockout: z
          .object({
            enabled: flag.default(true),
            maxFailures: z.coerce.number().int().min(1).default(10).describe("Failed authentications (401) from one source address within windowMs that lock it out"),
            windowMs: durationMs.min(1000).default(60_000),
            lockoutMs: durationMs.min(1000).default(300_000).describe("How long a locked-out address is refused (429 CF_AUTH_LOCKED_OUT)"),
            exemptLoopback: flag.default(true).describe("Never lock out 127.0.0.0/8 and ::1 (local tools, health checks)"),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    dataDir: z.string().min(1).default("./.clawfleet").describe("SQLite database, admin token, tenant runtimes"),
    adminToken: z.string().min(24, "admin token: at least 24 characters").optional(),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    runtime: z
      .object({
        driver: z.enum(["process"]).default("process"),
        sandbox: z.enum(["auto", "bwrap", "none"]).default("auto").describe("auto: bubblewrap when it works, else a loud warning"),
        nodePath: z.string().min(1).optional().describe("Folder holding bin/node (Node >= 24.16) for runtimes"),
        openclawDir: z.string().min(1).optional().describe("Folder holding node_modules/openclaw"),
        startTimeoutMs: durationMs.default(120_000).describe("How long a request waits for a booting runtime"),
        idleTimeoutMs: durationMs.default(900_000).describe("Stop a runtime after this long without requests (0 = never)"),
        stopGraceMs: durationMs.default(10_000),
        restartInitialBackoffMs: durationMs.default(1_000),
        restartMaxBackoffMs: durationMs.default(30_000),
        restartMaxAttempts: z.coerce.number().int().min(0).default(5).describe("Crash restarts before a runtime is marked failed"),
        uidBase: z.coerce.number().int().min(1000).max(4_000_000_000).default(200_000).describe("Per-tenant uid = uidBase + tenant number (when run as root)"),
        modelApi: z.enum(["openai-completions", "anthropic-messages", "openai-responses"]).default("openai-completions").describe("API runtimes use for their model calls to the gateway"),
        process: z
          .object({
            launcherSocket: z
              .string()
              .startsWith("/", "launcherSocket: an absolute path")
              .optional()
              .describe("Unix socket of `clawfleet runtime-host`: when set, that separate process spawns the sandboxed runtimes (serve connects to it; runtime-host listens on it). Unset: serve spawns them itself"),
          })
          .strict()
          .prefault({})
          .describe("The process driver"),
      })
      .strict()
      .refine((runtime) => runtime.process.launcherSocket === undefined || runtime.sandbox !== "none", { message: "runtime.process.launcherSocket runs sandboxed runtimes only: it cannot be combined with runtime.sandbox: none", path: ["sandbox"] })
      .prefault({}),
    providers: z.array(providerSchema).default([]),
    routes: z.array(routeSchema).default([]).describe("Model aliases callers use, each with ordered targets (fallbacks, retries, timeouts)"),
    circuitBreaker: circuitBreakerSchema.prefault({}),
    policies: routingPolicySchema.prefault({}),
    pricing: z.record(z.string(), modelPriceSchema).default({}).describe("USD per million tokens by model id or <provider>/<model>"),
    limits: z.array(rateLimitSchema).default([]),
    budgets: z
      .object({
        timeZone: z.string().min(1).default("UTC").describe("IANA time zone of budget days and months"),
        rules: z.array(budgetRuleSchema).default([]),
      })
      .strict()
      .prefault({}),
    cache: z
      .object({
        ttlMs: durationMs.default(300_000),
        tenants: z.array(z.string()).default([]).describe("Tenants whose requests are cached by default (others opt in per request)"),
        maxEntryBytes: z.coerce.number().int().positive().default(1_048_576),
      })
      .strict()
      .prefault({}),
    governance: governanceSchema.prefault({}),
    databaseUrl: z.string().min(1).optional().describe("postgres://… for PostgreSQL; default SQLite in the data dir"),
    redisUrl: z.string().min(1).optional().describe("redis://… for shared state across replicas; default in memory"),
    redisKeyPrefix: z.string().min(1).default("clawfleet:").describe("Prefix of every Redis key (several deployments can share one Redis)"),
    auth: authSchema.prefault({}).describe("Identity: OIDC bearer tokens, AWS ALB headers, browser login, role mapping (src/config/auth-schema.ts)"),
  })
  .strict();

/** Fully validated configuration (defaults applied). */
export type ClawfleetConfig = z.infer<typeof configSchema>;
/** What a config file may contain (everything optional). */
export type ClawfleetConfigInput = z.input<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;

/** JSON Schema (draft 2020-12) of `clawfleet.yaml`, generated from {@link configSchema}. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
  return { ...schema, $id: "https://clawfleet.dev/schemas/clawfleet.schema.json", title: "clawfleet.yaml" };
}
