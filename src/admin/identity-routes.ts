/**
 * Admin API routes for identity (registered inside the `/admin/v1` scope, so they share its authentication
 * and OpenAPI document): users and their platform roles, tenant memberships, chat-channel identities.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { ClawfleetError } from "../contracts/errors.js";
import { PLATFORM_ROLES, TENANT_ROLES, type ChannelIdentityRecord, type IdentityRepository, type MembershipRecord, type PlatformRole, type TenantRole, type UserRecord } from "../contracts/identity.js";
import type { TenantService } from "../control/tenants.js";

const platformRole = z.enum(PLATFORM_ROLES as [PlatformRole, ...PlatformRole[]]);
const tenantRole = z.enum(TENANT_ROLES as [TenantRole, ...TenantRole[]]);
const channelName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "channel: lowercase letters, digits, '-' or '_' (e.g. slack, telegram)");
const channelUserId = z.string().min(1).max(255);

const userView = z.object({
  id: z.string(),
  issuer: z.string(),
  subject: z.string(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  platformRoles: z.array(platformRole),
  createdAt: z.string(),
  lastLoginAt: z.string().nullable(),
});
const membershipView = z.object({ userId: z.string(), tenantId: z.string(), role: tenantRole, source: z.enum(["manual", "claims"]), createdAt: z.string() });
const channelIdentityView = z.object({ channel: z.string(), channelUserId: z.string(), tenantId: z.string(), createdAt: z.string() });

function viewUser(user: UserRecord): z.infer<typeof userView> {
  return {
    id: user.id,
    issuer: user.issuer,
    subject: user.subject,
    email: user.email,
    displayName: user.displayName,
    platformRoles: user.platformRoles,
    createdAt: new Date(user.createdAtMs).toISOString(),
    lastLoginAt: user.lastLoginAtMs === null ? null : new Date(user.lastLoginAtMs).toISOString(),
  };
}

function viewMembership(membership: MembershipRecord): z.infer<typeof membershipView> {
  return { userId: membership.userId, tenantId: membership.tenantId, role: membership.role, source: membership.source, createdAt: new Date(membership.createdAtMs).toISOString() };
}

function viewChannelIdentity(record: ChannelIdentityRecord): z.infer<typeof channelIdentityView> {
  return { channel: record.channel, channelUserId: record.channelUserId, tenantId: record.tenantId, createdAt: new Date(record.createdAtMs).toISOString() };
}

/** Dependencies of {@link identityAdminRoutes}. */
export interface IdentityAdminDependencies {
  identity: IdentityRepository;
  tenants: TenantService;
  now: () => number;
  /**
   * Called after a tenant's memberships changed (member added, role changed, member removed, user deleted), so the
   * tenant's running runtime gets its new WebSocket identity scopes (`src/runtime/identity-sync.ts`). Must not throw.
   */
  onMembershipsChanged?: (tenantId: string) => Promise<void>;
}

