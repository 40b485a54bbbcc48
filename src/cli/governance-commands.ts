/**
 * CLI commands of governance (registered by `main.ts`): `profile list|show|create|update|versions|delete`,
 * `tenant set-profile`, `audit list|export`. Like every command but `serve`, they call the admin API.
 */
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { Command, InvalidArgumentError } from "commander";
import { parse as parseYaml } from "yaml";
import type { AdminClient } from "./admin-client.js";

/** What `main.ts` lends to these commands. */
export interface GovernanceCliContext {
  /** The `tenant` command, to add `set-profile` to. */
  tenant: Command;
  clientFrom(command: Command): { client: AdminClient; json: boolean };
  print(value: unknown, json: boolean, human: () => string): void;
}

interface ProfileView {
  name: string;
  version: number;
  builtIn?: boolean;
  description: string;
  tools: { allow: string[]; deny: string[]; approval: string[] };
  paths: { roots: string[] };
  exec: { allow: string[]; deny: string[]; defaultAction: string };
  injection: { action: string };
  updatedBy?: string;
  updatedAt?: string;
}

interface AuditEventView {
  id: string;
  type: string;
  tenantId: string | null;
  actor: string;
  requestId: string | null;
  at: string;
  details: Record<string, unknown>;
}

/** Reads a profile body from a JSON or YAML file (`-` = stdin). */
function readProfileFile(file: string): unknown {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw new InvalidArgumentError(`${file} is neither JSON nor YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function describeProfile(profile: ProfileView): string {
  const list = (values: string[]) => (values.length === 0 ? "-" : values.join(", "));
  return [
    `profile ${profile.name} version ${profile.version}${profile.builtIn ? " (built-in preset)" : ""}`,
    profile.description ? `  ${profile.description}` : null,
    `tools allow:    ${list(profile.tools.allow)}`,
    `tools deny:     ${list(profile.tools.deny)}`,
    `tools approval: ${list(profile.tools.approval)}`,
    `paths roots:    ${list(profile.paths.roots)}`,
    `exec allow:     ${list(profile.exec.allow)}`,
    `exec deny:      ${list(profile.exec.deny)}`,
    `exec default:   ${profile.exec.defaultAction}`,
    `injection:      ${profile.injection.action}`,
    profile.updatedAt ? `updated ${profile.updatedAt}${profile.updatedBy ? ` by ${profile.updatedBy}` : ""}` : null,
  ]
    .filter((line) => line !== null)
    .join("\n");
}

interface AuditFlags {
  tenant?: string;
  type?: string;
  actor?: string;
  requestId?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: string;
  order?: string;
}

function auditQuery(flags: AuditFlags, withPaging: boolean): string {
  const query = new URLSearchParams();
  if (flags.tenant) query.set("tenantId", flags.tenant);
  if (flags.type) query.set("type", flags.type);
  if (flags.actor) query.set("actor", flags.actor);
  if (flags.requestId) query.set("requestId", flags.requestId);
  if (flags.from) query.set("from", flags.from);
  if (flags.to) query.set("to", flags.to);
  if (flags.order) query.set("order", flags.order);
  if (withPaging && flags.cursor) query.set("cursor", flags.cursor);
  if (withPaging && flags.limit) query.set("limit", flags.limit);
  const text = query.toString();
  return text === "" ? "" : `?${text}`;
}

function withAuditFilters(command: Command): Command {
  return command
    .option("--tenant <id>", "events of one tenant")
    .option("--type <type>", "event type (agent_invocation, profile_changed, key_created, …)")
    .option("--actor <actor>", "who did it (admin, key:<keyId>, approver:<name>, system)")
    .option("--request-id <id>", "events of one request")
    .option("--from <time>", "at or after (RFC 3339 or epoch ms)")
    .option("--to <time>", "before (RFC 3339 or epoch ms)");
}

/** Adds the governance commands to `program`. */
export function registerGovernanceCommands(program: Command, context: GovernanceCliContext): void {
  const { clientFrom, print } = context;
  const profile = program.command("profile").description("manage permission profiles");
  profile
    .command("list")
    .description("list built-in presets and stored profiles")
    .action(async (_options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const result = await client.request<{ profiles: ProfileView[] }>("GET", "/profiles");
      print(result, json, () => result.profiles.map((item) => `${item.name}\tv${item.version}\t${item.builtIn ? "preset" : "stored"}\t${item.description}`).join("\n"));
    });
  profile
    .command("show <name>")
    .description("show a profile")
    .action(async (name: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const view = await client.request<ProfileView>("GET", `/profiles/${encodeURIComponent(name)}`);
      print(view, json, () => describeProfile(view));
    });
  profile
    .command("create")
    .description("create a profile from a JSON or YAML file")
    .requiredOption("-f, --file <file>", "profile body (JSON or YAML; - for stdin)")
    .action(async (options: { file: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const created = await client.request<ProfileView>("POST", "/profiles", readProfileFile(options.file));
      print(created, json, () => `profile ${created.name} created (version ${created.version})`);
    });
  profile
    .command("update <name>")
    .description("replace a stored profile with a new version from a JSON or YAML file")
    .requiredOption("-f, --file <file>", "profile body (JSON or YAML; - for stdin)")
    .option("--expected-version <n>", "refuse (409) unless the profile is still at this version")
    .action(async (name: string, options: { file: string; expectedVersion?: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const query = options.expectedVersion ? `?expectedVersion=${encodeURIComponent(options.expectedVersion)}` : "";
      const updated = await client.request<ProfileView>("PUT", `/profiles/${encodeURIComponent(name)}${query}`, readProfileFile(options.file));
      print(updated, json, () => `profile ${updated.name} updated (version ${updated.version})`);
    });
  profile
    .command("versions <name>")
    .description("list every version of a profile, newest first")
    .action(async (name: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const result = await client.request<{ versions: ProfileView[] }>("GET", `/profiles/${encodeURIComponent(name)}/versions`);
      print(result, json, () => result.versions.map((item) => `v${item.version}\t${item.updatedAt ?? "-"}\t${item.updatedBy ?? "-"}`).join("\n"));
    });
  profile
    .command("delete <name>")
    .description("delete a stored profile (refused while tenants use it)")
    .action(async (name: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      await client.request("DELETE", `/profiles/${encodeURIComponent(name)}`);
      print({ deleted: name }, json, () => `profile ${name} deleted`);
    });

  context.tenant
    .command("set-profile <tenant> <profile>")
    .description("assign a permission profile to a tenant (its running runtime restarts with the new policy)")
    .action(async (tenantId: string, profileName: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const view = await client.request<{ id: string; profile: string }>("PUT", `/tenants/${encodeURIComponent(tenantId)}/profile`, { profile: profileName });
      print(view, json, () => `tenant ${view.id} now uses profile ${view.profile}`);
    });

  const audit = program.command("audit").description("read the audit trail");
  withAuditFilters(audit.command("list").description("list audit events, newest first (one page; --cursor for the next)"))
    .option("--cursor <id>", "continue after this event id (the nextCursor printed before)")
    .option("--limit <n>", "events per page (1-1000)", "100")
    .option("--order <order>", "desc (newest first) or asc", "desc")
    .action(async (options: AuditFlags, command: Command) => {
      const { client, json } = clientFrom(command);
      const result = await client.request<{ events: AuditEventView[]; nextCursor: string | null }>("GET", `/audit${auditQuery(options, true)}`);
      print(result, json, () =>
        [
          ...result.events.map((event) => `${event.id}\t${event.at}\t${event.type}\t${event.tenantId ?? "-"}\t${event.actor}\t${event.requestId ?? "-"}\t${JSON.stringify(event.details)}`),
          ...(result.nextCursor ? [`(more: --cursor ${result.nextCursor})`] : []),
        ].join("\n"),
      );
    });
  withAuditFilters(audit.command("export").description("print every matching event as NDJSON, oldest first"))
    .option("--order <order>", "asc (oldest first) or desc", "asc")
    .action(async (options: AuditFlags, command: Command) => {
      const { client } = clientFrom(command);
      const body = await client.stream(`/audit/export${auditQuery(options, false)}`);
      await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), process.stdout, { end: false });
    });
}
