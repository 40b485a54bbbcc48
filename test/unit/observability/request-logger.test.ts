import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import fastifyCookie from "@fastify/cookie";
import { requestCookie } from "../../../src/auth/request-cookies.js";
import { buildServer } from "../../../src/http/server.js";
import { createLogger, DeferredChildLogger, type Logger } from "../../../src/observability/logger.js";

/** A logger writing JSON lines into `lines`. */
function capturingLogger(level: "info" | "warn"): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger(level, destination), lines };
}

/** Strips the fields that differ between two otherwise equal lines (time). */
function comparable(line: Record<string, unknown> | undefined): Record<string, unknown> {
  const { time: _time, ...rest } = line ?? {};
  return rest;
}

test("a deferred request logger writes the same lines as pino's child, and builds no child while nothing is logged", () => {
  const { logger, lines } = capturingLogger("warn");
  let childrenBuilt = 0;
  // pino calls `onChild` for every child it builds (and children inherit it).
  logger.onChild = () => {
    childrenBuilt += 1;
  };
  const deferred = new DeferredChildLogger(logger, { reqId: "req-1" });
  deferred.info({ tenantId: "acme" }, "below the level");
  deferred.debug("below the level");
  assert.equal(childrenBuilt, 0, "no child for lines below the level");
  assert.equal(lines.length, 0);
  assert.equal(deferred.level, "warn", "the parent's level until a child exists");

  deferred.warn({ tenantId: "acme", token: "secret-token" }, "upstream slow");
  deferred.error(new Error("boom"), "failed");
  assert.equal(childrenBuilt, 1, "one child, built on the first line at an enabled level, reused after");
  logger.onChild = () => undefined;
  logger.child({ reqId: "req-1" }).warn({ tenantId: "acme", token: "secret-token" }, "upstream slow");
  assert.equal(lines.length, 3);
  assert.deepEqual(comparable(lines[0]), comparable(lines[2]), "same line as pino's child writes");
  assert.equal(lines[0]?.reqId, "req-1");
  assert.equal(lines[0]?.token, "[redacted]", "the parent's redaction applies");
  assert.equal((lines[1]?.err as { message?: string } | undefined)?.message, "boom");

  deferred.level = "error";
  deferred.warn("now below the child's level");
  assert.equal(lines.length, 3);
  const nested = deferred.child({ tenantId: "acme" });
  nested.error("nested");
  assert.deepEqual([lines[3]?.reqId, lines[3]?.tenantId, lines[3]?.msg], ["req-1", "acme", "nested"]);
});

test("the server's request loggers carry the request id; a parent's level change reaches requests not yet logging", async () => {
  const { logger, lines } = capturingLogger("warn");
  const app = await buildServer({ logger, bodyLimitBytes: 1024, requestTimeoutMs: 0, isReady: async () => true });
  app.get("/log", async (request) => {
    request.log.info("info line");
    request.log.warn("warn line");
    return { ok: true };
  });
  await app.inject({ method: "GET", url: "/log", headers: { "x-request-id": "abc-1" } });
  assert.deepEqual(lines.map((line) => [line.reqId, line.msg]), [["abc-1", "warn line"]]);
  logger.level = "info";
  await app.inject({ method: "GET", url: "/log", headers: { "x-request-id": "abc-2" } });
  const second = lines.filter((line) => line.reqId === "abc-2").map((line) => line.msg);
  assert.deepEqual(second, ["incoming request", "info line", "warn line", "request completed"], "Fastify's own request lines too");
  await app.close();
});

test("cookies are parsed where read, not on every request", async () => {
  const app = await buildServer({ logger: createLogger("silent"), bodyLimitBytes: 1024, requestTimeoutMs: 0, isReady: async () => true });
  await app.register(fastifyCookie, { hook: false });
  const seen: Array<unknown> = [];
  app.get("/untouched", async (request) => {
    seen.push(request.cookies);
    return { ok: true };
  });
  app.get("/read", async (request) => ({ session: requestCookie(request, "cf_session") ?? null, other: requestCookie(request, "other") ?? null, parsed: request.cookies }));
  app.get("/set", async (request, reply) => {
    reply.setCookie("cf_login", "state-1", { path: "/" });
    return { session: requestCookie(request, "cf_session") ?? null };
  });
  await app.inject({ method: "GET", url: "/untouched", headers: { cookie: "cf_session=s1" } });
  assert.deepEqual(seen, [null], "no hook parsed the header");
  const read = (await app.inject({ method: "GET", url: "/read", headers: { cookie: "cf_session=s%201; other=o" } })).json();
  assert.deepEqual(read, { session: "s 1", other: "o", parsed: { cf_session: "s 1", other: "o" } });
  assert.deepEqual((await app.inject({ method: "GET", url: "/read" })).json(), { session: null, other: null, parsed: null }, "no header: nothing to parse");
  const set = await app.inject({ method: "GET", url: "/set", headers: { cookie: "cf_session=s2" } });
  assert.deepEqual(set.json(), { session: "s2" }, "setting a cookie first still reads the request's");
  assert.match(String(set.headers["set-cookie"]), /^cf_login=state-1; Path=\/; SameSite=Lax$/);
  await app.close();
});
