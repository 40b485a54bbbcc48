/**
 * Renders a permission profile into the platform-managed part of a runtime's OpenClaw config (defense in depth:
 * the model gateway enforces the profile on every tool call; the runtime's own policy hides what the profile
 * never permits). Pure; the result is passed as `RuntimeSpec.platformOverrides` and merged last, so it wins over
 * the tenant's settings.
 *
 * OpenClaw semantics (OpenClaw 2026.9.6 `docs/gateway/config-tools/tool-policy.md`, `docs/tools/exec.md`
 * "Modes", ../shared/openclaw/FACTS.md): `tools.deny` wins over any allow and accepts tool names and groups;
 * a denied tool is not offered at all ("Tool exec not found"); `tools.fs.workspaceOnly` confines file tools to
 * the workspace; `tools.exec.mode` is one of
 *   - `deny`: exec is denied;
 *   - `allowlist`: only OpenClaw's own allowlisted / safe-bin commands run, nothing is asked;
 *   - `ask`: allowlist matches run, everything else asks a human approver;
 *   - `auto`: like `ask`, but a model reviewer decides misses first (not used: a model must not approve);
 *   - `full`: no prompts.
 */
import type { PermissionProfile } from "../../contracts/governance.js";
import { ALWAYS_BLOCKED_TOOLS, COMMAND_TOOLS, DISCOVERY_TOOLS, expandToolEntries, FILE_TOOLS, META_TOOL_CALL, TOOL_GROUPS } from "./tool-catalog.js";

/** OpenClaw's `tools.exec.mode` values Clawfleet renders. */
export type OpenClawExecMode = "deny" | "allowlist" | "ask" | "full";

/** The `tools` section a profile renders to. */
export interface RenderedToolPolicy {
  tools: {
    /** Tool names and groups the runtime must not offer; sorted groups first, no duplicates. */
    deny: string[];
    fs: { workspaceOnly: boolean };
    exec: { mode: OpenClawExecMode };
  };
}

/** Every tool name Clawfleet's catalog knows (group members, always-blocked, file, command and meta-tools). */
export const KNOWN_TOOLS: readonly string[] = Object.freeze(
  [...new Set([...Object.values(TOOL_GROUPS).flat(), ...ALWAYS_BLOCKED_TOOLS, ...FILE_TOOLS, ...COMMAND_TOOLS, ...DISCOVERY_TOOLS, META_TOOL_CALL])].sort(),
);

/**
 * The closest OpenClaw exec mode: `deny` when the profile does not permit `exec` (denied, or neither allowed
 * nor approval-listed); `ask` when `exec` is approval-listed or unmatched commands need approval
 * (`exec.defaultAction: "approval"`); `full` when unmatched commands are allowed; `allowlist` when they are
 * denied (stricter than the profile: OpenClaw's own allowlist is empty, so only its safe bins run there — the
 * gateway's patterns are the authority).
 */
export function execModeOf(profile: Pick<PermissionProfile, "tools" | "exec">): OpenClawExecMode {
  const denied = expandToolEntries(profile.tools.deny);
  if (denied.has("exec")) return "deny";
  if (expandToolEntries(profile.tools.approval).has("exec")) return "ask";
  const allowed = profile.tools.allow.includes("*") || expandToolEntries(profile.tools.allow).has("exec");
  if (!allowed) return "deny";
  if (profile.exec.defaultAction === "approval") return "ask";
  return profile.exec.defaultAction === "allow" ? "full" : "allowlist";
}

/**
 * `tools.deny` for a profile: the always-blocked tools, the profile's own deny entries (groups also expanded
 * into their members), and, unless the profile allows `*`, every known tool the profile neither allows nor
 * approval-lists (a group none of whose members is permitted is listed as the group and its members, so a
 * difference between Clawfleet's and OpenClaw's group membership cannot let a tool through).
 */
export function deniedToolsOf(profile: Pick<PermissionProfile, "tools">): string[] {
  const groups = new Set<string>();
  const tools = new Set<string>(ALWAYS_BLOCKED_TOOLS);
  for (const entry of profile.tools.deny) {
    const name = entry.trim().toLowerCase();
    if (name.startsWith("group:")) groups.add(name);
  }
  for (const tool of expandToolEntries(profile.tools.deny)) tools.add(tool);
  if (!profile.tools.allow.includes("*")) {
    const permitted = expandToolEntries([...profile.tools.allow, ...profile.tools.approval]);
    for (const [group, members] of Object.entries(TOOL_GROUPS)) {
      if (!members.some((member) => permitted.has(member))) groups.add(group);
    }
    for (const tool of KNOWN_TOOLS) if (!permitted.has(tool)) tools.add(tool);
  }
  tools.delete("*");
  return [...[...groups].sort(), ...[...tools].sort()];
}

/** The platform-managed `tools` section of a runtime's OpenClaw config for `profile`. */
export function renderProfileConfig(profile: PermissionProfile): RenderedToolPolicy {
  return {
    tools: {
      deny: deniedToolsOf(profile),
      fs: { workspaceOnly: !profile.paths.roots.includes("/") },
      exec: { mode: execModeOf(profile) },
    },
  };
}
