/**
 * Argument checks and small helpers shared by every {@link SharedState} implementation, so that memory and
 * Redis refuse the same inputs with the same error. A bad argument is a programming error in Clawfleet, not a
 * caller's mistake, hence `CF_INTERNAL`.
 */
import { ClawfleetError } from "../contracts/errors.js";
import type { BudgetUsage, TokenBucketLimit } from "../contracts/shared-state.js";

/** The slice of a pino logger the shared-state implementations use. */
export interface SharedStateLogger {
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

function invalid(operation: string, name: string, value: unknown, expected: string): ClawfleetError {
  return new ClawfleetError("CF_INTERNAL", `shared state ${operation}: ${name} must be ${expected}`, { details: { operation, argument: name, value: String(value) } });
}

/** Throws `CF_INTERNAL` unless `limit` has a finite `capacity` > 0 and a finite `refillPerSecond` ≥ 0. */
export function checkTokenBucketLimit(operation: string, limit: TokenBucketLimit): void {
  if (!Number.isFinite(limit.capacity) || limit.capacity <= 0) throw invalid(operation, "capacity", limit.capacity, "a finite number > 0");
  if (!Number.isFinite(limit.refillPerSecond) || limit.refillPerSecond < 0) throw invalid(operation, "refillPerSecond", limit.refillPerSecond, "a finite number >= 0");
}

/** Throws `CF_INTERNAL` unless `value` is a finite number (≥ 0 when `nonNegative`). */
export function checkFiniteNumber(operation: string, name: string, value: number, nonNegative: boolean): void {
  if (!Number.isFinite(value) || (nonNegative && value < 0)) throw invalid(operation, name, value, nonNegative ? "a finite number >= 0" : "a finite number");
}

/** Throws `CF_INTERNAL` unless `value` is a safe integer ≥ 0 (USD micro-units). */
export function checkMicros(operation: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(operation, name, value, "a safe integer >= 0 (USD micro-units)");
}

/** Throws `CF_INTERNAL` unless `value` is a duration of at least 1 ms. Returns it rounded up to whole ms. */
export function checkDurationMs(operation: string, name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw invalid(operation, name, value, "a duration > 0 ms");
  return Math.ceil(value);
}

/** Throws `CF_INTERNAL` unless `value` is a non-empty string (keys, owners, channels, reservation ids). */
export function checkName(operation: string, name: string, value: string): void {
  if (typeof value !== "string" || value.length === 0) throw invalid(operation, name, value, "a non-empty string");
}

/** The error every implementation throws once `close()` has been called. */
export function closedError(kind: string, operation: string): ClawfleetError {
  return new ClawfleetError("CF_STATE_UNAVAILABLE", `shared state (${kind}) is closed`, { details: { kind, operation } });
}

/** A zero {@link BudgetUsage}. */
export function emptyUsage(): BudgetUsage {
  return { spentMicros: 0, reservedMicros: 0 };
}
