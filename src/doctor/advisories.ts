/**
 * Published security advisories of the `openclaw` npm package that `clawfleet doctor` checks the installed
 * runtime against. Each entry names the first patched version and its sources; add new advisories here (the
 * GitHub advisory database lists them: https://github.com/advisories?query=openclaw).
 *
 * OpenClaw versions are calendar versions `YYYY.M.D`, sometimes with a `-N` re-release suffix.
 */

/** One advisory: versions below `fixedIn` are affected. */
export interface OpenclawAdvisory {
  id: string;
  summary: string;
  fixedIn: string;
  sources: string[];
}

export const OPENCLAW_ADVISORIES: readonly OpenclawAdvisory[] = [
  {
    id: "GHSA-5wcw-8jjv-m286",
    summary: "Gateway WebSocket cross-site hijacking",
    fixedIn: "2026.3.11",
    sources: ["https://github.com/advisories/GHSA-5wcw-8jjv-m286", "https://github.com/openclaw/openclaw/pull/44403"],
  },
  {
    id: "GHSA-8wg3-5mcm-fjq8",
    summary: "Part of the 2026-07-02 advisory batch (vulnerable range < 2026.5.27)",
    fixedIn: "2026.5.27",
    sources: ["https://github.com/advisories/GHSA-8wg3-5mcm-fjq8", "https://github.com/volcengine/OpenViking/pull/3021"],
  },
  {
    id: "GHSA-83w9-h5wv-j9xm",
    summary: "Part of the 2026-07-02 advisory batch (vulnerable range < 2026.5.27)",
    fixedIn: "2026.5.27",
    sources: ["https://github.com/advisories/GHSA-83w9-h5wv-j9xm", "https://github.com/volcengine/OpenViking/pull/3021"],
  },
  {
    id: "GHSA-cf2p-f286-mphf",
    summary: "Identity-bearing HTTP callers could reach admin-scoped tools (gateway, cron, nodes)",
    fixedIn: "2026.6.5",
    sources: ["https://github.com/openclaw/openclaw/security/advisories/GHSA-cf2p-f286-mphf", "https://github.com/openclaw/openclaw/issues/98550"],
  },
];

/** Numeric parts of `2026.9.6` or `2026.3.13-1` (suffix last), or null when it is not such a version. */
function versionParts(version: string): number[] | null {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-(\d+))?$/.exec(version.trim());
  if (!match) return null;
  return [Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4] ?? 0)];
}

/** -1, 0 or 1 like a comparator; null when either is not a calendar version. */
export function compareOpenclawVersions(left: string, right: string): number | null {
  const a = versionParts(left);
  const b = versionParts(right);
  if (!a || !b) return null;
  for (let index = 0; index < a.length; index += 1) {
    if ((a[index] as number) !== (b[index] as number)) return (a[index] as number) < (b[index] as number) ? -1 : 1;
  }
  return 0;
}

/**
 * Advisories affecting `version` (those whose `fixedIn` is newer).
 * @throws Error when `version` is not a calendar version (`YYYY.M.D[-N]`).
 */
export function advisoriesAffecting(version: string, advisories: readonly OpenclawAdvisory[] = OPENCLAW_ADVISORIES): OpenclawAdvisory[] {
  if (versionParts(version) === null) throw new Error(`"${version}" is not an OpenClaw version (YYYY.M.D)`);
  return advisories.filter((advisory) => (compareOpenclawVersions(version, advisory.fixedIn) ?? 0) < 0);
}
