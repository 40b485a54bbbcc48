import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CanonicalRequest } from "../../../src/contracts/chat.js";
import { ClawfleetError } from "../../../src/contracts/errors.js";
import { applyInputLimits, truncateUtf8, type InputLimitsConfig } from "../../../src/governance/safety/input-limits.js";

const LIMITS: InputLimitsConfig = { mode: "reject", maxMessageBytes: 2048, maxTotalBytes: 4096, maxToolArgumentsBytes: 512, maxTools: 3 };

function request(overrides: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: "m", stream: false, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], ...overrides };
}

function codeOf(run: () => unknown): { code: string; details: Record<string, unknown> } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ClawfleetError);
    return { code: error.code, details: error.details ?? {} };
  }
  assert.fail("expected a ClawfleetError");
}

describe("input limits", () => {
  test("tool names follow OpenAI's function-name rule", () => {
    for (const name of ["exec", "tool_call", "web-fetch", "A1", "x".repeat(64)]) {
      assert.deepEqual(applyInputLimits(request({ tools: [{ name, parameters: {} }] }), LIMITS), []);
    }
    for (const name of ["", "has space", "dots.not.allowed", "x".repeat(65), "naïve", "exec;rm", "functions/exec"]) {
      const { code, details } = codeOf(() => applyInputLimits(request({ tools: [{ name: "ok", parameters: {} }, { name, parameters: {} }] }), LIMITS));
      assert.equal(code, "CF_INVALID_TOOL_NAME", name);
      assert.equal(details.param, "tools[1].name");
    }
    assert.equal(codeOf(() => applyInputLimits(request({ toolChoice: { type: "tool", name: "a b" } }), LIMITS)).code, "CF_INVALID_TOOL_NAME");
  });

  test("a tool name in the history (model output) is not refused", () => {
    const history = request({ messages: [{ role: "assistant", content: [{ type: "tool_call", id: "c1", name: "functions.exec", arguments: "{}" }] }] });
    assert.deepEqual(applyInputLimits(history, LIMITS), []);
  });

  test("too many tools, too large a message, too much text in total, too large tool arguments", () => {
    const tools = Array.from({ length: 4 }, (_, index) => ({ name: `t${index}`, parameters: {} }));
    assert.deepEqual(codeOf(() => applyInputLimits(request({ tools }), LIMITS)).details.limit, "maxTools");
    const big = codeOf(() => applyInputLimits(request({ messages: [{ role: "user", content: [{ type: "text", text: "é".repeat(1100) }] }] }), LIMITS));
    assert.equal(big.code, "CF_INPUT_TOO_LARGE");
    assert.deepEqual([big.details.param, big.details.limit, big.details.actualBytes], ["messages[0]", "maxMessageBytes", 2200], "sizes are UTF-8 bytes, not characters");
    const many = Array.from({ length: 3 }, () => ({ role: "user" as const, content: [{ type: "text" as const, text: "a".repeat(2000) }] }));
    assert.deepEqual(codeOf(() => applyInputLimits(request({ messages: many }), LIMITS)).details.limit, "maxTotalBytes");
    const toolResult = request({ messages: [{ role: "tool", content: [{ type: "tool_result", toolCallId: "c", content: [{ type: "text", text: "r".repeat(3000) }] }] }] });
    assert.deepEqual(codeOf(() => applyInputLimits(toolResult, LIMITS)).details.param, "messages[0]", "tool results count as message text");
    const args = request({ messages: [{ role: "assistant", content: [{ type: "tool_call", id: "c1", name: "write", arguments: JSON.stringify({ content: "x".repeat(600) }) }] }] });
    const argsError = codeOf(() => applyInputLimits(args, LIMITS));
    assert.deepEqual([argsError.code, argsError.details.param], ["CF_INPUT_TOO_LARGE", "messages[0].tool_calls[0].arguments"]);
    assert.equal(codeOf(() => applyInputLimits(args, { ...LIMITS, mode: "truncate" })).code, "CF_INPUT_TOO_LARGE", "arguments are never truncated");
  });

  test("truncate mode cuts over-long texts at a character boundary, marks the cut and reports the replacement", () => {
    const text = `${"ü".repeat(1500)}END`;
    const canonical = request({ messages: [{ role: "user", content: [{ type: "text", text }] }] });
    const replacements = applyInputLimits(canonical, { ...LIMITS, mode: "truncate" });
    const part = canonical.messages[0]?.content[0] as { text: string };
    assert.equal(replacements.length, 1);
    assert.equal(replacements[0]?.original, text);
    assert.equal(replacements[0]?.replacement, part.text);
    assert.ok(Buffer.byteLength(part.text) <= 2048);
    assert.match(part.text, /truncated by Clawfleet: 3003 bytes exceeded the 2048-byte limit/);
    assert.equal(part.text.includes("\uFFFD"), false);
    const total = Array.from({ length: 3 }, () => ({ role: "user" as const, content: [{ type: "text" as const, text: "a".repeat(2000) }] }));
    const overall = request({ messages: total });
    applyInputLimits(overall, { ...LIMITS, mode: "truncate" });
    const bytes = overall.messages.reduce((sum, message) => sum + Buffer.byteLength((message.content[0] as { text: string }).text), 0);
    assert.ok(bytes <= 4096, `total after truncation ${bytes}`);
  });

  test("truncateUtf8 leaves short text alone", () => {
    assert.equal(truncateUtf8("short", 100), "short");
  });
});
