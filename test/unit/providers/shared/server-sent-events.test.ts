import assert from "node:assert/strict";
import { test } from "node:test";
import { type ServerSentEvent, ServerSentEventParser } from "../../../../src/providers/shared/server-sent-events.js";

function parseAll(text: string): ServerSentEvent[] {
  const parser = new ServerSentEventParser();
  return [...parser.push(text), ...parser.end()];
}

test("data lines, event names, ids and comments", () => {
  const text = ": keep-alive comment\nevent: message_start\nid: 7\ndata: {\"a\":1}\n\ndata: first\ndata: second\n\n:another\n\n";
  assert.deepEqual(parseAll(text), [
    { event: "message_start", data: '{"a":1}', id: "7" },
    { event: "message", data: "first\nsecond", id: "7" },
  ]);
});

test("CRLF and lone CR end lines; one leading space is dropped, others kept", () => {
  assert.deepEqual(parseAll("data:  two spaces\r\n\r\ndata:none\r\rdata\n\n"), [
    { event: "message", data: " two spaces" },
    { event: "message", data: "none" },
    { event: "message", data: "" },
  ]);
});

test("an event without data is not dispatched and its name does not leak into the next", () => {
  assert.deepEqual(parseAll("event: ping\n\ndata: x\n\n"), [{ event: "message", data: "x" }]);
});

test("a leading byte-order mark is ignored", () => {
  assert.deepEqual(parseAll("\uFEFFdata: x\n\n"), [{ event: "message", data: "x" }]);
});

test("end() dispatches a last event whose blank line never came", () => {
  const parser = new ServerSentEventParser();
  assert.deepEqual(parser.push("data: [DONE]"), []);
  assert.deepEqual(parser.end(), [{ event: "message", data: "[DONE]" }]);
});

test("the same events whatever the chunk boundaries (every split point, CRLF and multi-byte UTF-8 included)", () => {
  const text = 'event: a\r\ndata: {"text":"héllo 👋 wörld"}\r\n\r\n: comment\r\ndata: second\r\ndata: line\r\n\r\nevent: b\ndata: ☃\n\n';
  const expected = parseAll(text);
  assert.equal(expected.length, 3);
  const bytes = Buffer.from(text, "utf8");
  for (let split = 1; split < bytes.length; split += 1) {
    const parser = new ServerSentEventParser();
    const events = [...parser.pushBytes(bytes.subarray(0, split)), ...parser.pushBytes(bytes.subarray(split)), ...parser.end()];
    assert.deepEqual(events, expected, `split at byte ${split}`);
  }
  for (const size of [1, 2, 3, 5]) {
    const parser = new ServerSentEventParser();
    const events: ServerSentEvent[] = [];
    for (let offset = 0; offset < bytes.length; offset += size) events.push(...parser.pushBytes(bytes.subarray(offset, offset + size)));
    events.push(...parser.end());
    assert.deepEqual(events, expected, `pieces of ${size} bytes`);
  }
});
