/**
 * Weighted load balancing: orders a route's targets by weighted random choice without replacement, so the
 * first pick follows the weights and the remaining targets stay in the plan as fallbacks.
 */

/** A random number generator returning values in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/**
 * Returns `items` in weighted random order: each position is drawn among the items not yet placed, with
 * probability `weight / sum of remaining weights`. The probability of being first is exactly
 * `weight / total`. Uses one `random()` call per position (n - 1 for n items). Weights must be finite and > 0
 * (the config schema guarantees it); a non-positive weight throws `RangeError`.
 */
export function weightedOrder<Item>(items: readonly Item[], weightOf: (item: Item) => number, random: RandomSource): Item[] {
  const remaining = items.map((item) => ({ item, weight: weightOf(item) }));
  for (const entry of remaining) {
    if (!(entry.weight > 0) || !Number.isFinite(entry.weight)) throw new RangeError(`load balancing weight must be finite and > 0, got ${entry.weight}`);
  }
  const ordered: Item[] = [];
  while (remaining.length > 1) {
    const total = remaining.reduce((sum, entry) => sum + entry.weight, 0);
    let threshold = random() * total;
    let chosen = remaining.length - 1;
    for (let index = 0; index < remaining.length; index += 1) {
      threshold -= (remaining[index] as { weight: number }).weight;
      if (threshold < 0) {
        chosen = index;
        break;
      }
    }
    const [entry] = remaining.splice(chosen, 1);
    if (entry) ordered.push(entry.item);
  }
  const last = remaining[0];
  if (last) ordered.push(last.item);
  return ordered;
}
