/**
 * CredentialStore: env and file sources, and AWS Secrets Manager / SSM through the REAL AWS SDK clients against
 * `test/support/fake-aws-secrets.ts` (JSON 1.1 protocol, SigV4 verified). Verified against recorded wire
 * formats, not live AWS. The AWS clients take their keys from the default credential chain, here the
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables of this test process.
 */
import assert from "node:assert/strict";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { ClawfleetError } from "../../../src/contracts/errors.js";
import type { CredentialSource } from "../../../src/credentials/schema.js";
import { CredentialStore, type CredentialLogger, type CredentialStoreOptions } from "../../../src/credentials/store.js";
import { startFakeAwsSecrets, type FakeAwsSecrets } from "../../support/fake-aws-secrets.js";

const TEST_TIMEOUT = { timeout: 15_000 };
const SECRET_ONE = "sk-live-FIRST-secret-value-111";
const SECRET_TWO = "sk-live-SECOND-secret-value-22";
const SECRET_FRAGMENTS = ["FIRST-secret", "SECOND-secret", "THIRD-secret"];

let fake: FakeAwsSecrets;
const savedEnvironment: Record<string, string | undefined> = {};

before(async () => {
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) savedEnvironment[name] = process.env[name];
  process.env.AWS_ACCESS_KEY_ID = "AKIDTEST";
  process.env.AWS_SECRET_ACCESS_KEY = "secret";
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  fake = await startFakeAwsSecrets({ secrets: { AKIDTEST: "secret" } });
});

