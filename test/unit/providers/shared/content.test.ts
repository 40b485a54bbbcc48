import assert from "node:assert/strict";
import { test } from "node:test";
import { joinedText, parseDataUrl, parseToolArguments } from "../../../../src/providers/shared/content.js";
import { WarningList } from "../../../../src/providers/shared/warnings.js";

test("parseDataUrl splits base64 data URLs and refuses others", () => {
  assert.deepEqual(parseDataUrl("data:image/png;base64,iVBORw0KGgo="), { mediaType: "image/png", data: "iVBORw0KGgo=" });
  assert.deepEqual(parseDataUrl("data:image/jpeg;name=a.jpg;base64,/9j/4AAQ"), { mediaType: "image/jpeg", data: "/9j/4AAQ" });
  assert.equal(parseDataUrl("data:text/plain,hello"), null);
  assert.equal(parseDataUrl("https://example.com/cat.png"), null);
});

test("parseToolArguments: objects parse, empty is {}, anything else is {} and not ok", () => {
  assert.deepEqual(parseToolArguments('{"path":"/etc/hostname"}'), { value: { path: "/etc/hostname" }, ok: true });
  assert.deepEqual(parseToolArguments("  "), { value: {}, ok: true });
  assert.deepEqual(parseToolArguments("[1,2]"), { value: {}, ok: false });
  assert.deepEqual(parseToolArguments('{"path":'), { value: {}, ok: false });
});

test("joinedText joins text parts only", () => {
  assert.equal(joinedText([{ type: "text", text: "a" }, { type: "image", source: { kind: "url", url: "u" } }, { type: "text", text: "b" }]), "a\nb");
});

test("WarningList keeps one warning per parameter, first message wins, in order", () => {
  const warnings = new WarningList();
  warnings.add("seed", "first");
  warnings.add("top_k", "k");
  warnings.add("seed", "second");
  assert.deepEqual(warnings.toArray(), [
    { parameter: "seed", message: "first" },
    { parameter: "top_k", message: "k" },
  ]);
});
