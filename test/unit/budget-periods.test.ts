import assert from "node:assert/strict";
import { test } from "node:test";
import { currentPeriod } from "../../src/gateway/limits/periods.js";
import { estimateRequestTokens, tokensForCharacters } from "../../src/gateway/limits/estimate.js";

test("days and months in UTC", () => {
  const at = Date.parse("2026-11-21T13:45:10.250Z");
  assert.deepEqual(currentPeriod("day", "UTC", at), { label: "2026-11-21", endsAtMs: Date.parse("2026-11-22T00:00:00Z") });
  assert.deepEqual(currentPeriod("month", "UTC", at), { label: "2026-11", endsAtMs: Date.parse("2026-12-01T00:00:00Z") });
  assert.deepEqual(currentPeriod("month", "UTC", Date.parse("2026-12-31T23:59:59Z")), { label: "2026-12", endsAtMs: Date.parse("2027-01-01T00:00:00Z") });
});

test("a time zone shifts the calendar day", () => {
  const at = Date.parse("2026-11-21T23:30:00Z");
  assert.equal(currentPeriod("day", "Asia/Tokyo", at).label, "2026-11-22", "08:30 next day in Tokyo");
  assert.equal(currentPeriod("day", "America/Los_Angeles", at).label, "2026-11-21");
  assert.equal(currentPeriod("day", "Asia/Tokyo", at).endsAtMs, Date.parse("2026-11-22T15:00:00Z"), "Tokyo midnight is 15:00 UTC");
});

test("daylight-saving days last 25 and 23 hours", () => {
  // Europe/Berlin: clocks go back on 2026-10-25 (25 h day) and forward on 2026-03-29 (23 h day).
  const fallBack = currentPeriod("day", "Europe/Berlin", Date.parse("2026-10-25T06:00:00Z"));
  assert.equal(fallBack.label, "2026-10-25");
  assert.equal(fallBack.endsAtMs, Date.parse("2026-10-25T23:00:00Z"));
  const springForward = currentPeriod("day", "Europe/Berlin", Date.parse("2026-03-29T06:00:00Z"));
  assert.equal(springForward.endsAtMs, Date.parse("2026-03-29T22:00:00Z"));
});

test("a cached period covers exactly its own span: the ms before it (clock moved back) and the ms at its end get their own period", () => {
  const inside = currentPeriod("day", "Europe/Paris", Date.parse("2026-06-10T12:00:00Z"));
  assert.deepEqual(inside, { label: "2026-06-10", endsAtMs: Date.parse("2026-06-10T22:00:00Z") });
  // Cached now; the first ms of the Paris day (22:00 UTC the day before) is still this period, the ms before is not.
  assert.equal(currentPeriod("day", "Europe/Paris", Date.parse("2026-06-09T22:00:00Z")).label, "2026-06-10");
  assert.deepEqual(currentPeriod("day", "Europe/Paris", Date.parse("2026-06-09T22:00:00Z") - 1), { label: "2026-06-09", endsAtMs: Date.parse("2026-06-09T22:00:00Z") });
  assert.deepEqual(currentPeriod("day", "Europe/Paris", Date.parse("2026-06-10T22:00:00Z")), { label: "2026-06-11", endsAtMs: Date.parse("2026-06-11T22:00:00Z") });
  assert.equal(currentPeriod("day", "Europe/Paris", Date.parse("2026-06-10T21:59:59.999Z")).label, "2026-06-10");
});

test("token estimates: about four characters per token, output at maxTokens or 1024", () => {
  assert.equal(tokensForCharacters(0), 0);
  assert.equal(tokensForCharacters(1), 1);
  assert.equal(tokensForCharacters(401), 101);
  const estimate = estimateRequestTokens({ model: "m", stream: false, messages: [{ role: "user", content: [{ type: "text", text: "x".repeat(400) }] }] });
  assert.deepEqual(estimate, { inputTokens: 100, outputTokens: 1024 });
  assert.equal(estimateRequestTokens({ model: "m", stream: false, maxTokens: 50, messages: [] }).outputTokens, 50);
});
