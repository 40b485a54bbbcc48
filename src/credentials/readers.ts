/**
 * Reading one credential source. Every failure is a `reason` string meant for operators: it names what went
 * wrong and NEVER contains secret material (no file content, no secret string, no JSON parse error text — Node's
 * JSON errors quote the input — and no unmodelled AWS error text, which may quote a response body).
 *
 * AWS reads use `@aws-sdk/client-secrets-manager` (`GetSecretValue`) and `@aws-sdk/client-ssm` (`GetParameter`,
 * `WithDecryption: true`), with the process's standard credential chain, one client per region and endpoint.
 * Tests run the real clients against a local fake: verified against recorded wire formats, not live AWS.
 */
import { readFile, stat } from "node:fs/promises";
// Types only: the AWS SDK clients are loaded on first use (below), so a gateway without AWS credential sources
// does not carry them in its heap (a larger old generation makes every major GC dearer).
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Parameter, SSMClient } from "@aws-sdk/client-ssm";
import type { SecretsManagerCredentialSource, SsmCredentialSource } from "./schema.js";

/** The secret, or why it could not be had. */
export type ReadResult = { ok: true; value: string } | { ok: false; reason: string };

/** Identity of a file version: a change of any field means the file was rewritten or replaced. */
export interface FileStamp {
  mtimeMs: number;
  inode: number;
  size: number;
}

/** AWS client timeouts, ms. */
const AWS_CONNECT_TIMEOUT_MS = 5_000;
const AWS_REQUEST_TIMEOUT_MS = 15_000;
/** Error names whose messages are known to carry no response data. */
const SAFE_MESSAGE_ERRORS = new Set(["CredentialsProviderError", "TimeoutError"]);

/** Environment variable `name` of `env`; unset or blank is a failure. */
export function readEnvSecret(env: NodeJS.ProcessEnv, name: string): ReadResult {
  const value = env[name]?.trim();
  return value ? { ok: true, value } : { ok: false, reason: `environment variable ${name} is not set or empty` };
}

/** The stamp of `path`, or undefined when it cannot be stat'ed. */
export async function stampOf(path: string): Promise<FileStamp | undefined> {
  try {
    const stats = await stat(path);
    return { mtimeMs: stats.mtimeMs, inode: stats.ino, size: stats.size };
  } catch {
    return undefined;
  }
}

/** The trimmed content of `path`; unreadable or blank is a failure (the reason has the error code, not the content). */
export async function readFileSecret(path: string): Promise<ReadResult> {
  try {
    const value = (await readFile(path, "utf8")).trim();
    return value ? { ok: true, value } : { ok: false, reason: "the file is empty" };
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : "unknown error";
    return { ok: false, reason: `the file cannot be read (${code})` };
  }
}

/** The value of a `SecretString`, or of its `jsonKey` when given. Pure. */
export function secretFromSecretString(secretString: string | undefined, jsonKey: string | undefined): ReadResult {
  if (secretString === undefined) return { ok: false, reason: "the secret has no SecretString (binary secrets are not supported)" };
  if (jsonKey === undefined) {
    const value = secretString.trim();
    return value ? { ok: true, value } : { ok: false, reason: "the SecretString is empty" };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    return { ok: false, reason: `jsonKey ${jsonKey} was given but the SecretString is not JSON` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: false, reason: `jsonKey ${jsonKey} was given but the SecretString is not a JSON object` };
  const value = (parsed as Record<string, unknown>)[jsonKey];
  if (typeof value !== "string" || value.trim() === "") return { ok: false, reason: `the secret's JSON has no non-empty string under key ${jsonKey}` };
  return { ok: true, value: value.trim() };
}

/** The value of an SSM parameter, which must be a SecureString. Pure. */
export function secretFromParameter(parameter: Parameter | undefined): ReadResult {
  if (!parameter) return { ok: false, reason: "the answer has no Parameter" };
  if (parameter.Type !== "SecureString") return { ok: false, reason: `the parameter is of type ${parameter.Type ?? "unknown"}, not SecureString` };
  const value = parameter.Value?.trim();
  return value ? { ok: true, value } : { ok: false, reason: "the parameter value is empty" };
}

/** Why an AWS call failed, without response data: modelled AWS errors give name and message; others their name and code. */
export function awsFailureReason(error: unknown): string {
  if (typeof error !== "object" || error === null) return "unknown error";
  const { name, message, code, $fault, $metadata } = error as { name?: unknown; message?: unknown; code?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const errorName = typeof name === "string" ? name : "Error";
  const modelled = ($fault === "client" || $fault === "server") && typeof $metadata?.httpStatusCode === "number";
  // The SDK fills in "UnknownError" when an AWS error body has no message (SSM's ParameterNotFound has none).
  if ((modelled || SAFE_MESSAGE_ERRORS.has(errorName)) && typeof message === "string" && message !== "" && message !== "UnknownError") return `${errorName}: ${message}`;
  if (modelled) return errorName;
  return typeof code === "string" ? `${errorName} (${code})` : errorName;
}

/** Reads AWS sources; keeps one client per service, region and endpoint. */
export class AwsSecretReader {
  private readonly secretsManagerClients = new Map<string, SecretsManagerClient>();
  private readonly ssmClients = new Map<string, SSMClient>();

  /** `GetSecretValue` (AWSCURRENT) of the source's secret. */
  async readSecretsManager(source: SecretsManagerCredentialSource): Promise<ReadResult> {
    const sdk = await import("@aws-sdk/client-secrets-manager");
    const client = this.clientFor(this.secretsManagerClients, source, (config) => new sdk.SecretsManagerClient(config));
    try {
      const { GetSecretValueCommand } = sdk;
      const answer = await client.send(new GetSecretValueCommand({ SecretId: source.secretId }));
      return secretFromSecretString(answer.SecretString, source.jsonKey);
    } catch (error) {
      return { ok: false, reason: awsFailureReason(error) };
    }
  }

  /** `GetParameter` with decryption of the source's SecureString. */
  async readSsm(source: SsmCredentialSource): Promise<ReadResult> {
    const sdk = await import("@aws-sdk/client-ssm");
    const client = this.clientFor(this.ssmClients, source, (config) => new sdk.SSMClient(config));
    try {
      const { GetParameterCommand } = sdk;
      const answer = await client.send(new GetParameterCommand({ Name: source.name, WithDecryption: true }));
      return secretFromParameter(answer.Parameter);
    } catch (error) {
      return { ok: false, reason: awsFailureReason(error) };
    }
  }

  /** Releases every client's connections. */
  destroy(): void {
    for (const client of [...this.secretsManagerClients.values(), ...this.ssmClients.values()]) client.destroy();
    this.secretsManagerClients.clear();
    this.ssmClients.clear();
  }

  private clientFor<Client>(
    clients: Map<string, Client>,
    source: { region: string; endpoint?: string | undefined },
    create: (config: { region: string; endpoint?: string; requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: boolean } }) => Client,
  ): Client {
    const key = `${source.region} ${source.endpoint ?? ""}`;
    let client = clients.get(key);
    if (!client) {
      client = create({
        region: source.region,
        ...(source.endpoint === undefined ? {} : { endpoint: source.endpoint }),
        requestHandler: { connectionTimeout: AWS_CONNECT_TIMEOUT_MS, requestTimeout: AWS_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
      });
      clients.set(key, client);
    }
    return client;
  }
}
