/**
 * The state one model call carries from its start to its request record: the timer that splits Clawfleet's own
 * time (the overhead) from the upstream's, and the outcome the chain and the answer writers fill in.
 */
import { performance } from "node:perf_hooks";
import type { CanonicalUsage } from "../contracts/chat.js";

/**
 * Per-request timing: upstream time is measured around each attempt and excluded from the overhead.
 * Monotonic clock in fractional ms (`performance.now()`): unlike `process.hrtime.bigint()` it allocates no
 * BigInt per reading (about ten readings per request).
 */
export class CallTimer {
  private readonly startedMs = performance.now();
  private upstreamMs = 0;

  /** Runs `work` and counts its duration as upstream time (an attempt, or the wait for a stream's next chunk). */
  async upstream<T>(work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.upstreamMs += performance.now() - started;
    }
  }

  /** Time since the call started, ms. */
  elapsedMs(): number {
    return performance.now() - this.startedMs;
  }

  /** Time since the call started minus the upstream's, ms (never below 0): the `x-clawfleet-overhead-ms` value. */
  overheadMs(): number {
    return Math.max(0, performance.now() - this.startedMs - this.upstreamMs);
  }
}

/** What one model call came to, filled in along the chain and written to its request record. */
export interface CallOutcome {
  /** Generated characters streamed to the caller (to bill a stream cut short before its usage arrived). */
  streamedCharacters: number;
  /** Estimated input tokens (used when the provider reported no usage). */
  estimatedInputTokens: number;
  status: number;
  provider: string | null;
  model: string | null;
  usage: CanonicalUsage | null;
  attempts: number;
  errorCode: string | null;
  /** The provider's id for the call that answered or last failed (`UpstreamCallResult`), when it sent one. */
  upstreamRequestId: string | null;
}