after(async () => {
  await fake.close();
  for (const [name, value] of Object.entries(savedEnvironment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** A logger that records every entry, to prove no secret is ever logged. */
function recordingLogger(): CredentialLogger & { entries: Array<{ level: string; details: Record<string, unknown>; message: string }> } {
  const entries: Array<{ level: string; details: Record<string, unknown>; message: string }> = [];
  return {
    entries,
    info: (details, message) => entries.push({ level: "info", details, message }),
    warn: (details, message) => entries.push({ level: "warn", details, message }),
  };
}

function assertNoSecret(text: string): void {
  for (const fragment of SECRET_FRAGMENTS) assert.ok(!text.includes(fragment), `secret text leaked: ${text}`);
}

function storeFor(context: TestContext, sources: Record<string, CredentialSource>, options: CredentialStoreOptions = {}): CredentialStore {
  const store = new CredentialStore(sources, options);
  context.after(() => store.stop());
  return store;
}

async function temporaryDirectory(context: TestContext): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), "clawfleet-credentials-"));
  context.after(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

async function eventually(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function startFailure(store: CredentialStore): Promise<ClawfleetError> {
  try {
    await store.start();
  } catch (error) {
    assert.ok(error instanceof ClawfleetError);
    return error;
  }
  assert.fail("start() should have failed");
}

test("env source: loaded at start, read synchronously", TEST_TIMEOUT, async (context) => {
  const store = storeFor(context, { openai: { source: "env", name: "OPENAI_KEY" } }, { env: { OPENAI_KEY: `${SECRET_ONE}\n` } });
  await store.start();
  assert.equal(store.get("openai"), SECRET_ONE);
  assert.throws(() => store.get("unknown"), (error: unknown) => error instanceof ClawfleetError && error.code === "CF_CONFIG_INVALID");
});

test("get before start is a CF_INTERNAL error", () => {
  const store = new CredentialStore({ openai: { source: "env", name: "OPENAI_KEY" } }, { env: { OPENAI_KEY: SECRET_ONE } });
  assert.throws(() => store.get("openai"), (error: unknown) => error instanceof ClawfleetError && error.code === "CF_INTERNAL");
});

test("file source: trimmed content; rotation by rewriting or replacing the file needs no restart", TEST_TIMEOUT, async (context) => {
  const directory = await temporaryDirectory(context);
  const file = path.join(directory, "anthropic-key");
  await writeFile(file, `${SECRET_ONE}\n`);
  const logger = recordingLogger();
  const store = storeFor(context, { anthropic: { source: "file", path: file } }, { fileCheckMs: 20, logger });
  await store.start();
  assert.equal(store.get("anthropic"), SECRET_ONE);

  await writeFile(file, `${SECRET_TWO}\n`);
  await eventually(() => store.get("anthropic") === SECRET_TWO, "the rewritten file is picked up");

  // Kubernetes-style atomic replacement: a new file renamed over the old one.
  const replacement = path.join(directory, "anthropic-key.new");
  await writeFile(replacement, "sk-live-THIRD-secret-value-333");
  await rename(replacement, file);
  await eventually(() => store.get("anthropic") === "sk-live-THIRD-secret-value-333", "the replaced file is picked up");

  // An emptied file keeps the last value and warns.
  await writeFile(file, "");
  await eventually(() => logger.entries.some((entry) => entry.level === "warn"), "a warning for the empty file");
  assert.equal(store.get("anthropic"), "sk-live-THIRD-secret-value-333");
  assert.deepEqual(logger.entries.map((entry) => entry.message).filter((message) => message.includes("rotated")).length, 2);
  assertNoSecret(JSON.stringify(logger.entries));
});

test("aws-secrets-manager: GetSecretValue through the real client, plain and JSON key; rotation seen after refresh", TEST_TIMEOUT, async (context) => {
  fake.putSecret("prod/openai", SECRET_ONE);
  fake.putSecret("prod/bundle", JSON.stringify({ anthropicKey: SECRET_TWO, unused: "x" }));
  const logger = recordingLogger();
  const store = storeFor(
    context,
    {
      openai: { source: "aws-secrets-manager", secretId: "prod/openai", region: "eu-central-1", endpoint: fake.endpoint },
      anthropic: { source: "aws-secrets-manager", secretId: "prod/bundle", region: "eu-central-1", jsonKey: "anthropicKey", endpoint: fake.endpoint },
    },
    { logger },
  );
  const before = fake.requests.length;
  await store.start();
  assert.equal(store.get("openai"), SECRET_ONE);
  assert.equal(store.get("anthropic"), SECRET_TWO);

  const sent = fake.requests.slice(before);
  assert.deepEqual(sent.map((request) => request.target).sort(), ["secretsmanager.GetSecretValue", "secretsmanager.GetSecretValue"]);
  assert.deepEqual(sent.map((request) => request.body).sort((left, right) => JSON.stringify(left).localeCompare(JSON.stringify(right))), [{ SecretId: "prod/bundle" }, { SecretId: "prod/openai" }]);
  for (const request of sent) {
    assert.equal(request.signature.accessKeyId, "AKIDTEST", "keys from the default credential chain (env)");
    assert.equal(request.signature.region, "eu-central-1");
    assert.equal(request.signature.service, "secretsmanager");
    assert.equal(request.signature.valid, true);
  }

  fake.putSecret("prod/openai", "sk-live-THIRD-secret-value-333");
  assert.equal(store.get("openai"), SECRET_ONE, "nothing changes before a refresh");
  await store.refresh();
  assert.equal(store.get("openai"), "sk-live-THIRD-secret-value-333");
  assert.equal(logger.entries.filter((entry) => entry.message.includes("rotated")).length, 1);
  assertNoSecret(JSON.stringify(logger.entries));
});

test("aws sources are refreshed by the timer every refreshMs", TEST_TIMEOUT, async (context) => {
  fake.putSecret("timed/key", SECRET_ONE);
  const store = storeFor(context, { timed: { source: "aws-secrets-manager", secretId: "timed/key", region: "us-east-1", endpoint: fake.endpoint } }, { refreshMs: 50 });
  await store.start();
  fake.putSecret("timed/key", SECRET_TWO);
  await eventually(() => store.get("timed") === SECRET_TWO, "the timer refresh picks up the rotation");
});

test("aws-ssm: GetParameter WithDecryption of a SecureString; rotation after refresh", TEST_TIMEOUT, async (context) => {
  fake.putParameter("/prod/anthropic/key", SECRET_ONE);
  const store = storeFor(context, { anthropic: { source: "aws-ssm", name: "/prod/anthropic/key", region: "ap-northeast-1", endpoint: fake.endpoint } });
  const before = fake.requests.length;
  await store.start();
  assert.equal(store.get("anthropic"), SECRET_ONE);
  const [sent] = fake.requests.slice(before);
  assert.equal(sent?.target, "AmazonSSM.GetParameter");
  assert.deepEqual(sent?.body, { Name: "/prod/anthropic/key", WithDecryption: true });
  assert.equal(sent?.signature.service, "ssm");
  assert.equal(sent?.signature.region, "ap-northeast-1");
  assert.equal(sent?.signature.valid, true);

  fake.putParameter("/prod/anthropic/key", SECRET_TWO);
  await store.refresh();
  assert.equal(store.get("anthropic"), SECRET_TWO);
});

test("a failed refresh keeps the last good value and warns without secret text", TEST_TIMEOUT, async (context) => {
  fake.putSecret("flaky/json", JSON.stringify({ key: SECRET_ONE }));
  const logger = recordingLogger();
  const store = storeFor(context, { flaky: { source: "aws-secrets-manager", secretId: "flaky/json", region: "us-east-1", jsonKey: "key", endpoint: fake.endpoint } }, { logger });
  await store.start();
  // Rotated to a value that is not JSON: the raw secret must not reach the log through a parse error.
  fake.putSecret("flaky/json", "sk-live-SECOND-secret-value-22 not json");
  await store.refresh();
  assert.equal(store.get("flaky"), SECRET_ONE);
  const warning = logger.entries.find((entry) => entry.level === "warn");
  assert.deepEqual(warning?.details, { provider: "flaky", source: "aws-secrets-manager secret flaky/json key key in us-east-1", reason: "jsonKey key was given but the SecretString is not JSON" });
  assertNoSecret(JSON.stringify(logger.entries));
});

test("missing secrets fail start with one CF_CONFIG_INVALID naming every provider and source, never a secret", TEST_TIMEOUT, async (context) => {
  const directory = await temporaryDirectory(context);
  fake.putParameter("/plain/param", "sk-live-SECOND-secret-value-22", "String");
  fake.putSecret("present/secret", "sk-live-FIRST-secret-value-111 not json");
  const store = storeFor(context, {
    good: { source: "env", name: "PRESENT" },
    missingSecret: { source: "aws-secrets-manager", secretId: "does/not/exist", region: "us-east-1", endpoint: fake.endpoint },
    missingParameter: { source: "aws-ssm", name: "/does/not/exist", region: "us-east-1", endpoint: fake.endpoint },
    plainParameter: { source: "aws-ssm", name: "/plain/param", region: "us-east-1", endpoint: fake.endpoint },
    badJson: { source: "aws-secrets-manager", secretId: "present/secret", region: "us-east-1", jsonKey: "key", endpoint: fake.endpoint },
    missingFile: { source: "file", path: path.join(directory, "absent") },
    missingEnv: { source: "env", name: "ABSENT_VARIABLE" },
  }, { env: { PRESENT: SECRET_ONE } });
  const error = await startFailure(store);
  assert.equal(error.code, "CF_CONFIG_INVALID");
  assert.equal(error.cause, undefined, "no cause that could carry response data");
  const failures = (error.details as { failures: Array<{ provider: string; source: string; reason: string }> }).failures;
  const byProvider = Object.fromEntries(failures.map((failure) => [failure.provider, failure]));
  assert.deepEqual(Object.keys(byProvider).sort(), ["badJson", "missingEnv", "missingFile", "missingParameter", "missingSecret", "plainParameter"]);
  assert.deepEqual(byProvider.missingSecret, {
    provider: "missingSecret",
    source: "aws-secrets-manager secret does/not/exist in us-east-1",
    reason: "ResourceNotFoundException: Secrets Manager can't find the specified secret.",
  });
  assert.equal(byProvider.missingParameter?.reason, "ParameterNotFound");
  assert.equal(byProvider.plainParameter?.reason, "the parameter is of type String, not SecureString");
  assert.equal(byProvider.missingFile?.reason, "the file cannot be read (ENOENT)");
  assert.match(error.message, /provider missingSecret \(aws-secrets-manager secret does\/not\/exist in us-east-1\): ResourceNotFoundException/);
  assertNoSecret(`${error.message} ${JSON.stringify(error.details)} ${String(error.stack)}`);
});
