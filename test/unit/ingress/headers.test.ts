import assert from "node:assert/strict";
import { test } from "node:test";
import { callerResponseHeaders } from "../../../src/ingress/headers.js";

test("runtime response headers: the UI's own security headers pass, cookies and hop-by-hop headers do not", () => {
  const passed = callerResponseHeaders({
    "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-cache",
    "set-cookie": ["cf_session=attacker; Path=/", "openclaw_plugin=x; Path=/t/acme/"],
    connection: "keep-alive",
    "transfer-encoding": "chunked",
    "x-absent": undefined,
  });
  assert.deepEqual(passed, {
    "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-cache",
  });
});
