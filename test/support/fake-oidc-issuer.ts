/**
 * A local OpenID Connect provider for tests, on 127.0.0.1 (node:http): discovery, JWKS, an authorization
 * endpoint that "logs in" whichever user the test chose, and a token endpoint that enforces PKCE S256
 * (RFC 7636 §4.6), single-use codes, the redirect URI and the client id. It also mints bearer JWTs, and serves
 * ALB-style public keys (PEM per kid) for `x-amzn-oidc-data` headers signed by {@link FakeOidcIssuer.albHeader}.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign as signBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";

/** A user the fake provider can log in. */
export interface FakeUser {
  sub: string;
  email?: string;
  name?: string;
  groups?: string[];
}

/** What the token endpoint saw for one exchange (for assertions). */
export interface TokenExchange {
  codeVerifier: string | null;
  codeChallenge: string;
  accepted: boolean;
  reason: string;
}

export interface FakeOidcIssuer {
  /** The issuer URL (`http://127.0.0.1:<port>`). */
  url: string;
  /** The user the next `/authorize` logs in. */
  nextUser: FakeUser;
  /** Every token exchange, in order. */
  exchanges: TokenExchange[];
  /** A bearer JWT for `audience` (RS256, the issuer's key). */
  bearer(user: FakeUser, audience: string, claims?: JWTPayload): Promise<string>;
  /** An ALB `x-amzn-oidc-data` header (padded base64url, ES256) for `user`. */
  albHeader(user: FakeUser, alb: { arn: string; clientId: string; issuer: string }): string;
  /** Base URL of the ALB key endpoint (`<url>/alb-keys`). */
  albKeyBaseUrl: string;
  close(): Promise<void>;
}

function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

function padded(bytes: Buffer | string): string {
  return Buffer.from(bytes).toString("base64").replaceAll("+", "-").replaceAll("/", "_");
}

/** Starts the provider. `clientId` is the only client it knows. */
export async function startFakeOidcIssuer(clientId: string): Promise<FakeOidcIssuer> {
  const keys: { privateKey: CryptoKey; publicKey: CryptoKey } = await generateKeyPair("RS256", { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "RS256", use: "sig" }] };
  const albKid = randomUUID();
  const albKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const codes = new Map<string, { user: FakeUser; challenge: string; method: string; nonce: string; redirectUri: string; clientId: string }>();
  let url = "";
  const seconds = () => Math.floor(Date.now() / 1000);

  const issuer: FakeOidcIssuer = {
    url: "",
    nextUser: { sub: "nobody" },
    exchanges: [],
    async bearer(user, audience, claims = {}) {
      return new SignJWT({ sub: user.sub, email: user.email, name: user.name, groups: user.groups, iss: url, aud: audience, iat: seconds(), exp: seconds() + 300, ...claims })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .sign(keys.privateKey);
    },
    albHeader(user, alb) {
      const header = { typ: "JWT", kid: albKid, alg: "ES256", iss: alb.issuer, client: alb.clientId, signer: alb.arn, exp: seconds() + 120 };
      const payload = { sub: user.sub, email: user.email, groups: user.groups, exp: seconds() + 120, iss: alb.issuer };
      const signingInput = `${padded(JSON.stringify(header))}.${padded(JSON.stringify(payload))}`;
      return `${signingInput}.${padded(signBytes("sha256", Buffer.from(signingInput), { key: albKeys.privateKey, dsaEncoding: "ieee-p1363" }))}`;
    },
    albKeyBaseUrl: "",
    close: async () => undefined,
  };

  const server: Server = createServer((request, response) => {
    const requestUrl = new URL(request.url ?? "/", url);
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      response.end(JSON.stringify(body));
    };
    if (requestUrl.pathname === "/.well-known/openid-configuration") {
      return json(200, {
        issuer: url,
        authorization_endpoint: `${url}/authorize`,
        token_endpoint: `${url}/token`,
        jwks_uri: `${url}/jwks.json`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["none"],
      });
    }
    if (requestUrl.pathname === "/jwks.json") return json(200, jwks);
    if (requestUrl.pathname === `/alb-keys/${albKid}`) {
      response.writeHead(200, { "content-type": "application/x-pem-file" });
      return response.end(albKeys.publicKey.export({ format: "pem", type: "spki" }).toString());
    }
    if (requestUrl.pathname === "/authorize") {
      const query = requestUrl.searchParams;
      if (query.get("client_id") !== clientId || query.get("response_type") !== "code" || !query.get("redirect_uri") || !query.get("code_challenge")) return json(400, { error: "invalid_request" });
      const code = randomBytes(16).toString("hex");
      codes.set(code, { user: issuer.nextUser, challenge: query.get("code_challenge") as string, method: query.get("code_challenge_method") ?? "plain", nonce: query.get("nonce") ?? "", redirectUri: query.get("redirect_uri") as string, clientId });
      const target = new URL(query.get("redirect_uri") as string);
      target.searchParams.set("code", code);
      target.searchParams.set("state", query.get("state") ?? "");
      target.searchParams.set("iss", url);
      response.writeHead(302, { location: target.href });
      return response.end();
    }
    if (requestUrl.pathname === "/token" && request.method === "POST") {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        void (async () => {
          const form = new URLSearchParams(body);
          const code = form.get("code") ?? "";
          const grant = codes.get(code);
          codes.delete(code);
          const verifier = form.get("code_verifier");
          const refuse = (reason: string) => {
            issuer.exchanges.push({ codeVerifier: verifier, codeChallenge: grant?.challenge ?? "", accepted: false, reason });
            json(400, { error: "invalid_grant", error_description: reason });
          };
          if (form.get("grant_type") !== "authorization_code") return refuse("grant_type");
          if (!grant) return refuse("unknown or used code");
          if (form.get("client_id") !== grant.clientId) return refuse("client_id");
          if (form.get("redirect_uri") !== grant.redirectUri) return refuse("redirect_uri");
          if (grant.method !== "S256" || verifier === null || s256(verifier) !== grant.challenge) return refuse("PKCE verification failed");
          issuer.exchanges.push({ codeVerifier: verifier, codeChallenge: grant.challenge, accepted: true, reason: "ok" });
          const idToken = await new SignJWT({ sub: grant.user.sub, email: grant.user.email, name: grant.user.name, groups: grant.user.groups, nonce: grant.nonce, iss: url, aud: clientId, iat: seconds(), exp: seconds() + 300 })
            .setProtectedHeader({ alg: "RS256", kid: "k1" })
            .sign(keys.privateKey);
          json(200, { access_token: randomBytes(16).toString("hex"), token_type: "Bearer", expires_in: 300, id_token: idToken });
        })();
      });
      return;
    }
    json(404, { error: "not_found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer.url = url;
  issuer.albKeyBaseUrl = `${url}/alb-keys`;
  issuer.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return issuer;
}
