/**
 * `clawfleet approvals list|show|approve|reject` and `clawfleet grants list|revoke`: the approval inbox through
 * the admin API. Decisions are structured flags, never free text to interpret.
 */
import { Command, InvalidArgumentError } from "commander";
import type { AdminClient } from "./admin-client.js";

interface RequestView {
  id: string;
  tenantId: string;
  tool: string;
  arguments: unknown;
  risk: string;
  reason: string;
  status: string;
  source: string;
  sessionId: string;
  createdAt: string;
  deadlineAt: string;
  decision: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  notifications?: Array<{ channel: string; attempts: number; deliveredAt: string | null; lastError: string | null }>;
}

interface GrantView {
  id: string;
  tenantId: string;
  tool: string;
  argumentsHash: string | null;
  argumentsPattern: string | null;
  sessionId: string | null;
  expiresAt: string | null;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
}

/** What the CLI's main file gives each command: an admin client and how to print. */
export type ClientFactory = (command: Command) => { client: AdminClient; json: boolean };
export type Printer = (value: unknown, json: boolean, human: () => string) => void;

/** Parses a duration such as `90s`, `15m`, `2h`, `1d` or plain milliseconds into ms (at most 24 h). */
export function parseDuration(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError("duration: a number with ms, s, m, h or d (e.g. 30m)");
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? "ms") as "ms" | "s" | "m" | "h" | "d"];
  const ms = Number(match[1]) * unit;
  if (ms < 1 || ms > 86_400_000) throw new InvalidArgumentError("duration: at most 24 h");
  return ms;
}

const brief = (value: unknown) => {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
};

function describeRequest(view: RequestView): string {
  return [
    `${view.id}  ${view.status}${view.decision ? ` (${view.decision} by ${view.decidedBy}${view.decisionReason ? `: ${view.decisionReason}` : ""})` : ""}`,
    `tenant ${view.tenantId}  session ${view.sessionId || "-"}  source ${view.source}`,
    `tool ${view.tool}  risk ${view.risk}`,
    `arguments ${JSON.stringify(view.arguments)}`,
    `reason ${view.reason}`,
    `created ${view.createdAt}  deadline ${view.deadlineAt}`,
    ...(view.notifications ?? []).map((item) => `notify ${item.channel}: ${item.deliveredAt ? `delivered ${item.deliveredAt}` : `${item.attempts} attempts${item.lastError ? `, last error: ${item.lastError}` : ""}`}`),
  ].join("\n");
}

/** Adds the `approvals` and `grants` command groups to `program`. */
export function addApprovalCommands(program: Command, clientFrom: ClientFactory, print: Printer): void {
  const approvals = program.command("approvals").description("permission requests awaiting (or past) a human decision");
  approvals
    .command("list")
    .description("list permission requests, newest first (pending by default)")
    .option("--status <status>", "pending, approved, rejected, expired or all", "pending")
    .option("--tenant <id>", "one tenant only")
    .option("--limit <n>", "at most this many", "50")
    .action(async (options: { status: string; tenant?: string; limit: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const query = new URLSearchParams({ limit: options.limit, ...(options.status !== "all" ? { status: options.status } : {}), ...(options.tenant ? { tenantId: options.tenant } : {}) });
      const result = await client.request<{ approvals: RequestView[] }>("GET", `/approvals?${query.toString()}`);
      print(result, json, () => (result.approvals.length === 0 ? "no permission requests" : result.approvals.map((item) => `${item.id}\t${item.status}\t${item.tenantId}\t${item.tool}\t${item.risk}\t${brief(item.arguments)}\tdeadline ${item.deadlineAt}`).join("\n")));
    });
  approvals
    .command("show <id>")
    .description("show one permission request and its notification deliveries")
    .action(async (id: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const view = await client.request<RequestView>("GET", `/approvals/${encodeURIComponent(id)}`);
      print(view, json, () => describeRequest(view));
    });
  approvals
    .command("approve <id>")
    .description("approve: once (default), for a time (--for 30m [--pattern 'ls *']), or permanently (--permanently)")
    .option("--for <duration>", "grant the tool for this long (at most 24 h), e.g. 30m", parseDuration)
    .option("--pattern <pattern>", "with --for: only calls whose command/path/url matches (* and ? never match shell metacharacters)")
    .option("--permanently", "allow the tool in the tenant's profile (audited)")
    .option("--reason <text>", "a note kept with the decision")
    .action(async (id: string, options: { for?: number; pattern?: string; permanently?: boolean; reason?: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      if (options.permanently && options.for !== undefined) throw new InvalidArgumentError("--permanently and --for exclude each other");
      if (options.pattern !== undefined && options.for === undefined) throw new InvalidArgumentError("--pattern needs --for");
      const body = {
        decision: options.permanently ? "approve_permanently" : options.for !== undefined ? "approve_for" : "approve_once",
        ...(options.for !== undefined ? { durationMs: options.for } : {}),
        ...(options.pattern !== undefined ? { argumentsPattern: options.pattern } : {}),
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
      };
      const view = await client.request<RequestView>("POST", `/approvals/${encodeURIComponent(id)}/decision`, body);
      print(view, json, () => `${view.id} approved (${view.decision})`);
    });
  approvals
    .command("reject <id>")
    .description("reject with a reason")
    .requiredOption("--reason <text>", "why (shown in the audit trail)")
    .action(async (id: string, options: { reason: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const view = await client.request<RequestView>("POST", `/approvals/${encodeURIComponent(id)}/decision`, { decision: "reject", reason: options.reason });
      print(view, json, () => `${view.id} rejected: ${view.decisionReason ?? ""}`);
    });

  const grants = program.command("grants").description("permissions granted by approvals");
  grants
    .command("list")
    .description("list grants, newest first")
    .option("--tenant <id>", "one tenant only")
    .option("--active", "only usable grants (not revoked, expired or used up)")
    .action(async (options: { tenant?: string; active?: boolean }, command: Command) => {
      const { client, json } = clientFrom(command);
      const query = new URLSearchParams({ active: options.active ? "true" : "false", ...(options.tenant ? { tenantId: options.tenant } : {}) });
      const result = await client.request<{ grants: GrantView[] }>("GET", `/grants?${query.toString()}`);
      print(result, json, () =>
        result.grants.length === 0
          ? "no grants"
          : result.grants
              .map((item) => `${item.id}\t${item.tenantId}\t${item.tool}\t${item.argumentsPattern ?? (item.argumentsHash ? `hash ${item.argumentsHash.slice(0, 12)}…` : "any arguments")}\tuses ${item.uses}/${item.maxUses ?? "∞"}\t${item.revokedAt ? `revoked ${item.revokedAt}` : item.expiresAt ? `expires ${item.expiresAt}` : "no expiry"}`)
              .join("\n"),
      );
    });
  grants
    .command("revoke <id>")
    .description("revoke a grant")
    .action(async (id: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      await client.request("DELETE", `/grants/${encodeURIComponent(id)}`);
      print({ revoked: id }, json, () => `grant ${id} revoked`);
    });
}
