/**
 * AWS Signature Version 4 checks for the fake AWS endpoints of the tests (`fake-bedrock.ts`,
 * `fake-aws-secrets.ts`): parses the `authorization` header an AWS SDK client sent and, when the secret
 * key of its access key id is known, recomputes the signature with `@smithy/signature-v4` (the signer the
 * SDK itself uses) over the request as received, so a test proves that the request was really signed with
 * that secret, for that region and service, over those bytes.
 *
 * Header shape (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html):
 * `AWS4-HMAC-SHA256 Credential=<AKID>/<yyyymmdd>/<region>/<service>/aws4_request, SignedHeaders=a;b;c, Signature=<64 hex>`.
 */
import { createHash, createHmac } from "node:crypto";
import type http from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";

/** What the `authorization` header of one request says, and whether its signature checked out. */
export interface SignatureCheck {
  /** The header as sent, or undefined when absent. */
  authorization: string | undefined;
  /** True when the header has the SigV4 shape above. */
  wellFormed: boolean;
  accessKeyId?: string;
  /** `yyyymmdd` of the credential scope. */
  date?: string;
  region?: string;
  service?: string;
  signedHeaders?: string[];
  /**
   * `true` when the recomputed signature matches, `false` when it does not, `undefined` when the secret of
   * `accessKeyId` is not known to the fake (or the header is malformed).
   */
  valid: boolean | undefined;
}

const AUTHORIZATION_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, SignedHeaders=([a-z0-9;.-]+), Signature=([0-9a-f]{64})$/;

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Node-crypto SHA-256 / HMAC-SHA-256 in the `Checksum` shape `@smithy/signature-v4` expects. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    throw new Error("fake-aws-signature: reset is not supported");
  }
}

/** `20250101T000000Z` → Date. */
function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  return new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1, hour ?? 0, minute ?? 0, second ?? 0));
}

/**
 * Checks the SigV4 signature of a received request. `secrets` maps access key ids to secret keys;
 * `rawBody` is the request body exactly as received.
 */
export async function checkSignature(request: http.IncomingMessage, rawBody: Buffer, secrets: Record<string, string>): Promise<SignatureCheck> {
  const authorization = typeof request.headers.authorization === "string" ? request.headers.authorization : undefined;
  const match = authorization === undefined ? null : AUTHORIZATION_PATTERN.exec(authorization);
  if (!match) return { authorization, wellFormed: false, valid: undefined };
  const [, accessKeyId = "", date = "", region = "", service = "", signedHeaderList = "", signature = ""] = match;
  const signedHeaders = signedHeaderList.split(";");
  const check: SignatureCheck = { authorization, wellFormed: true, accessKeyId, date, region, service, signedHeaders, valid: undefined };
  const secretAccessKey = secrets[accessKeyId];
  const amzDate = typeof request.headers["x-amz-date"] === "string" ? parseAmzDate(request.headers["x-amz-date"]) : undefined;
  if (secretAccessKey === undefined || amzDate === undefined) return check;

  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (typeof value === "string") headers[name] = value;
    else if (Array.isArray(value)) headers[name] = value.join(",");
  }
  const url = new URL(request.url ?? "/", "http://fake.invalid");
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const sessionToken = typeof request.headers["x-amz-security-token"] === "string" ? request.headers["x-amz-security-token"] : undefined;
  const signer = new SignatureV4({
    service,
    region,
    sha256: NodeSha256,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) },
    uriEscapePath: true,
  });
  const signed = await signer.sign(
    {
      method: request.method ?? "POST",
      protocol: "http:",
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers,
      body: rawBody,
    },
    { signingDate: amzDate },
  );
  const expected = signed.headers.authorization ?? signed.headers.Authorization;
  check.valid = typeof expected === "string" && expected.endsWith(`Signature=${signature}`);
  return check;
}
