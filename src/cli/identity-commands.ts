/**
 * CLI commands for identity, calling the admin API: `user`, `member` and `channel`.
 *
 *   clawfleet user create --issuer I --subject S [--email E] [--platform-role admin|approver|auditor …]
 *   clawfleet user list | show <userId> | delete <userId> | roles <userId> [role …]
 *   clawfleet member add <tenant> <userId> --role owner|member|viewer | list <tenant> | remove <tenant> <userId>
 *   clawfleet channel map <channel> <channelUserId> <tenant> | show <channel> <channelUserId> | list [--tenant T]
 *                     | unmap <channel> <channelUserId>
 */
import { Command, InvalidArgumentError } from "commander";
import { clientFrom, print } from "./admin-client.js";

interface UserView {
  id: string;
  issuer: string;
  subject: string;
  email: string | null;
  platformRoles: string[];
  lastLoginAt: string | null;
  memberships?: MembershipView[];
}

interface MembershipView {
  userId: string;
  tenantId: string;
  role: string;
  source: string;
}

interface ChannelIdentityView {
  channel: string;
  channelUserId: string;
  tenantId: string;
}

const PLATFORM_ROLES = ["admin", "approver", "auditor"];
const TENANT_ROLES = ["owner", "member", "viewer"];

function platformRole(value: string, previous: string[] = []): string[] {
  if (!PLATFORM_ROLES.includes(value)) throw new InvalidArgumentError(`platform role must be one of ${PLATFORM_ROLES.join(", ")}`);
  return [...previous, value];
}

function tenantRole(value: string): string {
  if (!TENANT_ROLES.includes(value)) throw new InvalidArgumentError(`role must be one of ${TENANT_ROLES.join(", ")}`);
  return value;
}

const segment = encodeURIComponent;

function describeUser(user: UserView): string {
  return `${user.id}\t${user.issuer}\t${user.subject}\t${user.email ?? "-"}\t${user.platformRoles.join(",") || "-"}`;
}

/** Adds `user`, `member` and `channel` to the program. */
export function registerIdentityCommands(program: Command): void {
  const user = program.command("user").description("manage users (people who log in through OIDC, Cognito or an ALB)");
  user
    .command("create")
    .requiredOption("--issuer <url>", "the identity provider's issuer, exactly as in its tokens")
    .requiredOption("--subject <sub>", "the user's subject (sub claim)")
    .option("--email <email>", "informational")
    .option("--platform-role <role>", "admin, approver or auditor (repeatable)", platformRole)
    .description("pre-provision a user")
    .action(async (options: { issuer: string; subject: string; email?: string; platformRole?: string[] }, command: Command) => {
      const { client, json } = clientFrom(command);
      const created = await client.request<UserView>("POST", "/users", { issuer: options.issuer, subject: options.subject, ...(options.email ? { email: options.email } : {}), platformRoles: options.platformRole ?? [] });
      print(created, json, () => `user ${created.id} created`);
    });
  user
    .command("list")
    .description("list users")
    .action(async (_options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const result = await client.request<{ users: UserView[] }>("GET", "/users");
      print(result, json, () => (result.users.length === 0 ? "no users" : result.users.map(describeUser).join("\n")));
    });
  user
    .command("show <userId>")
    .description("show a user and their memberships")
    .action(async (userId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const view = await client.request<UserView>("GET", `/users/${segment(userId)}`);
      print(view, json, () => [describeUser(view), ...(view.memberships ?? []).map((membership) => `  ${membership.tenantId}\t${membership.role}\t(${membership.source})`)].join("\n"));
    });
  user
    .command("roles <userId> [roles...]")
    .description("set the user's platform roles (none to clear)")
    .action(async (userId: string, roles: string[], _options: unknown, command: Command) => {
      for (const role of roles) platformRole(role);
      const { client, json } = clientFrom(command);
      const view = await client.request<UserView>("PUT", `/users/${segment(userId)}/platform-roles`, { roles });
      print(view, json, () => `user ${view.id}: ${view.platformRoles.join(", ") || "no platform roles"}`);
    });
  user
    .command("delete <userId>")
    .description("delete a user, their memberships and sessions")
    .action(async (userId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      await client.request("DELETE", `/users/${segment(userId)}`);
      print({ deleted: userId }, json, () => `user ${userId} deleted`);
    });

  const member = program.command("member").description("manage tenant memberships");
  member
    .command("add <tenant> <userId>")
    .requiredOption("--role <role>", "owner, member or viewer", tenantRole)
    .description("add a member to a tenant, or change their role")
    .action(async (tenantId: string, userId: string, options: { role: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const view = await client.request<MembershipView>("PUT", `/tenants/${segment(tenantId)}/members/${segment(userId)}`, { role: options.role });
      print(view, json, () => `${view.userId} is ${view.role} of ${view.tenantId}`);
    });
  member
    .command("list <tenant>")
    .description("list a tenant's members")
    .action(async (tenantId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const result = await client.request<{ members: MembershipView[] }>("GET", `/tenants/${segment(tenantId)}/members`);
      print(result, json, () => (result.members.length === 0 ? "no members" : result.members.map((item) => `${item.userId}\t${item.role}\t${item.source}`).join("\n")));
    });
  member
    .command("remove <tenant> <userId>")
    .description("remove a member from a tenant")
    .action(async (tenantId: string, userId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      await client.request("DELETE", `/tenants/${segment(tenantId)}/members/${segment(userId)}`);
      print({ removed: userId, tenantId }, json, () => `${userId} removed from ${tenantId}`);
    });

  const channel = program.command("channel").description("map chat-channel users to tenants");
  channel
    .command("map <channel> <channelUserId> <tenant>")
    .description("map a chat-channel user (e.g. slack U024BE7LH) to a tenant")
    .action(async (name: string, channelUserId: string, tenantId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const view = await client.request<ChannelIdentityView>("PUT", `/channel-identities/${segment(name)}/${segment(channelUserId)}`, { tenantId });
      print(view, json, () => `${view.channel}:${view.channelUserId} → ${view.tenantId}`);
    });
  channel
    .command("show <channel> <channelUserId>")
    .description("the tenant a chat-channel user belongs to")
    .action(async (name: string, channelUserId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      const view = await client.request<ChannelIdentityView>("GET", `/channel-identities/${segment(name)}/${segment(channelUserId)}`);
      print(view, json, () => view.tenantId);
    });
  channel
    .command("list")
    .option("--tenant <id>", "only this tenant's")
    .description("list chat-channel identities")
    .action(async (options: { tenant?: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const result = await client.request<{ channelIdentities: ChannelIdentityView[] }>("GET", `/channel-identities${options.tenant ? `?tenant=${segment(options.tenant)}` : ""}`);
      print(result, json, () => (result.channelIdentities.length === 0 ? "no channel identities" : result.channelIdentities.map((item) => `${item.channel}\t${item.channelUserId}\t${item.tenantId}`).join("\n")));
    });
  channel
    .command("unmap <channel> <channelUserId>")
    .description("remove a chat-channel user's mapping")
    .action(async (name: string, channelUserId: string, _options: unknown, command: Command) => {
      const { client, json } = clientFrom(command);
      await client.request("DELETE", `/channel-identities/${segment(name)}/${segment(channelUserId)}`);
      print({ unmapped: `${name}:${channelUserId}` }, json, () => `${name}:${channelUserId} unmapped`);
    });
}
