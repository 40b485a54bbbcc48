/**
 * Control-plane operations on permission profiles: validate, create, replace (with optimistic concurrency),
 * list versions, delete, assign to tenants, and "allow this tool permanently" for the approval flow. Every change
 * is stored, recorded as a `profile_changed` audit event and published in a new policy snapshot before the call
 * returns (runtimes then pick it up: see `runtime-sync.ts`).
 */
import type { JsonValue } from "../../contracts/chat.js";
import { ClawfleetError } from "../../contracts/errors.js";
import type { AuditLog, PermissionProfile, PermissionProfileInput } from "../../contracts/governance.js";
import type { Store, TenantRecord } from "../../contracts/store.js";
import { profileChanges } from "./diff.js";
import { FALLBACK_PROFILE_NAME, PRESET_PROFILES } from "./presets.js";
import { parsePermissionProfileInput } from "./schema.js";
import { ALWAYS_BLOCKED_TOOLS, canonicalToolName, expandToolEntries, TOOL_GROUPS } from "./tool-catalog.js";

/** A profile as listed: stored profiles and built-in presets (`builtIn: true`, version 0). */
export type ProfileView = PermissionProfile & { builtIn: boolean };

export interface ProfileServiceDependencies {
  store: Store;
  /** Publishes a new policy snapshot after a change (and tells other replicas). */
  snapshots: { changed(): Promise<unknown> };
  audit: AuditLog;
  now?: () => number;
}

function view(profile: PermissionProfile): ProfileView {
  return { ...profile, builtIn: PRESET_PROFILES.has(profile.name) && profile.version === 0 };
}

function inputOf(profile: PermissionProfile, name: string, updatedBy: string): PermissionProfileInput {
  return { name, description: profile.description, tools: structuredClone(profile.tools), paths: structuredClone(profile.paths), exec: structuredClone(profile.exec), injection: { ...profile.injection }, updatedBy };
}

function notFound(name: string): ClawfleetError {
  return new ClawfleetError("CF_PROFILE_NOT_FOUND", `profile "${name}" does not exist`, { details: { profile: name } });
}

function readonlyPreset(name: string): ClawfleetError {
  return new ClawfleetError("CF_PROFILE_READONLY", `"${name}" is a built-in preset and cannot be changed or deleted; create a profile of your own (it may start as a copy)`, { details: { profile: name } });
}

/** Longest tenant-id prefix of a forked profile name, so `<prefix>-custom-NN` fits in 63 characters. */
const FORK_PREFIX_LENGTH = 52;

export class ProfileService {
  private readonly now: () => number;

  constructor(private readonly dependencies: ProfileServiceDependencies) {
    this.now = dependencies.now ?? Date.now;
  }

  /** Built-in presets (by name) then stored profiles (by name). */
  async list(): Promise<ProfileView[]> {
    return [...[...PRESET_PROFILES.values()].map(view), ...(await this.dependencies.store.profiles.list()).map(view)];
  }

  /** @throws ClawfleetError CF_PROFILE_NOT_FOUND. */
  async get(name: string): Promise<ProfileView> {
    const preset = PRESET_PROFILES.get(name);
    if (preset) return view(preset);
    const stored = await this.dependencies.store.profiles.get(name);
    if (!stored) throw notFound(name);
    return view(stored);
  }

  /**
   * Every version of a profile, newest first (a preset has its one version 0).
   * @throws ClawfleetError CF_PROFILE_NOT_FOUND when the name never had a version.
   */
  async versions(name: string): Promise<PermissionProfile[]> {
    const preset = PRESET_PROFILES.get(name);
    if (preset) return [preset];
    const history = await this.dependencies.store.profiles.history(name);
    if (history.length === 0) throw notFound(name);
    return history;
  }

  /**
   * Creates a profile (version 1, or the next number if the name existed before and was deleted).
   * @throws ClawfleetError CF_PROFILE_INVALID (every problem listed), CF_PROFILE_CONFLICT (exists already).
   */
  async create(body: unknown, actor: string): Promise<PermissionProfile> {
    const input = { ...parsePermissionProfileInput(body), updatedBy: actor };
    const created = await this.dependencies.store.profiles.put(input, { expectedVersion: 0, atMs: this.now() });
    await this.published({ action: "created", profile: created.name, actor, before: null, after: created });
    return created;
  }

