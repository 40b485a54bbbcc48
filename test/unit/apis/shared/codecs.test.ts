import assert from "node:assert/strict";
import { test } from "node:test";
import { CLIENT_API_CODECS } from "../../../../src/apis/index.js";
import type { ClientApi } from "../../../../src/contracts/chat.js";

test("CLIENT_API_CODECS has one codec per client API, each on its own path", () => {
  const apis = Object.keys(CLIENT_API_CODECS).sort();
  assert.deepEqual(apis, ["anthropic-messages", "openai-chat", "openai-responses"]);
  for (const api of apis as ClientApi[]) assert.equal(CLIENT_API_CODECS[api].api, api);
  assert.deepEqual(
    Object.values(CLIENT_API_CODECS).map((codec) => codec.path),
    ["/v1/chat/completions", "/v1/responses", "/v1/messages"],
  );
  assert.ok(Object.isFrozen(CLIENT_API_CODECS));
});

test("stream encoders are independent per answer", () => {
  for (const codec of Object.values(CLIENT_API_CODECS)) {
    const first = codec.createStreamEncoder("m", { includeUsage: true });
    const second = codec.createStreamEncoder("m", { includeUsage: true });
    first.encode({ type: "start", id: "a", model: "u", createdAt: 1 });
    first.encode({ type: "error", status: 500, message: "x", errorType: "api_error" });
    assert.notEqual(second.encode({ type: "start", id: "b", model: "u", createdAt: 1 }), "", codec.api);
  }
});
