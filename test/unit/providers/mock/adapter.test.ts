import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProviderAdapter } from "../../../../src/contracts/provider.js";
import { MockAdapter } from "../../../../src/providers/mock/adapter.js";
import { callContext, collectEvents, userRequest } from "../../../support/provider-test-helpers.js";

const adapter = new MockAdapter("mock", () => 1_763_540_000_123);

test("identity: kind mock, no native API, no pass-through", () => {
  assert.equal(adapter.id, "mock");
  assert.equal(adapter.kind, "mock");
  assert.equal(adapter.nativeApi, null);
  assert.equal((adapter as ProviderAdapter).passthrough, undefined);
});

test("generate: the canned answer, ids from the request id, time from the clock", async () => {
  const { response, warnings } = await adapter.generate(userRequest("ping", { model: "mock-1" }), callContext({ requestId: "r7" }));
  assert.equal(response.id, "mock-r7");
  assert.equal(response.createdAt, 1_763_540_000);
  assert.deepEqual(response.content, [{ type: "text", text: "Hello from Clawfleet's mock model. You said: ping" }]);
  assert.deepEqual(warnings, []);
});

test("stream: word by word, then block_end and finish with usage", async () => {
  const { events } = await adapter.stream(userRequest("pong", { stream: true }), callContext());
  const collected = await collectEvents(events);
  assert.equal(collected[0]?.type, "start");
  assert.equal(collected.map((event) => (event.type === "text_delta" ? event.text : "")).join(""), "Hello from Clawfleet's mock model. You said: pong");
  assert.equal(collected.at(-1)?.type, "finish");
});

test("abort: an aborted call throws the reason, before and during the stream", async () => {
  const before = callContext();
  before.controller.abort(new Error("gone"));
  await assert.rejects(adapter.generate(userRequest("x"), before), /gone/);
  const during = callContext();
  const iterator = (await adapter.stream(userRequest("one two three"), during)).events[Symbol.asyncIterator]();
  await iterator.next();
  during.controller.abort(new Error("left"));
  await assert.rejects(iterator.next(), /left/);
});