  /**
   * Replaces a stored profile with a new version. `expectedVersion`, when given, must be the current version.
   * @throws ClawfleetError CF_PROFILE_INVALID (also when the body names another profile), CF_PROFILE_READONLY
   *   (a preset), CF_PROFILE_NOT_FOUND, CF_PROFILE_CONFLICT (stale `expectedVersion`).
   */
  async replace(name: string, body: unknown, actor: string, expectedVersion?: number): Promise<PermissionProfile> {
    if (PRESET_PROFILES.has(name)) throw readonlyPreset(name);
    const withName = typeof body === "object" && body !== null && !Array.isArray(body) && !("name" in body) ? { ...body, name } : body;
    const input = { ...parsePermissionProfileInput(withName), updatedBy: actor };
    if (input.name !== name) throw new ClawfleetError("CF_PROFILE_INVALID", `the body names profile "${input.name}", the path "${name}"`, { details: { problems: [{ path: "name", message: `must be "${name}" (or absent)` }] } });
    const before = await this.dependencies.store.profiles.get(name);
    if (!before) throw notFound(name);
    const after = await this.dependencies.store.profiles.put(input, { expectedVersion: expectedVersion ?? before.version, atMs: this.now() });
    await this.published({ action: "replaced", profile: name, actor, before, after });
    return after;
  }

  /**
   * Deletes a stored profile (its versions stay in the history).
   * @throws ClawfleetError CF_PROFILE_READONLY (a preset), CF_PROFILE_NOT_FOUND, CF_PROFILE_IN_USE (assigned to
   *   tenants, listed in `details.tenants`).
   */
  async delete(name: string, actor: string): Promise<void> {
    if (PRESET_PROFILES.has(name)) throw readonlyPreset(name);
    const before = await this.dependencies.store.profiles.get(name);
    if (!before) throw notFound(name);
    const users = (await this.dependencies.store.tenants.list()).filter((tenant) => tenant.profile === name).map((tenant) => tenant.id);
    if (users.length > 0) {
      throw new ClawfleetError("CF_PROFILE_IN_USE", `profile "${name}" is assigned to ${users.length} tenant(s): ${users.slice(0, 10).join(", ")}${users.length > 10 ? "…" : ""}; assign them another profile first`, { details: { profile: name, tenants: users } });
    }
    if (!(await this.dependencies.store.profiles.delete(name))) throw notFound(name);
    await this.published({ action: "deleted", profile: name, actor, before, after: null });
  }

  /**
   * Assigns a profile (preset or stored) to a tenant.
   * @throws ClawfleetError CF_TENANT_NOT_FOUND, CF_PROFILE_NOT_FOUND.
   */
  async assign(tenantId: string, name: string, actor: string): Promise<TenantRecord> {
    const tenant = await this.tenant(tenantId);
    const profile = await this.get(name);
    return this.assignResolved(tenant, profile, actor);
  }

  /**
   * "Approve permanently": lets the tenant run `tool` without approval from now on. When the tenant's profile is
   * a preset, unknown, or shared with other tenants, it is first forked into `<tenantId>-custom` (or
   * `-custom-2`…, the first free name) and assigned to the tenant, so nobody else gains the tool. Then `tool` is
   * added to `tools.allow` (unless already covered) and removed from `tools.approval` (a group listing it there
   * is replaced by its other members).
   * @returns the tenant's profile after the change
   * @throws ClawfleetError CF_TENANT_NOT_FOUND; CF_PROFILE_INVALID (an always-blocked tool);
   *   CF_PROFILE_CONFLICT (the profile denies the tool, or changed concurrently).
   */
  async allowToolPermanently(tenantId: string, tool: string, actor: string): Promise<PermissionProfile> {
    const name = canonicalToolName(tool);
    if (ALWAYS_BLOCKED_TOOLS.includes(name)) {
      throw new ClawfleetError("CF_PROFILE_INVALID", `"${name}" is always blocked and cannot be allowed`, { details: { problems: [{ path: "tool", message: "always blocked" }] } });
    }
    const tenant = await this.tenant(tenantId);
    const stored = PRESET_PROFILES.has(tenant.profile) ? null : await this.dependencies.store.profiles.get(tenant.profile);
    const current = stored ?? PRESET_PROFILES.get(tenant.profile) ?? (PRESET_PROFILES.get(FALLBACK_PROFILE_NAME) as PermissionProfile);
    if (expandToolEntries(current.tools.deny).has(name)) {
      throw new ClawfleetError("CF_PROFILE_CONFLICT", `profile "${current.name}" denies "${name}"; change the profile to allow it`, { details: { profile: current.name, tool: name } });
    }
    const shared = stored === null || (await this.dependencies.store.tenants.list()).some((other) => other.id !== tenantId && other.profile === stored.name);
    if (!shared) {
      const input = withToolAllowed(inputOf(current, current.name, actor), name);
      const after = await this.dependencies.store.profiles.put(input, { expectedVersion: current.version, atMs: this.now() });
      await this.published({ action: "tool_allowed", profile: after.name, actor, before: current, after, tenantId, extra: { tool: name } });
      return after;
    }
    const forkName = await this.freeForkName(tenantId);
    const forked = await this.dependencies.store.profiles.put(withToolAllowed(inputOf(current, forkName, actor), name), { expectedVersion: 0, atMs: this.now() });
    await this.record({ action: "forked", profile: forkName, actor, before: current, after: forked, tenantId, extra: { tool: name, forkedFrom: current.name, forkedFromVersion: current.version } });
    await this.assignResolved(tenant, view(forked), actor);
    return forked;
  }

