/**
 * Admission of one model call: token-bucket rate limits (requests and tokens per minute, per key, tenant,
 * model or provider) and USD budgets (per tenant or key, per calendar day or month) checked against shared
 * state, so every replica enforces the same limits. Budgets reserve the estimated cost before the call and
 * reconcile real usage after it: concurrent calls can overspend by at most the estimates in flight.
 */
import { randomUUID } from "node:crypto";
import { ClawfleetError } from "../../contracts/errors.js";
import type { CanonicalUsage } from "../../contracts/chat.js";
import type { SharedState, TokenBucketLimit } from "../../contracts/shared-state.js";
import type { Logger } from "../../observability/logger.js";
import { currentPeriod } from "./periods.js";

/** A rate limit (see `rateLimitSchema` in the config). */
export interface RateLimitRule {
  scope: "key" | "tenant" | "model" | "provider";
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
  match?: { tenant?: string | undefined; profile?: string | undefined } | undefined;
}

/** A budget rule (see `budgetRuleSchema` in the config). */
export interface BudgetRule {
  scope: "tenant" | "key";
  period: "day" | "month";
  limitUsd: number;
  match?: { tenant?: string | undefined; profile?: string | undefined } | undefined;
  alertThresholds: number[];
  alertWebhook?: string | undefined;
  action: "block" | "fallback";
  fallbackRoute?: string | undefined;
}

export interface AdmissionRequest {
  tenantId: string;
  keyId: string;
  profile: string;
  /** The model the caller asked for (alias). */
  model: string;
  /** Provider of the first target. */
  provider: string;
  estimatedTokens: number;
  estimatedCostMicros: number;
}

/** What was admitted; `settle` must be called once with the real outcome. */
export interface Admission {
  /** `x-ratelimit-*` headers describing the tightest limit (OpenAI's header names). */
  headers: Record<string, string>;
  /** Route to use instead of the requested one (a budget with `action: fallback` is spent), or null. */
  fallbackRoute: string | null;
  /** Reconciles real usage (tokens and cost in USD micros); never throws. */
  settle(outcome: { usage: CanonicalUsage | null; costMicros: number }): Promise<void>;
}

/** Sends budget alerts (a webhook POST); failures are logged, never thrown. */
export type BudgetAlertSender = (webhook: string, alert: Record<string, unknown>) => Promise<void>;

const RESERVATION_TTL_MS = 15 * 60_000;
const DAY_MS = 24 * 3_600_000;

function matches(match: RateLimitRule["match"], request: AdmissionRequest): boolean {
  if (!match) return true;
  return (match.tenant === undefined || match.tenant === request.tenantId) && (match.profile === undefined || match.profile === request.profile);
}

function scopeValue(scope: RateLimitRule["scope"] | BudgetRule["scope"], request: AdmissionRequest): string {
  switch (scope) {
    case "key":
      return request.keyId;
    case "tenant":
      return request.tenantId;
    case "model":
      return request.model;
    case "provider":
      return request.provider;
  }
}

