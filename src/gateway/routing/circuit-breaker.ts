/**
 * Circuit breakers, one per target (provider + model), shared by every route and request of the process.
 *
 * States (Nygard, "Release It!", ch. 5; Fowler, "CircuitBreaker"):
 * - `closed`: calls pass; each failure counts, a success resets the count; `failureThreshold` consecutive
 *   failures open the breaker.
 * - `open`: the router skips the target until `cooldownMs` has passed since it opened (or last failed).
 * - `half_open`: after the cooldown, exactly one trial call is let through; its success closes the breaker,
 *   its failure opens it again for another cooldown. While the trial runs, other calls skip the target.
 *
 * The clock is injected (`now`, epoch ms), so tests need no real time.
 */
import type { CircuitBreakerConfig } from "./config.js";

export type BreakerState = "closed" | "open" | "half_open";

/** A breaker's state as seen from outside (for metrics and tests). */
export interface BreakerSnapshot {
  key: string;
  state: BreakerState;
  consecutiveFailures: number;
  /** When it last opened (or failed while open), epoch ms; undefined when it never opened. */
  openedAtMs: number | undefined;
}

/** Permission to call a target, from {@link CircuitBreakerRegistry.acquire}. */
export type BreakerPermit =
  /** A normal call through a closed breaker. */
  | "closed"
  /** The one trial call of a half-open breaker. */
  | "trial"
  /** A call the router forces through an unavailable breaker because every target of the plan is unavailable. */
  | "forced";

interface BreakerRecord {
  state: BreakerState;
  consecutiveFailures: number;
  openedAtMs: number | undefined;
  trialInFlight: boolean;
}

/** The breaker key of a target. */
export function breakerKey(target: { provider: string; model: string }): string {
  return `${target.provider}/${target.model}`;
}

/** Every target's breaker. Keys come from {@link breakerKey}. */
export class CircuitBreakerRegistry {
  private readonly records = new Map<string, BreakerRecord>();

  /**
   * @param settings threshold (consecutive failures ≥ 1) and cooldown (ms); replace them with `configure`.
   * @param now clock, epoch ms.
   */
  constructor(
    private settings: CircuitBreakerConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Applies new settings (a config reload) without forgetting the breakers' states. */
  configure(settings: CircuitBreakerConfig): void {
    this.settings = settings;
  }

  private record(key: string): BreakerRecord {
    let record = this.records.get(key);
    if (!record) {
      record = { state: "closed", consecutiveFailures: 0, openedAtMs: undefined, trialInFlight: false };
      this.records.set(key, record);
    }
    return record;
  }

  /** Moves an open breaker whose cooldown has passed to half-open. */
  private refresh(record: BreakerRecord): void {
    if (record.state === "open" && record.openedAtMs !== undefined && this.now() - record.openedAtMs >= this.settings.cooldownMs) {
      record.state = "half_open";
      record.trialInFlight = false;
    }
  }

  /** The current state of `key` (an open breaker past its cooldown reads `half_open`). */
  state(key: string): BreakerState {
    const record = this.record(key);
    this.refresh(record);
    return record.state;
  }

  /**
   * Asks to call the target: `closed` when the breaker is closed, `trial` when this call is the half-open
   * trial (the caller must then report its outcome or `release` it), undefined when the target must be skipped.
   */
  acquire(key: string): BreakerPermit | undefined {
    const record = this.record(key);
    this.refresh(record);
    if (record.state === "closed") return "closed";
    if (record.state === "half_open" && !record.trialInFlight) {
      record.trialInFlight = true;
      return "trial";
    }
    return undefined;
  }

  /** When the breaker last opened, epoch ms (undefined for a breaker that never opened). */
  openedAt(key: string): number | undefined {
    return this.records.get(key)?.openedAtMs;
  }

  /** A success: the breaker closes and its failure count resets. */
  recordSuccess(key: string): void {
    const record = this.record(key);
    record.state = "closed";
    record.consecutiveFailures = 0;
    record.trialInFlight = false;
  }

  /**
   * A failure. Closed: counts, and opens at the threshold. Half-open (the trial failed) or open (a forced or
   * late call failed): opens again from now, so the cooldown restarts.
   */
  recordFailure(key: string): void {
    const record = this.record(key);
    this.refresh(record);
    record.consecutiveFailures += 1;
    record.trialInFlight = false;
    if (record.state !== "closed" || record.consecutiveFailures >= this.settings.failureThreshold) {
      record.state = "open";
      record.openedAtMs = this.now();
    }
  }

  /** Ends a call without a verdict (the caller went away): a half-open breaker may start another trial. */
  release(key: string, permit: BreakerPermit): void {
    if (permit !== "trial") return;
    const record = this.records.get(key);
    if (record?.state === "half_open") record.trialInFlight = false;
  }

  /** Every breaker seen so far. */
  snapshot(): BreakerSnapshot[] {
    return [...this.records.entries()].map(([key, record]) => {
      this.refresh(record);
      return { key, state: record.state, consecutiveFailures: record.consecutiveFailures, openedAtMs: record.openedAtMs };
    });
  }
}
