#!/usr/bin/env node
/**
 * `clawfleet` — the command line. `serve` runs the platform; every other command calls the admin API.
 * Exit codes: 0 success, 1 failure reported by the API or the connection, 2 usage or configuration error.
 */
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadConfig } from "../config/load.js";
import { startClawfleet, VERSION } from "../app.js";
import { createLogger } from "../observability/logger.js";
import { closeOnSignals } from "./shutdown.js";
import { AdminApiError, clientFrom, print, type ClientFlags } from "./admin-client.js";
import { doctorCommand } from "./doctor.js";
import { addApprovalCommands } from "./approval-commands.js";
import { registerGovernanceCommands } from "./governance-commands.js";
import { registerIdentityCommands } from "./identity-commands.js";
import { registerRuntimeHostCommand } from "./runtime-host.js";

function parseScope(value: string, previous: string[] = []): string[] {
  if (value !== "chat" && value !== "model") throw new InvalidArgumentError('scope must be "chat" or "model"');
  return [...previous, value];
}

async function serve(flags: { config?: string; host?: string; port?: string; dataDir?: string }): Promise<void> {
  const loaded = loadConfig({ flags });
  const logger = createLogger(loaded.config.logLevel);
  for (const notice of loaded.notices) {
    if (notice.level === "warn") {
      process.stderr.write(`\n${"!".repeat(100)}\n!! ${notice.message}\n${"!".repeat(100)}\n\n`);
      logger.warn(notice.message);
    } else logger.info(notice.message);
  }
  const running = await startClawfleet(loaded.config, logger);
  if (!running.deps.driver.sandboxed) {
    process.stderr.write(`\n${"!".repeat(100)}\n!! RUNTIMES ARE NOT ISOLATED: bubblewrap is unavailable or disabled (runtime.sandbox). Tenant runtimes run as\n!! plain processes with the host's network and files, on loopback ports. Install bubblewrap for any shared use.\n${"!".repeat(100)}\n\n`);
  }
  if (running.adminToken.source === "generated") {
    process.stderr.write(`\nAdmin token (shown once; also stored in ${running.adminToken.filePath}, mode 0600):\n  ${running.adminToken.token}\n\n`);
  }
  process.stderr.write(`Clawfleet ${VERSION} listening on ${running.url} (data dir ${loaded.config.dataDir})\n`);
  // Bounded: runtimes get their grace time, then the process exits even if something hangs.
  closeOnSignals(() => running.close(), { logger, what: "shutdown", forceExitMs: loaded.config.runtime.stopGraceMs + 20_000 });
}

interface TenantView {
  id: string;
  profile: string;
  createdAt: string;
  runtime: { state: string; since: string; restarts: number; lastError: string | null; pid: number | null; sandboxed: boolean };
}

function describeRuntime(runtime: TenantView["runtime"]): string {
  return `${runtime.state} since ${runtime.since}${runtime.pid ? ` pid ${runtime.pid}` : ""}${runtime.restarts ? ` restarts ${runtime.restarts}` : ""}${runtime.lastError ? ` (last error: ${runtime.lastError})` : ""}${runtime.sandboxed ? "" : " [NOT SANDBOXED]"}`;
}

