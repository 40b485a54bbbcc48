/**
 * Usage and cost reports: request records grouped by tenant, key, provider, model and UTC day, as JSON rows or
 * CSV (RFC 4180: comma-separated, CRLF line ends, fields with commas, quotes or line breaks quoted).
 */
import type { UsageGroupBy, UsageRow } from "../contracts/store.js";

/** The columns of a report, in order: the grouping columns, then the sums. */
export function reportColumns(groupBy: readonly UsageGroupBy[]): string[] {
  return [...groupBy, "requests", "errors", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "costUsd"];
}

function csvField(value: string | number | null): string {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One JSON-friendly record per row (cost in USD, six decimals). */
export function reportRecord(row: UsageRow, groupBy: readonly UsageGroupBy[]): Record<string, string | number | null> {
  const record: Record<string, string | number | null> = {};
  for (const column of groupBy) record[column] = row.group[column] ?? null;
  record.requests = row.requests;
  record.errors = row.errors;
  record.inputTokens = row.inputTokens;
  record.outputTokens = row.outputTokens;
  record.cacheReadTokens = row.cacheReadTokens;
  record.cacheWriteTokens = row.cacheWriteTokens;
  record.costUsd = Number((row.costUsdMicros / 1e6).toFixed(6));
  return record;
}

export function reportCsv(rows: readonly UsageRow[], groupBy: readonly UsageGroupBy[]): string {
  const columns = reportColumns(groupBy);
  const lines = [columns.join(",")];
  for (const row of rows) {
    const record = reportRecord(row, groupBy);
    lines.push(columns.map((column) => csvField(record[column] ?? null)).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}
