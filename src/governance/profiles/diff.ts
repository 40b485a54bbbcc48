/**
 * What changed between two versions of a permission profile, as JSON for `profile_changed` audit events:
 * list fields give the entries added and removed, scalar fields their old and new values.
 */
import type { JsonValue } from "../../contracts/chat.js";
import type { PermissionProfileInput } from "../../contracts/governance.js";

type Comparable = Pick<PermissionProfileInput, "description" | "tools" | "paths" | "exec" | "injection">;

const LIST_FIELDS = [
  ["tools.allow", (profile: Comparable) => profile.tools.allow],
  ["tools.deny", (profile: Comparable) => profile.tools.deny],
  ["tools.approval", (profile: Comparable) => profile.tools.approval],
  ["paths.roots", (profile: Comparable) => profile.paths.roots],
  ["exec.allow", (profile: Comparable) => profile.exec.allow],
  ["exec.deny", (profile: Comparable) => profile.exec.deny],
] as const;

const SCALAR_FIELDS = [
  ["description", (profile: Comparable) => profile.description],
  ["exec.defaultAction", (profile: Comparable) => profile.exec.defaultAction],
  ["injection.action", (profile: Comparable) => profile.injection.action],
] as const;

/**
 * The differences from `before` (null: nothing before, every field counts as added) to `after`
 * (null: deleted). Fields without a change are left out.
 * @returns e.g. `{"tools.allow": {added: ["exec"], removed: []}, "exec.defaultAction": {from: "deny", to: "approval"}}`
 */
export function profileChanges(before: Comparable | null, after: Comparable | null): Record<string, JsonValue> {
  const changes: Record<string, JsonValue> = {};
  for (const [field, read] of LIST_FIELDS) {
    const old = before ? read(before) : [];
    const next = after ? read(after) : [];
    const added = next.filter((entry) => !old.includes(entry));
    const removed = old.filter((entry) => !next.includes(entry));
    if (added.length > 0 || removed.length > 0) changes[field] = { added, removed };
  }
  for (const [field, read] of SCALAR_FIELDS) {
    const old = before ? read(before) : null;
    const next = after ? read(after) : null;
    if (old !== next) changes[field] = { from: old, to: next };
  }
  return changes;
}
