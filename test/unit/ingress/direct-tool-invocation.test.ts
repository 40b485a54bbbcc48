import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { directToolInvocationId, directToolRefusalFrame, isDirectToolPath } from "../../../src/ingress/direct-tool-invocation.js";

describe("direct tool invocation is never forwarded to a runtime", () => {
  test("every spelling of /tools/invoke is recognised; neighbouring paths are not", () => {
    const refused = ["/tools/invoke", "/tools/invoke?x=1", "/tools/invoke/", "/TOOLS/Invoke", "//tools///invoke", "/tools/%69nvoke", "/tools%2Finvoke", "/tools%252Finvoke", "/a/../tools/invoke", "/./tools/./invoke", "\\tools\\invoke", "/tools/invoke/extra", "tools/invoke"];
    for (const path of refused) assert.equal(isDirectToolPath(path), true, path);
    const allowed = ["/", "/v1/chat/completions", "/tools", "/tools/invoker-docs", "/tools/invokes", "/healthz", "/v1/tools/invoke-not"];
    for (const path of allowed) assert.equal(isDirectToolPath(path), false, path);
  });

  test("OpenClaw's capability-scoped spelling /__openclaw__/cap/<capability>/tools/invoke is recognised too", () => {
    const refused = ["/__openclaw__/cap/x/tools/invoke", "/__OPENCLAW__/cap/x/tools/invoke?oc_cap=y", "/__openclaw__/cap/a/__openclaw__/cap/b/tools/invoke", "/__openclaw__%2Fcap%2Fx%2Ftools%2Finvoke", "/__openclaw__/cap/x//tools/invoke/"];
    for (const path of refused) assert.equal(isDirectToolPath(path), true, path);
    // OpenClaw reads `/__openclaw__/cap/tools/invoke` as capability "tools" and path "/invoke".
    for (const path of ["/__openclaw__/cap/x", "/__openclaw__/cap/tools/invoke", "/__openclaw__/cap/x/tools"]) assert.equal(isDirectToolPath(path), false, path);
  });

  test("a tools.invoke WebSocket request is found however it is encoded; other frames pass", () => {
    const frame = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value));
    assert.equal(directToolInvocationId(frame({ type: "req", id: "7", method: "tools.invoke", params: { name: "exec" } }), false), "7");
    assert.equal(directToolInvocationId(frame('{"type":"req","id":"8","method":"tools\\u002einvoke","params":{}}'), false), "8");
    assert.equal(directToolInvocationId(frame({ type: "req", id: "9", method: " Tools.Invoke " }), true), "9", "binary frames too");
    assert.equal(directToolInvocationId(frame({ type: "req", id: 10, method: "tools.invoke" }), false), "10");
    for (const other of [{ type: "req", id: "1", method: "chat.send", params: { text: "tools.invoke" } }, { type: "req", id: "2", method: "connect" }, [1, 2], "not json", 42]) {
      assert.equal(directToolInvocationId(frame(other), false), null, JSON.stringify(other));
    }
    const refusal = JSON.parse(directToolRefusalFrame("7")) as { type: string; id: string; ok: boolean; error: { code: string } };
    assert.deepEqual([refusal.type, refusal.id, refusal.ok, refusal.error.code], ["res", "7", false, "CF_ROUTE_FORBIDDEN"]);
  });
});
