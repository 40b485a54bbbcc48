/**
 * Where a provider's secret (API key, token) comes from: the config shape, validated by zod (closed objects).
 *
 * - `{source: "env", name}`: environment variable `name`.
 * - `{source: "file", path}`: the trimmed content of a file (a mounted Kubernetes/Docker secret), re-read when
 *   the file changes. Relative paths resolve against the process's working directory.
 * - `{source: "aws-secrets-manager", secretId, region, jsonKey?, endpoint?}`: `GetSecretValue` of `secretId` (name
 *   or ARN); the `SecretString`, or the string under `jsonKey` when the secret is a JSON object (the console's
 *   key/value secrets). https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 * - `{source: "aws-ssm", name, region, endpoint?}`: `GetParameter` with `WithDecryption: true` of a
 *   `SecureString` parameter. https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 *
 * `endpoint` overrides the AWS endpoint (a VPC endpoint, LocalStack, a test fake). AWS calls use the standard
 * credential chain of the process.
 */
import { z } from "zod";

/** An AWS region name such as `us-east-1`, `eu-central-2`, `us-gov-west-1`. */
const regionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "an AWS region such as us-east-1");
const endpointSchema = z.url({ protocol: /^https?$/ }).describe("AWS endpoint override, e.g. https://vpce-….secretsmanager.us-east-1.vpce.amazonaws.com");

export const envCredentialSourceSchema = z.strictObject({
  source: z.literal("env"),
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name").describe("Environment variable holding the secret"),
});

export const fileCredentialSourceSchema = z.strictObject({
  source: z.literal("file"),
  path: z.string().min(1).describe("File whose trimmed content is the secret; re-read when it changes"),
});

export const secretsManagerCredentialSourceSchema = z.strictObject({
  source: z.literal("aws-secrets-manager"),
  secretId: z.string().min(1).max(2048).describe("Secret name or ARN"),
  region: regionSchema,
  jsonKey: z.string().min(1).optional().describe("Key of the secret's JSON object that holds the value"),
  endpoint: endpointSchema.optional(),
});

export const ssmCredentialSourceSchema = z.strictObject({
  source: z.literal("aws-ssm"),
  name: z.string().min(1).max(2048).describe("SecureString parameter name or ARN"),
  region: regionSchema,
  endpoint: endpointSchema.optional(),
});

/** A credential source in config (discriminated by `source`). */
export const credentialSourceSchema = z.discriminatedUnion("source", [
  envCredentialSourceSchema,
  fileCredentialSourceSchema,
  secretsManagerCredentialSourceSchema,
  ssmCredentialSourceSchema,
]);

export type CredentialSource = z.infer<typeof credentialSourceSchema>;
export type SecretsManagerCredentialSource = z.infer<typeof secretsManagerCredentialSourceSchema>;
export type SsmCredentialSource = z.infer<typeof ssmCredentialSourceSchema>;

/** A human description of a source for messages and logs, e.g. `aws-ssm parameter /prod/key in eu-west-1`; never the secret. */
export function describeCredentialSource(source: CredentialSource): string {
  switch (source.source) {
    case "env":
      return `env variable ${source.name}`;
    case "file":
      return `file ${source.path}`;
    case "aws-secrets-manager":
      return `aws-secrets-manager secret ${source.secretId}${source.jsonKey === undefined ? "" : ` key ${source.jsonKey}`} in ${source.region}`;
    case "aws-ssm":
      return `aws-ssm parameter ${source.name} in ${source.region}`;
  }
}
