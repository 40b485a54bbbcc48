import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { imageSourceFromUrl } from "../../../../src/apis/shared/images.js";
import { parseArgumentsObject } from "../../../../src/apis/shared/json.js";
import { formatBodyPath, validateRequestBody } from "../../../../src/apis/shared/validation.js";
import { ClawfleetError } from "../../../../src/contracts/errors.js";

const schema = z.strictObject({
  name: z.string(),
  items: z.array(z.discriminatedUnion("type", [z.strictObject({ type: z.literal("a"), value: z.number() }), z.strictObject({ type: z.literal("b") })])).optional(),
  either: z.union([z.string(), z.array(z.strictObject({ text: z.string() }))]).optional(),
});

test("paths are formatted like OpenAI's param", () => {
  assert.equal(formatBodyPath([]), "body");
  assert.equal(formatBodyPath(["messages", 2, "content", 0, "type"]), "messages[2].content[0].type");
  assert.equal(formatBodyPath([3, "x"]), "[3].x");
});

test("unknown keys become warnings and are removed; the input is not mutated", () => {
  const input = { name: "n", extra: true, items: [{ type: "a", value: 1, note: "x" }], either: [{ text: "t", more: 1 }] };
  const snapshot = structuredClone(input);
  const { data, warnings } = validateRequestBody(schema, input);
  assert.deepEqual(data, { name: "n", items: [{ type: "a", value: 1 }], either: [{ text: "t" }] });
  assert.deepEqual(
    warnings.map((warning) => warning.parameter),
    ["items[0].note", "either[0].more", "extra"],
  );
  assert.deepEqual(input, snapshot);
});

test("a prefix places nested validation inside the body", () => {
  const { warnings } = validateRequestBody(z.strictObject({ a: z.string() }), { a: "x", b: 1 }, ["tools", 4]);
  assert.deepEqual(warnings, [{ parameter: "tools[4].b", message: "unknown parameter; ignored" }]);
  assert.throws(
    () => validateRequestBody(z.strictObject({ a: z.string() }), {}, ["tools", 4]),
    (error: unknown) => error instanceof ClawfleetError && error.details?.param === "tools[4].a" && /Missing required parameter: 'tools\[4\]\.a'/.test(error.message),
  );
});

test("errors: the first real problem wins over unknown keys; unions are opened at the matching branch", () => {
  const param = (value: unknown) => {
    try {
      validateRequestBody(schema, value);
    } catch (error) {
      assert.ok(error instanceof ClawfleetError);
      assert.equal(error.code, "CF_VALIDATION_FAILED");
      return error.details?.param;
    }
    return "no error";
  };
  assert.equal(param({ name: "n", extra: 1, items: [{ type: "a", value: "NaN" }] }), "items[0].value");
  assert.equal(param({ name: "n", items: [{ type: "c" }] }), "items[0].type");
  assert.equal(param({ name: "n", either: [{ text: 5 }] }), "either[0].text");
  assert.equal(param({ name: "n", either: 5 }), "either");
  assert.equal(param(null), "body");
});

test("data: URLs with base64 become inline images; other URLs stay URLs", () => {
  assert.deepEqual(imageSourceFromUrl("data:image/webp;base64,UklGRg=="), { kind: "base64", mediaType: "image/webp", data: "UklGRg==" });
  assert.deepEqual(imageSourceFromUrl("data:image/png;name=a.png;base64,AAAA"), { kind: "base64", mediaType: "image/png", data: "AAAA" });
  assert.deepEqual(imageSourceFromUrl("data:text/plain,hello"), { kind: "url", url: "data:text/plain,hello" });
  assert.deepEqual(imageSourceFromUrl("https://example.com/a.png"), { kind: "url", url: "https://example.com/a.png" });
});

test("tool arguments parse into objects; anything else is null", () => {
  assert.deepEqual(parseArgumentsObject('{"a":1}'), { a: 1 });
  assert.deepEqual(parseArgumentsObject("  "), {});
  assert.equal(parseArgumentsObject("[1]"), null);
  assert.equal(parseArgumentsObject("{"), null);
});