export function buildProgram(): Command {
  const program = new Command("clawfleet").version(VERSION).description("Run OpenClaw for a whole team or many customers, safely.");
  program
    .option("--url <url>", "Clawfleet base URL for admin commands (env CLAWFLEET_URL)")
    .option("--admin-token <token>", "admin token (env CLAWFLEET_ADMIN_TOKEN; default: <data-dir>/admin-token)")
    .option("--data-dir <dir>", "data directory (env CLAWFLEET_DATA_DIR, default ./.clawfleet)")
    .option("--json", "print JSON");

  program
    .command("serve")
    .description("run Clawfleet (admin API, model gateway, ingress) with embedded defaults")
    .option("-c, --config <file>", "config file (default ./clawfleet.yaml if present; env CLAWFLEET_CONFIG)")
    .option("--host <host>", "listen address (default 127.0.0.1)")
    .option("-p, --port <port>", "listen port (default 8420)")
    .action(async (options: { config?: string; host?: string; port?: string }, command: Command) => {
      await serve({ ...options, dataDir: command.optsWithGlobals<ClientFlags>().dataDir });
    });

  registerRuntimeHostCommand(program);

  program
    .command("doctor")
    .description("check this deployment (bind, TLS, permissions, sandbox, runtimes) and print a fix for each problem; works without the server")
    .option("-c, --config <file>", "config file (default ./clawfleet.yaml if present; env CLAWFLEET_CONFIG)")
    .action(async (options: { config?: string }, command: Command) => {
      process.exitCode = await doctorCommand({ ...options, ...command.optsWithGlobals<ClientFlags>() }, process.env, process.stdout);
    });

  const tenant = program.command("tenant").description("manage tenants");
  tenant
    .command("create <id>")
    .option("--profile <name>", "permission profile")
    .description("create a tenant and print its API key (shown once)")
    .action(async (id: string, options: { profile?: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const created = await client.request<{ id: string; apiKey: string; keyId: string; profile: string }>("POST", "/tenants", { id, ...(options.profile ? { profile: options.profile } : {}) });
      print(created, json, () => `tenant ${created.id} created (profile ${created.profile})\nAPI key (shown once, keep it safe): ${created.apiKey}`);
    });
  tenant
    .command("list")
    .description("list tenants and their runtimes' states")
    .action(async (_options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const result = await client.request<{ tenants: TenantView[] }>("GET", "/tenants");
      print(result, json, () => (result.tenants.length === 0 ? "no tenants" : result.tenants.map((item) => `${item.id}\t${item.profile}\t${item.runtime.state}`).join("\n")));
    });
  tenant
    .command("show <id>")
    .description("show a tenant and its runtime")
    .action(async (id: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const view = await client.request<TenantView>("GET", `/tenants/${encodeURIComponent(id)}`);
      print(view, json, () => `tenant ${view.id}\nprofile ${view.profile}\ncreated ${view.createdAt}\nruntime ${describeRuntime(view.runtime)}`);
    });
  tenant
    .command("delete <id>")
    .description("delete a tenant, its keys and its runtime's files")
    .action(async (id: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      await client.request("DELETE", `/tenants/${encodeURIComponent(id)}`);
      print({ deleted: id }, json, () => `tenant ${id} deleted`);
    });

  registerGovernanceCommands(program, { tenant, clientFrom, print });

  const key = program.command("key").description("manage API keys");
  key
    .command("create <tenant>")
    .description("create an API key for a tenant (shown once)")
    .option("--scope <scope>", "chat (ingress) or model (model gateway); repeatable", parseScope)
    .option("--expires-at <time>", "RFC 3339 expiry time")
    .action(async (tenantId: string, options: { scope?: string[]; expiresAt?: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const created = await client.request<{ id: string; key: string; scopes: string[] }>("POST", `/tenants/${encodeURIComponent(tenantId)}/keys`, {
        scopes: options.scope ?? ["chat"],
        ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
      });
      print(created, json, () => `key ${created.id} (${created.scopes.join(", ")}) created\nkey (shown once): ${created.key}`);
    });
  key
    .command("list <tenant>")
    .description("list a tenant's keys")
    .action(async (tenantId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const result = await client.request<{ keys: Array<{ id: string; kind: string; scopes: string[]; revokedAt: string | null; expiresAt: string | null }> }>("GET", `/tenants/${encodeURIComponent(tenantId)}/keys`);
      print(result, json, () => result.keys.map((item) => `${item.id}\t${item.kind}\t${item.scopes.join(",")}\t${item.revokedAt ? `revoked ${item.revokedAt}` : item.expiresAt ? `expires ${item.expiresAt}` : "active"}`).join("\n"));
    });
  key
    .command("revoke <tenant> <keyId>")
    .description("revoke a key")
    .action(async (tenantId: string, keyId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      await client.request("DELETE", `/tenants/${encodeURIComponent(tenantId)}/keys/${encodeURIComponent(keyId)}`);
      print({ revoked: keyId }, json, () => `key ${keyId} revoked`);
    });

  program
    .command("usage")
    .description("usage and cost report from request records (UTC days)")
    .requiredOption("--from <day>", "first day, YYYY-MM-DD")
    .requiredOption("--to <day>", "last day, YYYY-MM-DD (inclusive)")
    .option("--tenant <id>", "one tenant only")
    .option("--group-by <columns>", "comma-separated: tenant,key,provider,model,day", "tenant,day")
    .option("--csv", "print CSV")
    .action(async (options: { from: string; to: string; tenant?: string; groupBy: string; csv?: boolean }, command: Command) => {
      const { client, json } = clientFrom(command);
      const query = new URLSearchParams({ from: options.from, to: options.to, groupBy: options.groupBy, format: options.csv ? "csv" : "json", ...(options.tenant ? { tenant: options.tenant } : {}) });
      const result = await client.request<string | { rows: Array<Record<string, string | number | null>> }>("GET", `/usage?${query.toString()}`);
      if (typeof result === "string") {
        process.stdout.write(result);
        return;
      }
      print(result, json, () => (result.rows.length === 0 ? "no usage" : result.rows.map((row) => Object.values(row).join("\t")).join("\n")));
    });

  const runtime = program.command("runtime").description("control a tenant's runtime");
  runtime
    .command("start <tenant>")
    .option("--no-wait", "return at once instead of waiting until ready")
    .description("start the runtime (waits until it is ready)")
    .action(async (tenantId: string, options: { wait: boolean }, command: Command) => {
      const { client, json } = clientFrom(command);
      const status = await client.request<TenantView["runtime"]>("POST", `/tenants/${encodeURIComponent(tenantId)}/runtime/start?wait=${options.wait ? "true" : "false"}`);
      print(status, json, () => `runtime of ${tenantId}: ${describeRuntime(status)}`);
    });
  runtime
    .command("stop <tenant>")
    .description("stop the runtime gracefully")
    .action(async (tenantId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const status = await client.request<TenantView["runtime"]>("POST", `/tenants/${encodeURIComponent(tenantId)}/runtime/stop`);
      print(status, json, () => `runtime of ${tenantId}: ${describeRuntime(status)}`);
    });
  runtime
    .command("status <tenant>")
    .description("show the runtime's state")
    .action(async (tenantId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const status = await client.request<TenantView["runtime"]>("GET", `/tenants/${encodeURIComponent(tenantId)}/runtime`);
      print(status, json, () => `runtime of ${tenantId}: ${describeRuntime(status)}`);
    });
  runtime
    .command("logs <tenant>")
    .option("-n, --lines <n>", "how many lines", "200")
    .description("print the last lines of the runtime's log")
    .action(async (tenantId: string, options: { lines: string }, command: Command) => {
      const { client } = clientFrom(command);
      const text = await client.request<string>("GET", `/tenants/${encodeURIComponent(tenantId)}/runtime/logs?lines=${encodeURIComponent(options.lines)}`);
      process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    });
  addApprovalCommands(program, clientFrom, print);
  registerIdentityCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`clawfleet: ${error.code}: ${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof AdminApiError) {
      process.stderr.write(`clawfleet: ${error.code}: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`clawfleet: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}
