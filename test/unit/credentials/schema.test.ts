/** The credential source config schema: closed objects, one shape per source. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { credentialSourceSchema, describeCredentialSource } from "../../../src/credentials/schema.js";

test("each source kind parses", () => {
  const sources = [
    { source: "env", name: "OPENAI_API_KEY" },
    { source: "file", path: "/run/secrets/openai" },
    { source: "aws-secrets-manager", secretId: "prod/openai", region: "us-east-1", jsonKey: "apiKey" },
    { source: "aws-secrets-manager", secretId: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf", region: "eu-west-1", endpoint: "https://vpce-1.secretsmanager.eu-west-1.vpce.amazonaws.com" },
    { source: "aws-ssm", name: "/prod/anthropic/key", region: "us-gov-west-1" },
  ];
  for (const source of sources) assert.deepEqual(credentialSourceSchema.parse(source), source);
});

test("unknown keys, unknown kinds and malformed fields are refused", () => {
  const refused = [
    { source: "env", name: "KEY", value: "inline-secret" },
    { source: "vault", path: "secret/x" },
    { source: "env", name: "1BAD-NAME" },
    { source: "file", path: "" },
    { source: "aws-ssm", name: "/x", region: "Frankfurt" },
    { source: "aws-secrets-manager", secretId: "x", region: "us-east-1", endpoint: "ftp://example.com" },
    { source: "aws-secrets-manager", secretId: "x" },
  ];
  for (const source of refused) assert.equal(credentialSourceSchema.safeParse(source).success, false, JSON.stringify(source));
});

test("descriptions name the source, never a value", () => {
  assert.equal(describeCredentialSource({ source: "env", name: "KEY" }), "env variable KEY");
  assert.equal(describeCredentialSource({ source: "aws-secrets-manager", secretId: "prod/x", region: "us-east-1", jsonKey: "k" }), "aws-secrets-manager secret prod/x key k in us-east-1");
  assert.equal(describeCredentialSource({ source: "aws-ssm", name: "/p", region: "eu-west-1" }), "aws-ssm parameter /p in eu-west-1");
});
