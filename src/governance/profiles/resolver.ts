/**
 * The {@link ProfileResolver} over the policy snapshot: built-in presets first, then stored profiles. A tenant
 * naming an unknown profile gets the `readonly-agent` preset (fail closed), logged once per tenant and name.
 * O(1) per call, no I/O.
 */
import type { PermissionProfile, ProfileResolver } from "../../contracts/governance.js";
import type { PolicySnapshot } from "../../control/snapshot.js";
import type { Logger } from "../../observability/logger.js";
import { FALLBACK_PROFILE_NAME, PRESET_PROFILES } from "./presets.js";

/** Most distinct (tenant, unknown profile) pairs remembered for "logged once"; beyond it the memory starts over. */
const MAX_REMEMBERED_WARNINGS = 10_000;

/**
 * Creates the resolver. `snapshot` returns the snapshot in force (e.g. `() => snapshots.current()`).
 * Presets win over stored profiles of the same name (the store refuses those names anyway).
 */
export function createProfileResolver(snapshot: () => Pick<PolicySnapshot, "profiles">, logger: Pick<Logger, "warn">): ProfileResolver {
  const fallback = PRESET_PROFILES.get(FALLBACK_PROFILE_NAME) as PermissionProfile;
  const warned = new Set<string>();
  return {
    forTenant(tenantId: string, profileName: string): PermissionProfile {
      const profile = PRESET_PROFILES.get(profileName) ?? snapshot().profiles.get(profileName);
      if (profile) return profile;
      const key = `${tenantId}\u0000${profileName}`;
      if (!warned.has(key)) {
        if (warned.size >= MAX_REMEMBERED_WARNINGS) warned.clear();
        warned.add(key);
        logger.warn({ tenantId, profile: profileName, fallback: FALLBACK_PROFILE_NAME }, "tenant names an unknown permission profile; using the fallback (fail closed)");
      }
      return fallback;
    },
  };
}
