/**
 * Calendar periods of budgets in a configured IANA time zone: the label of the current day or month and when
 * it ends, computed with `Intl.DateTimeFormat` (no time-zone database of our own). The end is found by a binary
 * search for the first second whose label differs, so daylight-saving days (23 or 25 hours) come out right.
 * Results are cached until the period ends: the hot path formats nothing.
 */

/** The period's label (`2026-11-21` or `2026-11`) and when it ends (epoch ms, exclusive). */
export interface BudgetPeriod {
  label: string;
  endsAtMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function labelAt(period: "day" | "month", timeZone: string, atMs: number): string {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    formatters.set(timeZone, formatter);
  }
  const date = formatter.format(new Date(atMs)); // en-CA formats as YYYY-MM-DD
  return period === "day" ? date : date.slice(0, 7);
}

/**
 * Binary search between `inside` (a ms labelled `label`) and `outside` (one that is not), in either direction: the
 * ms nearest `inside` that no longer has the label.
 */
function boundary(period: "day" | "month", timeZone: string, label: string, inside: number, outside: number): number {
  while (Math.abs(outside - inside) > 1) {
    const middle = Math.floor((inside + outside) / 2);
    if (labelAt(period, timeZone, middle) === label) inside = middle;
    else outside = middle;
  }
  return outside;
}

/** A cached period with the first ms it covers, so a request inside it needs two comparisons and no formatting. */
const cache = new Map<string, { period: BudgetPeriod; startsAtMs: number }>();

/**
 * The current `day` or `month` in `timeZone` at `atMs`.
 * @throws RangeError for an unknown time zone (config validation rejects those first).
 */
export function currentPeriod(period: "day" | "month", timeZone: string, atMs: number): BudgetPeriod {
  const cacheKey = `${period}|${timeZone}`;
  const cached = cache.get(cacheKey);
  // [startsAtMs, endsAtMs) is exactly the span with this label, so a clock that moved backwards misses too.
  if (cached && atMs >= cached.startsAtMs && atMs < cached.period.endsAtMs) return cached.period;
  const label = labelAt(period, timeZone, atMs);
  const span = (period === "day" ? 26 : 32 * 24) * 3_600_000;
  const endsAtMs = boundary(period, timeZone, label, atMs, atMs + span);
  const startsAtMs = boundary(period, timeZone, label, atMs, atMs - span) + 1;
  const result = { label, endsAtMs };
  cache.set(cacheKey, { period: result, startsAtMs });
  return result;
}
