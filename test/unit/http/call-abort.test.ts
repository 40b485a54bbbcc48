/**
 * CallAbortController (src/http/call-abort.ts): the AbortController of the hot paths. Besides its own semantics,
 * each consumer it is given to is exercised for real: undici (openai/anthropic/ollama adapters, ingress),
 * `timers/promises` (the router's backoff), `events.addAbortListener`, and the AWS SDK's HTTP handler (Bedrock).
 */
import { once } from "node:events";
import { addAbortListener } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { test } from "node:test";
import assert from "node:assert/strict";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { Pool } from "undici";
import { CallAbortController, CallAbortSignal, forwardAbort } from "../../../src/http/call-abort.js";

/** A server that accepts requests and never answers; resolves each request's socket close. */
async function hangingServer(): Promise<{ url: string; closed: Promise<void>; close: () => Promise<void> }> {
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const server = http.createServer((request) => {
    request.resume();
    request.socket.on("close", () => markClosed());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    closed,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test("abort sets aborted and reason once, calls onabort and every listener once, in that order", () => {
  const controller = new CallAbortController();
  const { signal } = controller;
  assert.equal(signal.aborted, false);
  assert.equal(signal.reason, undefined);
  assert.doesNotThrow(() => signal.throwIfAborted());
  const calls: string[] = [];
  signal.onabort = (event) => calls.push(`onabort ${event.type}`);
  signal.addEventListener("abort", () => calls.push("listener"));
  signal.addEventListener("abort", () => calls.push("once"), { once: true });
  const reason = new Error("stop");
  controller.abort(reason);
  controller.abort(new Error("again"));
  assert.deepEqual(calls, ["onabort abort", "listener", "once"]);
  assert.equal(signal.aborted, true);
  assert.equal(signal.reason, reason);
  assert.throws(() => signal.throwIfAborted(), (error: unknown) => error === reason);
});

test("the default reason is a DOMException named AbortError, as Node's AbortController gives", () => {
  const controller = new CallAbortController();
  controller.abort();
  const native = new AbortController();
  native.abort();
  assert.ok(controller.signal.reason instanceof DOMException);
  assert.equal((controller.signal.reason as DOMException).name, (native.signal.reason as DOMException).name);
  assert.equal((controller.signal.reason as DOMException).name, "AbortError");
});

test("undici cancels a request in flight and rejects with the signal's reason; the connection is closed", async () => {
  const server = await hangingServer();
  const pool = new Pool(server.url);
  try {
    const controller = new CallAbortController();
    const pending = pool.request({ method: "POST", path: "/", body: "{}", signal: controller.signal });
    await delay(50);
    const reason = new Error("caller left");
    controller.abort(reason);
    await assert.rejects(pending, (error: unknown) => error === reason);
    await server.closed;
  } finally {
    await pool.close();
    await server.close();
  }
});

test("undici refuses to start a request whose signal is already aborted", async () => {
  const server = await hangingServer();
  const pool = new Pool(server.url);
  try {
    const controller = new CallAbortController();
    const reason = new Error("too late");
    controller.abort(reason);
    await assert.rejects(pool.request({ method: "GET", path: "/", signal: controller.signal }), (error: unknown) => error === reason);
  } finally {
    await pool.close();
    await server.close();
  }
});

test("timers/promises (the router's backoff) stops waiting, with the reason as cause", async () => {
  const controller = new CallAbortController();
  const started = performance.now();
  const waiting = delay(10_000, undefined, { signal: controller.signal });
  const reason = new Error("cancelled");
  setTimeout(() => controller.abort(reason), 20);
  await assert.rejects(waiting, (error: unknown) => (error as Error).name === "AbortError" && (error as Error).cause === reason);
  assert.ok(performance.now() - started < 5_000);
});

test("events.addAbortListener accepts the signal and its disposer removes the listener", () => {
  const controller = new CallAbortController();
  let calls = 0;
  const disposable = addAbortListener(controller.signal, () => (calls += 1));
  disposable[Symbol.dispose]();
  controller.abort();
  assert.equal(calls, 0);
  const second = new CallAbortController();
  addAbortListener(second.signal, () => (calls += 1));
  second.abort();
  assert.equal(calls, 1);
});

test("the AWS SDK's HTTP handler (Bedrock) aborts a request in flight and closes the connection", async () => {
  const server = await hangingServer();
  const handler = new NodeHttpHandler();
  try {
    const controller = new CallAbortController();
    const url = new URL(server.url);
    const request = { protocol: "http:", hostname: url.hostname, port: Number(url.port), method: "POST", path: "/model/x/converse", query: {}, headers: { "content-type": "application/json" }, body: "{}" };
    const pending = handler.handle(request as unknown as Parameters<NodeHttpHandler["handle"]>[0], { abortSignal: controller.signal });
    await delay(50);
    controller.abort(new Error("caller left"));
    await assert.rejects(pending, (error: unknown) => (error as Error).name === "AbortError");
    await server.closed;
  } finally {
    handler.destroy();
    await server.close();
  }
});

test("forwardAbort passes the source's reason on, at once when already aborted, and stops when told", () => {
  const source = new CallAbortController();
  const target = new CallAbortController();
  forwardAbort(source.signal, target);
  const reason = new Error("upstream timeout");
  source.abort(reason);
  assert.equal(target.signal.reason, reason);

  const early = new AbortController();
  early.abort("already");
  const late = new CallAbortController();
  forwardAbort(early.signal, late);
  assert.equal(late.signal.reason, "already");

  const quiet = new CallAbortController();
  const untouched = new CallAbortController();
  const stop = forwardAbort(quiet.signal, untouched);
  stop();
  quiet.abort();
  assert.equal(untouched.signal.aborted, false);
});

test("the signal is an EventTarget of one class (no per-object prototype swap)", () => {
  const first = new CallAbortController().signal;
  const second = new CallAbortController().signal;
  assert.ok(first instanceof EventTarget);
  assert.ok(first instanceof CallAbortSignal);
  assert.equal(Object.getPrototypeOf(first), Object.getPrototypeOf(second));
  assert.equal(Object.getPrototypeOf(first), CallAbortSignal.prototype);
});
