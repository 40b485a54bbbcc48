/** Pure parts of the source readers: secret extraction and failure reasons, which must never carry secret text. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ResourceNotFoundException } from "@aws-sdk/client-secrets-manager";
import { awsFailureReason, readEnvSecret, secretFromParameter, secretFromSecretString } from "../../../src/credentials/readers.js";

const SECRET = "sk-live-TOPSECRET-0123456789";

test("SecretString, trimmed, or the string under jsonKey", () => {
  assert.deepEqual(secretFromSecretString(` ${SECRET}\n`, undefined), { ok: true, value: SECRET });
  assert.deepEqual(secretFromSecretString(JSON.stringify({ apiKey: SECRET, other: 1 }), "apiKey"), { ok: true, value: SECRET });
  assert.equal(secretFromSecretString(undefined, undefined).ok, false);
  assert.equal(secretFromSecretString("   ", undefined).ok, false);
  assert.equal(secretFromSecretString(JSON.stringify({ other: SECRET }), "apiKey").ok, false);
  assert.equal(secretFromSecretString(JSON.stringify([SECRET]), "apiKey").ok, false);
});

test("a SecretString that is not JSON is reported without quoting it (Node's JSON errors would)", () => {
  const result = secretFromSecretString(SECRET, "apiKey");
  assert.equal(result.ok, false);
  assert.ok(!result.ok && !result.reason.includes("sk-live"), !result.ok ? result.reason : "");
});

test("SSM parameters must be SecureString", () => {
  assert.deepEqual(secretFromParameter({ Name: "/p", Type: "SecureString", Value: SECRET }), { ok: true, value: SECRET });
  const plain = secretFromParameter({ Name: "/p", Type: "String", Value: SECRET });
  assert.deepEqual(plain, { ok: false, reason: "the parameter is of type String, not SecureString" });
  assert.equal(secretFromParameter(undefined).ok, false);
});

test("failure reasons: modelled AWS errors give name and message; others only name and code", () => {
  const notFound = new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: { httpStatusCode: 400 } });
  assert.equal(awsFailureReason(notFound), "ResourceNotFoundException: Secrets Manager can't find the specified secret.");
  const parseFailure = Object.assign(new SyntaxError(`Unexpected token in ${SECRET}`), { $responseBodyText: SECRET });
  assert.equal(awsFailureReason(parseFailure), "SyntaxError");
  assert.equal(awsFailureReason(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })), "Error (ECONNREFUSED)");
});

test("env: set and trimmed, or a failure naming the variable", () => {
  assert.deepEqual(readEnvSecret({ KEY: ` ${SECRET} ` }, "KEY"), { ok: true, value: SECRET });
  assert.deepEqual(readEnvSecret({ KEY: "" }, "KEY"), { ok: false, reason: "environment variable KEY is not set or empty" });
});
