/**
 * Deterministic stand-ins for the routing engine's effects (clock, sleep, timers, randomness) and helpers to
 * script attempts, for `test/unit/routing/*`.
 */
import { ClawfleetError } from "../../src/contracts/errors.js";
import type { AttemptContext, AttemptFunction } from "../../src/gateway/routing/execute.js";
import type { PlannedTarget } from "../../src/gateway/routing/plan.js";

/**
 * A manual clock. `sleep` records the delay, advances the clock by it and resolves at once (or rejects when
 * the signal is aborted); `setTimer` callbacks fire when `advance` passes their due time.
 */
export class FakeClock {
  nowMs = 1_000_000;
  /** Every `sleep` delay asked for, ms, in order. */
  readonly sleeps: number[] = [];
  private timers: Array<{ dueMs: number; callback: () => void; cancelled: boolean }> = [];

  readonly now = (): number => this.nowMs;

  readonly sleep = async (ms: number, signal: AbortSignal | undefined): Promise<void> => {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.advance(ms);
  };

  readonly setTimer = (callback: () => void, ms: number): (() => void) => {
    const timer = { dueMs: this.nowMs + ms, callback, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };

  /** Timers not cancelled nor fired. */
  pendingTimers(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }

  advance(ms: number): void {
    this.nowMs += ms;
    const due = this.timers.filter((timer) => !timer.cancelled && timer.dueMs <= this.nowMs);
    this.timers = this.timers.filter((timer) => !due.includes(timer));
    for (const timer of due) timer.callback();
  }
}

/** A random source returning `values` in turn, cycling. */
export function sequenceRandom(...values: number[]): () => number {
  let index = 0;
  return () => {
    const value = values[index % values.length] ?? 0;
    index += 1;
    return value;
  };
}

/** mulberry32: a small seeded PRNG with values in [0, 1), for distribution tests that must not flake. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** `CF_UPSTREAM_ERROR` with the upstream's `status` (and `retry-after` seconds). */
export function upstreamError(status: number, retryAfterSeconds?: number): ClawfleetError {
  return new ClawfleetError("CF_UPSTREAM_ERROR", `upstream answered ${status}`, {
    status,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    details: { provider: "test", upstreamStatus: status },
  });
}

export function timeoutError(): ClawfleetError {
  return new ClawfleetError("CF_UPSTREAM_TIMEOUT", "upstream timed out");
}

export function unreachableError(): ClawfleetError {
  return new ClawfleetError("CF_UPSTREAM_UNREACHABLE", "upstream unreachable");
}

/** What a scripted call does: resolve with a value, reject with an error, or run a function. */
export type ScriptedStep = { value: string } | { error: unknown } | ((context: AttemptContext) => Promise<string>);

/** One call received by a scripted attempt. */
export interface ScriptedCall {
  key: string;
  attemptNumber: number;
  context: AttemptContext;
}

/**
 * An attempt function answering per target (`provider/model`) from `script`, in order; when a target's steps
 * run out its last step repeats. A target without a script resolves with `ok:<key>`.
 */
export function scriptedAttempt(script: Record<string, ScriptedStep[]>): { attempt: AttemptFunction<string>; calls: ScriptedCall[]; callsTo(key: string): number } {
  const calls: ScriptedCall[] = [];
  const used = new Map<string, number>();
  const attempt: AttemptFunction<string> = async (target: PlannedTarget, context: AttemptContext) => {
    const key = `${target.provider}/${target.model}`;
    calls.push({ key, attemptNumber: context.attemptNumber, context });
    const steps = script[key];
    if (!steps || steps.length === 0) return `ok:${key}`;
    const index = used.get(key) ?? 0;
    used.set(key, index + 1);
    const step = steps[Math.min(index, steps.length - 1)] as ScriptedStep;
    if (typeof step === "function") return step(context);
    if ("error" in step) throw step.error;
    return step.value;
  };
  return { attempt, calls, callsTo: (key) => calls.filter((call) => call.key === key).length };
}
