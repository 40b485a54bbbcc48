/**
 * The one schema of Clawfleet's configuration: `clawfleet.yaml`, `CLAWFLEET_*` environment variables and
 * command-line flags all land in this shape, validated in one pass (see `load.ts`). The JSON Schema of the
 * file (`clawfleet.schema.json`) is generated from it by `npm run schema`.
 *
 * Units are in the names: `…Ms` milliseconds, `…Bytes` bytes.
 */
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
const durationMs = z.coerce.number().int().min(0);

/** An upstream model provider the gateway may call. Secrets are referenced by env var name, not inlined. */
export const providerSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "provider id: lowercase letters, digits, '-' or '_'"),
    kind: z.enum(["openai", "mock"]).describe("openai: OpenAI or an OpenAI-compatible server; mock: built-in canned answers"),
    baseUrl: z.url().optional().describe("Base URL including /v1, e.g. https://api.openai.com/v1"),
    apiKey: z.string().min(1).optional().describe("Literal API key (prefer apiKeyEnv)"),
    apiKeyEnv: z.string().min(1).optional().describe("Name of the environment variable holding the API key"),
    models: z.array(z.string().min(1)).default([]).describe("Upstream model ids offered through /v1/models"),
  })
  .strict();

/** A model alias callers (and runtimes) use, routed to one provider's model. */
export const modelRouteSchema = z
  .object({
    alias: z.string().min(1).regex(/^[A-Za-z0-9._:/-]+$/, "model alias: letters, digits and . _ : / -"),
    provider: z.string().min(1),
    model: z.string().min(1).describe("The provider's own model id"),
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
      })
      .strict()
      .prefault({}),
    providers: z.array(providerSchema).default([]),
    models: z.array(modelRouteSchema).default([]),
  })
  .strict();

/** Fully validated configuration (defaults applied). */
export type ClawfleetConfig = z.infer<typeof configSchema>;
/** What a config file may contain (everything optional). */
export type ClawfleetConfigInput = z.input<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ModelRouteConfig = z.infer<typeof modelRouteSchema>;

/** JSON Schema (draft 2020-12) of `clawfleet.yaml`, generated from {@link configSchema}. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
  return { ...schema, $id: "https://clawfleet.dev/schemas/clawfleet.schema.json", title: "clawfleet.yaml" };
}