  private async assignResolved(tenant: TenantRecord, profile: ProfileView, actor: string): Promise<TenantRecord> {
    const updated = await this.dependencies.store.tenants.updateProfile(tenant.id, profile.name);
    if (!updated) throw new ClawfleetError("CF_TENANT_NOT_FOUND", `tenant "${tenant.id}" does not exist`, { details: { tenantId: tenant.id } });
    this.dependencies.audit.record({
      type: "profile_changed",
      tenantId: tenant.id,
      actor,
      requestId: null,
      details: { action: "assigned", profile: profile.name, version: profile.version, previousProfile: tenant.profile },
    });
    await this.dependencies.snapshots.changed();
    return updated;
  }

  private async freeForkName(tenantId: string): Promise<string> {
    const prefix = `${tenantId.slice(0, FORK_PREFIX_LENGTH).replace(/-+$/, "")}-custom`;
    for (let attempt = 1; attempt <= 99; attempt += 1) {
      const candidate = attempt === 1 ? prefix : `${prefix}-${attempt}`;
      if (PRESET_PROFILES.has(candidate)) continue;
      if ((await this.dependencies.store.profiles.history(candidate)).length === 0 && !(await this.dependencies.store.profiles.get(candidate))) return candidate;
    }
    throw new ClawfleetError("CF_PROFILE_CONFLICT", `no free profile name for a copy of tenant "${tenantId}"'s profile`, { details: { tenantId } });
  }

  private async tenant(tenantId: string): Promise<TenantRecord> {
    const tenant = await this.dependencies.store.tenants.get(tenantId);
    if (!tenant) throw new ClawfleetError("CF_TENANT_NOT_FOUND", `tenant "${tenantId}" does not exist`, { details: { tenantId } });
    return tenant;
  }

  private async published(change: ChangeRecord): Promise<void> {
    await this.record(change);
    await this.dependencies.snapshots.changed();
  }

  private async record(change: ChangeRecord): Promise<void> {
    this.dependencies.audit.record({
      type: "profile_changed",
      tenantId: change.tenantId ?? null,
      actor: change.actor,
      requestId: null,
      details: {
        action: change.action,
        profile: change.profile,
        beforeVersion: change.before?.version ?? null,
        afterVersion: change.after?.version ?? null,
        changes: profileChanges(change.before, change.after),
        ...(change.extra ?? {}),
      },
    });
  }
}

interface ChangeRecord {
  action: "created" | "replaced" | "deleted" | "tool_allowed" | "forked";
  profile: string;
  actor: string;
  before: PermissionProfile | null;
  after: PermissionProfile | null;
  tenantId?: string;
  extra?: Record<string, JsonValue>;
}

/** The profile input with `tool` allowed and no longer approval-listed (groups listing it are split). */
function withToolAllowed(input: PermissionProfileInput, tool: string): PermissionProfileInput {
  const approval: string[] = [];
  for (const entry of input.tools.approval) {
    if (entry.startsWith("group:") && (TOOL_GROUPS[entry] ?? []).includes(tool)) approval.push(...(TOOL_GROUPS[entry] ?? []).filter((member) => member !== tool && !approval.includes(member)));
    else if (canonicalToolName(entry) !== tool) approval.push(entry);
  }
  const allowed = input.tools.allow.includes("*") || expandToolEntries(input.tools.allow).has(tool);
  return { ...input, tools: { ...input.tools, approval, allow: allowed ? input.tools.allow : [...input.tools.allow, tool] } };
}
