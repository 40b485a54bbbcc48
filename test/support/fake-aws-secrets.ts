/**
 * Fake AWS Secrets Manager + SSM Parameter Store for tests: one local `node:http` server on 127.0.0.1 speaking
 * the AWS JSON 1.1 protocol the real `@aws-sdk/client-secrets-manager` and `@aws-sdk/client-ssm` clients use,
 * so they can be pointed at it with `endpoint`. Written from the API references, not live recordings:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html.
 *
 * - `POST /`, `content-type: application/x-amz-json-1.1`, `x-amz-target: secretsmanager.GetSecretValue`
 *   (body `{SecretId}`) → `{ARN, Name, VersionId, SecretString, VersionStages, CreatedDate}`; unknown secret →
 *   400 `{"__type": "ResourceNotFoundException", "message": …}`.
 * - `x-amz-target: AmazonSSM.GetParameter` (body `{Name, WithDecryption}`) → `{Parameter: {Name, Type, Value,
 *   Version, ARN, DataType}}`; unknown parameter → 400 `{"__type": "ParameterNotFound"}` (SSM's own error
 *   name for it). A SecureString is returned decrypted only when `WithDecryption` is true, as SSM does.
 * - Each request must carry a SigV4 `authorization` header for service `secretsmanager` or `ssm` (checked, and
 *   verified when the secret key is known); each is recorded.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { checkSignature, type SignatureCheck } from "./fake-aws-signature.js";

export interface RecordedAwsRequest {
  /** The `x-amz-target` header, e.g. `secretsmanager.GetSecretValue`. */
  target: string | undefined;
  body: unknown;
  signature: SignatureCheck;
}

export interface FakeAwsSecrets {
  /** The `endpoint` to give both clients, e.g. `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** Every request received (live array). */
  requests: RecordedAwsRequest[];
  /** Creates or rotates a Secrets Manager secret (a new `VersionId` each time). */
  putSecret(name: string, secretString: string): void;
  /** Creates or updates an SSM parameter (type default `SecureString`; version +1 each time). */
  putParameter(name: string, value: string, type?: "SecureString" | "String"): void;
  close(): Promise<void>;
}

const JSON_CONTENT_TYPE = "application/x-amz-json-1.1";
const ACCOUNT = "123456789012";

function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": JSON_CONTENT_TYPE, "content-length": Buffer.byteLength(text), "x-amzn-requestid": `fake-${Date.now().toString(16)}` });
  response.end(text);
}

/** Starts the fake; `secrets` maps access key ids to secret keys whose signatures are verified. */
export async function startFakeAwsSecrets(options: { secrets?: Record<string, string> } = {}): Promise<FakeAwsSecrets> {
  const requests: RecordedAwsRequest[] = [];
  const secrets = new Map<string, { value: string; version: number }>();
  const parameters = new Map<string, { value: string; type: string; version: number }>();
  const sockets = new Set<Socket>();

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(rawBody.toString("utf8")) as Record<string, unknown>;
    } catch {
      body = {};
    }
    const target = typeof request.headers["x-amz-target"] === "string" ? request.headers["x-amz-target"] : undefined;
    const signature = await checkSignature(request, rawBody, options.secrets ?? {});
    requests.push({ target, body, signature });
    const region = signature.region ?? "us-east-1";
    const expectedService = target?.startsWith("AmazonSSM.") ? "ssm" : "secretsmanager";
    if (!signature.wellFormed || signature.service !== expectedService) {
      send(response, 403, { __type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" });
    } else if (signature.valid === false) {
      send(response, 400, { __type: "InvalidSignatureException", message: "The request signature we calculated does not match the signature you provided." });
    } else if (request.method !== "POST" || request.headers["content-type"] !== JSON_CONTENT_TYPE) {
      send(response, 400, { __type: "SerializationException", message: "fake-aws-secrets: expected POST with application/x-amz-json-1.1" });
    } else if (target === "secretsmanager.GetSecretValue") {
      const name = String(body.SecretId);
      const secret = secrets.get(name);
      if (!secret) {
        send(response, 400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." });
        return;
      }
      send(response, 200, {
        ARN: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-AbCdEf`,
        CreatedDate: 1_760_000_000.123,
        Name: name,
        SecretString: secret.value,
        VersionId: `00000000-0000-4000-8000-${String(secret.version).padStart(12, "0")}`,
        VersionStages: ["AWSCURRENT"],
      });
    } else if (target === "AmazonSSM.GetParameter") {
      const name = String(body.Name);
      const parameter = parameters.get(name);
      if (!parameter) {
        send(response, 400, { __type: "ParameterNotFound" });
        return;
      }
      const decrypt = body.WithDecryption === true || parameter.type !== "SecureString";
      send(response, 200, {
        Parameter: {
          ARN: `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name.startsWith("/") ? "" : "/"}${name}`,
          DataType: "text",
          LastModifiedDate: 1_760_000_000.456,
          Name: name,
          Type: parameter.type,
          Value: decrypt ? parameter.value : `AQICAHh-encrypted-${parameter.version}`,
          Version: parameter.version,
        },
      });
    } else {
      send(response, 400, { __type: "UnknownOperationException", message: `fake-aws-secrets: no operation ${target ?? "(none)"}` });
    }
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => send(response, 500, { __type: "InternalServiceError", message: String(error) }));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    putSecret(name, secretString) {
      secrets.set(name, { value: secretString, version: (secrets.get(name)?.version ?? 0) + 1 });
    },
    putParameter(name, value, type = "SecureString") {
      parameters.set(name, { value, type, version: (parameters.get(name)?.version ?? 0) + 1 });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