/** Returns the registration function for `AdminDependencies.extraRoutes`. */
export function identityAdminRoutes(dependencies: IdentityAdminDependencies): (scope: FastifyInstance) => void {
  const { identity } = dependencies;
  const requireUser = async (id: string): Promise<UserRecord> => {
    const user = await identity.getUser(id);
    if (!user) throw new ClawfleetError("CF_USER_NOT_FOUND", `user "${id}" does not exist`, { details: { userId: id } });
    return user;
  };

  return function registerIdentityAdminRoutes(scope) {
    const api = scope.withTypeProvider<ZodTypeProvider>();
    const userParams = z.object({ userId: z.string().min(1) });
    const memberParams = z.object({ id: z.string().min(1), userId: z.string().min(1) });
    const channelParams = z.object({ channel: channelName, channelUserId });

    api.post(
      "/users",
      {
        schema: {
          summary: "Pre-provision a user (issuer + subject as the identity provider will present them)",
          body: z.object({ issuer: z.string().min(1).max(512), subject: z.string().min(1).max(255), email: z.string().max(320).optional(), displayName: z.string().max(255).optional(), platformRoles: z.array(platformRole).default([]) }).strict(),
          response: { 201: userView },
        },
      },
      async (request, reply) => {
        const user = await identity.createUser(request.body);
        request.log.info({ userId: user.id }, "user created");
        return reply.code(201).send(viewUser(user));
      },
    );

    api.get("/users", { schema: { summary: "List users", response: { 200: z.object({ users: z.array(userView) }) } } }, async () => ({ users: (await identity.listUsers()).map(viewUser) }));

    api.get(
      "/users/:userId",
      { schema: { summary: "Show a user and their tenant memberships", params: userParams, response: { 200: userView.extend({ memberships: z.array(membershipView) }) } } },
      async (request) => {
        const user = await requireUser(request.params.userId);
        return { ...viewUser(user), memberships: (await identity.listMemberships({ userId: user.id })).map(viewMembership) };
      },
    );

    api.put(
      "/users/:userId/platform-roles",
      { schema: { summary: "Replace the user's platform roles (admin, approver, auditor)", params: userParams, body: z.object({ roles: z.array(platformRole) }).strict(), response: { 200: userView } } },
      async (request) => {
        await requireUser(request.params.userId);
        const user = await identity.setPlatformRoles(request.params.userId, request.body.roles);
        request.log.info({ userId: request.params.userId, roles: request.body.roles }, "platform roles changed");
        return viewUser(user as UserRecord);
      },
    );

    api.delete("/users/:userId", { schema: { summary: "Delete a user, their memberships and sessions", params: userParams, response: { 204: z.null() } } }, async (request, reply) => {
      const memberships = await identity.listMemberships({ userId: request.params.userId });
      if (!(await identity.deleteUser(request.params.userId))) throw new ClawfleetError("CF_USER_NOT_FOUND", `user "${request.params.userId}" does not exist`);
      request.log.info({ userId: request.params.userId }, "user deleted");
      for (const membership of memberships) await dependencies.onMembershipsChanged?.(membership.tenantId);
      return reply.code(204).send(null);
    });

    api.get(
      "/tenants/:id/members",
      { schema: { summary: "List the tenant's members", params: z.object({ id: z.string().min(1) }), response: { 200: z.object({ members: z.array(membershipView) }) } } },
      async (request) => {
        await dependencies.tenants.getTenant(request.params.id);
        return { members: (await identity.listMemberships({ tenantId: request.params.id })).map(viewMembership) };
      },
    );

    api.put(
      "/tenants/:id/members/:userId",
      { schema: { summary: "Add a member or change their role (owner, member, viewer)", params: memberParams, body: z.object({ role: tenantRole }).strict(), response: { 200: membershipView } } },
      async (request) => {
        const membership = await identity.putMembership({ userId: request.params.userId, tenantId: request.params.id, role: request.body.role, source: "manual" });
        request.log.info({ tenantId: request.params.id, userId: request.params.userId, role: request.body.role }, "membership set");
        await dependencies.onMembershipsChanged?.(request.params.id);
        return viewMembership(membership);
      },
    );

    api.delete("/tenants/:id/members/:userId", { schema: { summary: "Remove a member", params: memberParams, response: { 204: z.null() } } }, async (request, reply) => {
      if (!(await identity.deleteMembership(request.params.userId, request.params.id))) throw new ClawfleetError("CF_NOT_FOUND", "no such membership");
      request.log.info({ tenantId: request.params.id, userId: request.params.userId }, "membership removed");
      await dependencies.onMembershipsChanged?.(request.params.id);
      return reply.code(204).send(null);
    });

    api.get(
      "/channel-identities",
      { schema: { summary: "List chat-channel identities (channel + user id → tenant)", querystring: z.object({ tenant: z.string().optional() }).strict(), response: { 200: z.object({ channelIdentities: z.array(channelIdentityView) }) } } },
      async (request) => ({ channelIdentities: (await identity.listChannelIdentities(request.query.tenant ? { tenantId: request.query.tenant } : {})).map(viewChannelIdentity) }),
    );

    api.get(
      "/channel-identities/:channel/:channelUserId",
      { schema: { summary: "The tenant a chat-channel user belongs to", params: channelParams, response: { 200: channelIdentityView } } },
      async (request) => {
        const record = await identity.getChannelIdentity(request.params.channel, request.params.channelUserId);
        if (!record) throw new ClawfleetError("CF_NOT_FOUND", "no tenant is mapped to this channel user");
        return viewChannelIdentity(record);
      },
    );

    api.put(
      "/channel-identities/:channel/:channelUserId",
      { schema: { summary: "Map a chat-channel user to a tenant (replaces an existing mapping)", params: channelParams, body: z.object({ tenantId: z.string().min(1) }).strict(), response: { 200: channelIdentityView } } },
      async (request) => {
        const record = await identity.putChannelIdentity({ channel: request.params.channel, channelUserId: request.params.channelUserId, tenantId: request.body.tenantId });
        request.log.info({ channel: record.channel, tenantId: record.tenantId }, "channel identity mapped");
        return viewChannelIdentity(record);
      },
    );

    api.delete("/channel-identities/:channel/:channelUserId", { schema: { summary: "Remove a channel identity mapping", params: channelParams, response: { 204: z.null() } } }, async (request, reply) => {
      if (!(await identity.deleteChannelIdentity(request.params.channel, request.params.channelUserId))) throw new ClawfleetError("CF_NOT_FOUND", "no tenant is mapped to this channel user");
      return reply.code(204).send(null);
    });
  };
}
