import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CanonicalMessage, CanonicalRequest } from "../../../src/contracts/chat.js";
import { canonicalArguments, checkLoop, runStartIndex } from "../../../src/governance/safety/loop-guard.js";

const CONFIG = { enabled: true, maxIdenticalToolCalls: 3, maxModelCallsPerRun: 5 };
const INTERNAL: CanonicalMessage = { role: "user", content: [{ type: "text", text: "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nConversation data\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>" }] };
const user = (text: string): CanonicalMessage => ({ role: "user", content: [{ type: "text", text }] });
const call = (name: string, args: string, id = "c"): CanonicalMessage => ({ role: "assistant", content: [{ type: "tool_call", id, name, arguments: args }] });
const result = (id = "c"): CanonicalMessage => ({ role: "tool", content: [{ type: "tool_result", toolCallId: id, content: [{ type: "text", text: "ok" }] }] });
const request = (messages: CanonicalMessage[]): CanonicalRequest => ({ model: "m", stream: true, messages: [{ role: "system", content: [{ type: "text", text: "sys" }] }, ...messages] });

function repeated(times: number, name = "exec", args = '{"command":"ls"}'): CanonicalMessage[] {
  return Array.from({ length: times }, (_, index) => [call(name, args, `c${index}`), result(`c${index}`)]).flat();
}

describe("loop guard", () => {
  test("the run starts after the last real user message; OpenClaw's internal context and tool results do not start one", () => {
    const messages = [user("first"), call("ls", "{}"), result(), user("second"), call("ls", "{}"), result(), INTERNAL];
    assert.equal(runStartIndex(messages), 4);
    const anthropicToolResults: CanonicalMessage = { role: "user", content: [{ type: "tool_result", toolCallId: "c", content: [{ type: "text", text: "x" }] }] };
    assert.equal(runStartIndex([user("q"), call("ls", "{}"), anthropicToolResults]), 1);
    assert.equal(runStartIndex([call("ls", "{}")]), 0);
  });

  test("identical calls: same name and canonical-JSON arguments, whatever the key order or spacing", () => {
    assert.equal(canonicalArguments('{"b": 2, "a": {"y": 1, "x": [1, {"d":0,"c":1}]}}'), '{"a":{"x":[1,{"c":1,"d":0}],"y":1},"b":2}');
    assert.equal(canonicalArguments(" not json "), "not json");
    const messages = [user("go"), call("exec", '{"command":"ls","cwd":"/w"}', "a"), result("a"), call("exec", '{"cwd": "/w", "command": "ls"}', "b"), result("b"), call("exec", '{ "command" : "ls" , "cwd":"/w" }', "c"), result("c"), INTERNAL];
    const verdict = checkLoop(request(messages), CONFIG);
    assert.equal(verdict.kind, "stop");
    assert.ok(verdict.kind === "stop" && verdict.reason === "identical_tool_calls");
    assert.equal(verdict.tool, "exec");
    assert.equal(verdict.count, 3);
    assert.match(verdict.message, /`exec` with the same arguments 3 times/);
  });

  test("table: when the guard stops", () => {
    const cases: Array<{ name: string; messages: CanonicalMessage[]; expected: string }> = [
      { name: "fresh request", messages: [user("hi"), INTERNAL], expected: "continue" },
      { name: "two identical calls", messages: [user("go"), ...repeated(2), INTERNAL], expected: "continue" },
      { name: "three identical calls", messages: [user("go"), ...repeated(3), INTERNAL], expected: "identical_tool_calls" },
      { name: "different arguments each time", messages: [user("go"), ...[1, 2, 3, 4].flatMap((n) => [call("exec", `{"command":"ls ${n}"}`, `c${n}`), result(`c${n}`)]), INTERNAL], expected: "continue" },
      { name: "five model calls in the run", messages: [user("go"), ...[1, 2, 3, 4, 5].flatMap((n) => [call("read", `{"path":"f${n}"}`, `c${n}`), result(`c${n}`)]), INTERNAL], expected: "too_many_model_calls" },
      { name: "an earlier run's repeats do not count", messages: [user("old"), ...repeated(3), { role: "assistant", content: [{ type: "text", text: "done" }] }, user("new"), ...repeated(2), INTERNAL], expected: "continue" },
      { name: "same arguments, different tools", messages: [user("go"), call("read", "{}", "a"), result("a"), call("ls", "{}", "b"), result("b"), call("edit", "{}", "c"), result("c")], expected: "continue" },
    ];
    for (const entry of cases) {
      const verdict = checkLoop(request(entry.messages), CONFIG);
      assert.equal(verdict.kind === "stop" ? verdict.reason : verdict.kind, entry.expected, entry.name);
    }
  });

  test("disabled: never stops, still counts", () => {
    const verdict = checkLoop(request([user("go"), ...repeated(9)]), { ...CONFIG, enabled: false });
    assert.deepEqual(verdict, { kind: "continue", modelCalls: 9, mostRepeated: 9 });
  });
});