/** Seconds for OpenAI-style reset headers, e.g. `1.5s`. */
function resetText(ms: number): string {
  return `${Math.max(0, ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

/** One rate-limit check of a rule, built once: the per-request work is the bucket key and the state call. */
interface CompiledCheck {
  rule: RateLimitRule;
  kind: "requests" | "tokens";
  perMinute: number;
  limit: TokenBucketLimit;
  /** `:<kind>:<perMinute>`, the end of the bucket key `rl:<scope>:<value>:<kind>:<perMinute>`. */
  keySuffix: string;
  limitHeader: string;
  remainingHeader: string;
  resetHeader: string;
  perMinuteText: string;
}

interface TakenTokens {
  key: string;
  amount: number;
  limit: TokenBucketLimit;
}

function compileChecks(limits: readonly RateLimitRule[]): CompiledCheck[] {
  const checks: CompiledCheck[] = [];
  for (const rule of limits) {
    for (const [kind, perMinute] of [["requests", rule.requestsPerMinute], ["tokens", rule.tokensPerMinute]] as const) {
      if (perMinute === undefined) continue;
      checks.push({
        rule,
        kind,
        perMinute,
        limit: { capacity: perMinute, refillPerSecond: perMinute / 60 },
        keySuffix: `:${kind}:${perMinute}`,
        limitHeader: `x-ratelimit-limit-${kind}`,
        remainingHeader: `x-ratelimit-remaining-${kind}`,
        resetHeader: `x-ratelimit-reset-${kind}`,
        perMinuteText: String(perMinute),
      });
    }
  }
  return checks;
}

export class AdmissionControl {
  /** The limits' checks in rule order, requests before tokens within a rule. */
  private readonly checks: readonly CompiledCheck[];

  constructor(
    private readonly state: SharedState,
    private readonly rules: { limits: readonly RateLimitRule[]; budgets: readonly BudgetRule[]; timeZone: string },
    private readonly logger: Logger,
    private readonly sendAlert: BudgetAlertSender,
    private readonly now: () => number = Date.now,
  ) {
    this.checks = compileChecks(rules.limits);
  }

  /** True when no limit or budget is configured (the pipeline then skips admission entirely). */
  get idle(): boolean {
    return this.rules.limits.length === 0 && this.rules.budgets.length === 0;
  }

  /**
   * @throws ClawfleetError CF_RATE_LIMITED (429, `retryAfterSeconds`, `details.headers`), CF_BUDGET_EXCEEDED (402).
   */
  async admit(request: AdmissionRequest): Promise<Admission> {
    // Allocated only when needed: most calls take from a few buckets and reserve one budget.
    let taken: TakenTokens[] | null = null;
    let tokenBuckets: TakenTokens[] | null = null;
    const headers: Record<string, string> = {};
    const giveBack = async () => {
      if (taken) await Promise.all(taken.map((entry) => this.state.adjustTokens(entry.key, entry.amount, entry.limit)));
    };
    let matchedRule: RateLimitRule | null = null;
    let ruleMatches = false;
    let value = "";
    for (const check of this.checks) {
      const rule = check.rule;
      if (rule !== matchedRule) {
        matchedRule = rule;
        ruleMatches = matches(rule.match, request);
        if (ruleMatches) value = scopeValue(rule.scope, request);
      }
      if (!ruleMatches) continue;
      const cost = check.kind === "requests" ? 1 : Math.min(request.estimatedTokens, check.perMinute);
      const key = `rl:${rule.scope}:${value}${check.keySuffix}`;
      const result = await this.state.takeTokens(key, cost, check.limit);
      headers[check.limitHeader] = check.perMinuteText;
      headers[check.remainingHeader] = String(result.remaining);
      headers[check.resetHeader] = resetText(result.resetMs);
      if (!result.allowed) {
        await giveBack();
        throw new ClawfleetError("CF_RATE_LIMITED", `rate limit reached: ${check.perMinute} ${check.kind} per minute per ${rule.scope}`, {
          retryAfterSeconds: Math.max(1, Math.ceil(result.retryAfterMs / 1000)),
          details: { scope: rule.scope, limit: check.perMinute, unit: `${check.kind}/minute`, headers },
        });
      }
      const entry = { key, amount: cost, limit: check.limit };
      (taken ??= []).push(entry);
      if (check.kind === "tokens") (tokenBuckets ??= []).push(entry);
    }

    let reservations: Array<{ key: string; id: string; rule: BudgetRule; periodTtlMs: number }> | null = null;
    let unreserved: Array<{ key: string; rule: BudgetRule; periodTtlMs: number }> | null = null;
    let fallbackRoute: string | null = null;
    const nowMs = this.rules.budgets.length > 0 ? this.now() : 0;
    for (const rule of this.rules.budgets) {
      if (!matches(rule.match, request)) continue;
      const period = currentPeriod(rule.period, this.rules.timeZone, nowMs);
      const key = `budget:${rule.scope}:${scopeValue(rule.scope, request)}:${rule.period}:${period.label}`;
      const periodTtlMs = period.endsAtMs - nowMs + DAY_MS;
      const limitMicros = Math.round(rule.limitUsd * 1_000_000);
      const reservation = await this.state.reserveBudget(key, request.estimatedCostMicros, limitMicros, { ttlMs: RESERVATION_TTL_MS, periodTtlMs });
      if (reservation.ok && reservation.reservationId) {
        (reservations ??= []).push({ key, id: reservation.reservationId, rule, periodTtlMs });
        continue;
      }
      if (rule.action === "fallback" && rule.fallbackRoute) {
        fallbackRoute ??= rule.fallbackRoute;
        (unreserved ??= []).push({ key, rule, periodTtlMs });
        continue;
      }
      if (reservations) await Promise.all(reservations.map((entry) => this.state.releaseBudget(entry.key, entry.id)));
      await giveBack();
      throw new ClawfleetError("CF_BUDGET_EXCEEDED", `the ${rule.period}ly budget of USD ${rule.limitUsd} for this ${rule.scope} is spent`, {
        details: { scope: rule.scope, period: rule.period, label: period.label, limitUsd: rule.limitUsd, spentUsd: reservation.usage.spentMicros / 1e6, reservedUsd: reservation.usage.reservedMicros / 1e6 },
      });
    }

    let settled = false;
    return {
      headers,
      fallbackRoute,
      settle: async (outcome) => {
        if (settled) return;
        settled = true;
        try {
          const actualTokens = outcome.usage ? outcome.usage.inputTokens + outcome.usage.outputTokens : 0;
          if (tokenBuckets) await Promise.all(tokenBuckets.map((bucket) => this.state.adjustTokens(bucket.key, bucket.amount - Math.min(actualTokens, bucket.limit.capacity), bucket.limit)));
          // One budget (the usual case) is committed without the Promise.all machinery.
          if (reservations?.length === 1 && !unreserved) {
            const entry = reservations[0] as { key: string; id: string; rule: BudgetRule; periodTtlMs: number };
            const usage = await this.state.commitBudget(entry.key, entry.id, outcome.costMicros, { periodTtlMs: entry.periodTtlMs });
            await this.alertIfCrossed(entry.key, entry.rule, usage.spentMicros, entry.periodTtlMs, request);
            return;
          }
          const committed = await Promise.all([
            ...(reservations ?? []).map(async (entry) => ({ entry, usage: await this.state.commitBudget(entry.key, entry.id, outcome.costMicros, { periodTtlMs: entry.periodTtlMs }) })),
            ...(unreserved ?? []).map(async (entry) => ({ entry, usage: await this.state.commitBudget(entry.key, "none", outcome.costMicros, { periodTtlMs: entry.periodTtlMs }) })),
          ]);
          for (const { entry, usage } of committed) await this.alertIfCrossed(entry.key, entry.rule, usage.spentMicros, entry.periodTtlMs, request);
        } catch (error) {
          this.logger.error({ err: error, tenantId: request.tenantId }, "usage reconciliation failed");
        }
      },
    };
  }

  private async alertIfCrossed(key: string, rule: BudgetRule, spentMicros: number, periodTtlMs: number, request: AdmissionRequest): Promise<void> {
    const limitMicros = rule.limitUsd * 1_000_000;
    for (const threshold of rule.alertThresholds) {
      if (spentMicros < threshold * limitMicros) continue;
      // One alert per threshold and period across every replica: the first to take this lease sends it (a
      // fresh owner id each time, since a lease is renewed, not refused, for the owner that holds it).
      if (!(await this.state.acquireLease(`alert:${key}:${threshold}`, randomUUID(), periodTtlMs))) continue;
      const alert = { type: "budget_threshold", budget: key, scope: rule.scope, tenantId: request.tenantId, keyId: rule.scope === "key" ? request.keyId : undefined, period: rule.period, threshold, limitUsd: rule.limitUsd, spentUsd: spentMicros / 1e6, at: new Date(this.now()).toISOString() };
      this.logger.warn(alert, "budget threshold crossed");
      if (rule.alertWebhook) void this.sendAlert(rule.alertWebhook, alert);
    }
  }
}
