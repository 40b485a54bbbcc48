/**
 * Verifies the AWS Application Load Balancer authentication header `x-amzn-oidc-data`
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html).
 *
 * Only the signed `x-amzn-oidc-data` header is used. `x-amzn-oidc-identity` (the bare `sub`) and
 * `x-amzn-oidc-accesstoken` are unsigned from our point of view: anyone who can reach the service directly can
 * send them, so they are never trusted, not even as a hint. (Accepting the header only from the ALB's CIDRs is the
 * ingress's job; this module proves the header was signed by the configured ALB.)
 *
 * The header is a JWT signed ES256 whose segments are base64url WITH `=` padding (ALB pads; many JWT libraries
 * refuse that, so this module verifies it with node:crypto directly). Padding is stripped to decode, but the
 * signature is checked over the header and payload segments exactly as sent: a token re-encoded any other way
 * (padding stripped or added) no longer matches its signature.
 *
 * Checks, in order: size cap; shape; header `alg` = ES256; header `kid` is a UUID (before any fetch, so it can
 * never inject a path into the key URL); header `signer` = configured ALB ARN; `client` = configured app client
 * id; `iss` = configured issuer; header `exp` not passed; public key of `kid` (PEM, from
 * `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>`, cached per kid, new-kid fetches rate-limited,
 * any fetch failure refuses the request); ES256 signature; payload `exp` (required) not passed; payload `iss`,
 * when present, = configured issuer; payload `sub` present.
 */
import { createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { z } from "zod";
import { ClawfleetError } from "../../contracts/errors.js";

/** Largest accepted header value, in bytes. ALB refuses to forward claims above 11 KB; anything bigger is not from ALB. */
export const MAX_ALB_HEADER_BYTES = 16 * 1024;

/** Why an ALB header was refused; sent as `details.reason` of CF_AUTH_INVALID_TOKEN. */
export type AlbRejectionReason =
  | "too_large"
  | "malformed"
  | "algorithm_not_allowed"
  | "invalid_kid"
  | "unknown_kid"
  | "wrong_signer"
  | "wrong_client"
  | "wrong_issuer"
  | "expired"
  | "missing_exp"
  | "bad_signature"
  | "missing_subject";

/** Options of {@link createAlbVerifier}. */
export interface AlbVerifierOptions {
  /** AWS region of the load balancer, e.g. `eu-west-1`; picks the key endpoint. */
  region: string;
  /** Full ARN of the load balancer, compared with the header's `signer`. */
  albArn: string;
  /** App client id configured on the ALB authenticate action, compared with the header's `client`. */
  clientId: string;
  /** Issuer configured on the ALB authenticate action, compared with the header's `iss`. */
  issuer: string;
  /** Base URL of the key endpoint (tests, GovCloud); default `https://public-keys.auth.elb.<region>.amazonaws.com`. */
  keyBaseUrl?: string;
  /** fetch implementation (tests); default the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Current time in ms since the epoch (tests); default `Date.now`. */
  now?: () => number;
  /** Leeway for `exp`, in seconds; default 60. */
  clockSkewSeconds?: number;
  /** Most fetches of keys not yet cached per rolling minute; default 10. Beyond that, new kids are refused. */
  maxKeyFetchesPerMinute?: number;
  /** Timeout of one key fetch, in ms; default 5 000. */
  fetchTimeoutMs?: number;
}

/** A verified ALB identity: the payload's `sub` and every payload claim. */
export interface AlbIdentity {
  subject: string;
  claims: Readonly<Record<string, unknown>>;
}

/** Verifies `x-amzn-oidc-data` header values of one load balancer. */
export interface AlbVerifier {
  /**
   * Verifies one `x-amzn-oidc-data` header value.
   * @throws ClawfleetError CF_AUTH_INVALID_TOKEN (401) with `details.reason` ({@link AlbRejectionReason});
   *   CF_AUTH_PROVIDER_UNAVAILABLE (503) when the key endpoint fails or new-kid fetches are rate-limited.
   */
  verify(headerValue: string): Promise<AlbIdentity>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ALB_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/app\/[^\s]+$/;
/** base64url segment, optionally `=`-padded (ALB pads). */
const SEGMENT = /^[A-Za-z0-9_-]+={0,2}$/;
const MAX_CACHED_KEYS = 64;
const MAX_KEY_BYTES = 4 * 1024;
const FETCH_WINDOW_MS = 60_000;

const headerSchema = z.object({
  alg: z.string(),
  kid: z.string(),
  signer: z.string(),
  client: z.string(),
  iss: z.string(),
  exp: z.number().finite().optional(),
});

const payloadSchema = z.record(z.string(), z.unknown());

function rejection(reason: AlbRejectionReason, message: string): ClawfleetError {
  return new ClawfleetError("CF_AUTH_INVALID_TOKEN", `invalid ALB identity: ${message}`, { details: { reason } });
}

function configError(message: string): ClawfleetError {
  return new ClawfleetError("CF_CONFIG_INVALID", `ALB verifier: ${message}`);
}

/** Decodes one base64url segment (padding allowed only where base64 puts it). */
function decodeSegment(segment: string): Buffer {
  if (!SEGMENT.test(segment)) throw rejection("malformed", "segment is not base64url");
  const padding = segment.length - segment.replace(/=+$/, "").length;
  if (padding > 0 && segment.length % 4 !== 0) throw rejection("malformed", "bad base64 padding");
  return Buffer.from(segment.slice(0, segment.length - padding), "base64url");
}

function decodeJson(segment: string): unknown {
  try {
    return JSON.parse(decodeSegment(segment).toString("utf8")) as unknown;
  } catch (error) {
    if (error instanceof ClawfleetError) throw error;
    throw rejection("malformed", "segment is not JSON");
  }
}

/**
 * Creates a verifier of one ALB's `x-amzn-oidc-data` headers.
 * @throws ClawfleetError CF_CONFIG_INVALID on a bad region, ARN, client id, issuer or key base URL.
 */
export function createAlbVerifier(options: AlbVerifierOptions): AlbVerifier {
  if (!REGION.test(options.region)) throw configError(`invalid region ${JSON.stringify(options.region)}`);
  if (!ALB_ARN.test(options.albArn)) throw configError("albArn is not an application load balancer ARN");
  if (options.clientId.length === 0) throw configError("clientId is required");
  if (options.issuer.length === 0) throw configError("issuer is required");
  const keyBase = new URL(options.keyBaseUrl ?? `https://public-keys.auth.elb.${options.region}.amazonaws.com`);
  if (keyBase.protocol !== "https:" && !(keyBase.protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(keyBase.hostname))) {
    throw configError("keyBaseUrl must be https (plain http only to loopback)");
  }
  const keyBaseHref = keyBase.href.endsWith("/") ? keyBase.href : `${keyBase.href}/`;
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const clockSkewMs = (options.clockSkewSeconds ?? 60) * 1000;
  const maxFetchesPerWindow = options.maxKeyFetchesPerMinute ?? 10;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 5_000;

  const keys = new Map<string, KeyObject>();
  const inFlight = new Map<string, Promise<KeyObject>>();
  const fetchTimes: number[] = [];

  async function fetchKey(kid: string): Promise<KeyObject> {
    const url = `${keyBaseHref}${kid}`;
    let response: Response;
    try {
      response = await fetchImplementation(url, { redirect: "error", signal: AbortSignal.timeout(fetchTimeoutMs) });
    } catch (error) {
      throw new ClawfleetError("CF_AUTH_PROVIDER_UNAVAILABLE", "ALB key endpoint unreachable", { cause: error });
    }
    if (response.status === 403 || response.status === 404) {
      await response.body?.cancel();
      throw rejection("unknown_kid", "no ALB key with this kid");
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new ClawfleetError("CF_AUTH_PROVIDER_UNAVAILABLE", `ALB key endpoint answered HTTP ${response.status}`);
    }
    let key: KeyObject;
    try {
      const pem = await response.text();
      if (pem.length > MAX_KEY_BYTES) throw new Error("key document too large");
      key = createPublicKey({ key: pem, format: "pem" });
    } catch (error) {
      throw new ClawfleetError("CF_AUTH_PROVIDER_UNAVAILABLE", "ALB key endpoint returned no usable PEM key", { cause: error });
    }
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new ClawfleetError("CF_AUTH_PROVIDER_UNAVAILABLE", "ALB key is not an EC P-256 key");
    }
    return key;
  }

  function keyFor(kid: string): Promise<KeyObject> {
    const cached = keys.get(kid);
    if (cached) return Promise.resolve(cached);
    const pending = inFlight.get(kid);
    if (pending) return pending;
    const currentTime = now();
    while (fetchTimes.length > 0 && (fetchTimes[0] as number) <= currentTime - FETCH_WINDOW_MS) fetchTimes.shift();
    if (fetchTimes.length >= maxFetchesPerWindow) {
      return Promise.reject(new ClawfleetError("CF_AUTH_PROVIDER_UNAVAILABLE", "too many new ALB key ids; refusing to fetch more", { details: { reason: "key_fetch_rate_limited" }, retryAfterSeconds: Math.ceil(((fetchTimes[0] as number) + FETCH_WINDOW_MS - currentTime) / 1000) }));
    }
    fetchTimes.push(currentTime);
    const fetching = fetchKey(kid).then((key) => {
      if (keys.size >= MAX_CACHED_KEYS) keys.delete(keys.keys().next().value as string);
      keys.set(kid, key);
      return key;
    });
    inFlight.set(kid, fetching);
    const forget = () => inFlight.delete(kid);
    fetching.then(forget, forget);
    return fetching;
  }

  async function verify(headerValue: string): Promise<AlbIdentity> {
    if (typeof headerValue !== "string" || headerValue.length === 0) throw rejection("malformed", "empty header");
    if (Buffer.byteLength(headerValue, "utf8") > MAX_ALB_HEADER_BYTES) throw rejection("too_large", `header exceeds ${MAX_ALB_HEADER_BYTES} bytes`);
    const segments = headerValue.split(".");
    if (segments.length !== 3) throw rejection("malformed", "not a three-segment JWT");
    const [headerSegment, payloadSegment, signatureSegment] = segments as [string, string, string];

    const header = headerSchema.safeParse(decodeJson(headerSegment));
    if (!header.success) throw rejection("malformed", "header lacks alg, kid, signer, client or iss");
    const { alg, kid, signer, client, iss, exp } = header.data;
    if (alg !== "ES256") throw rejection("algorithm_not_allowed", "ALB signs with ES256 only");
    if (!UUID.test(kid)) throw rejection("invalid_kid", "kid is not a UUID");
    if (signer !== options.albArn) throw rejection("wrong_signer", "signed by another load balancer");
    if (client !== options.clientId) throw rejection("wrong_client", "issued for another client");
    if (iss !== options.issuer) throw rejection("wrong_issuer", "wrong issuer");
    if (exp === undefined) throw rejection("missing_exp", "header has no exp");
    if (exp * 1000 + clockSkewMs <= now()) throw rejection("expired", "header expired");

    const signature = decodeSegment(signatureSegment);
    if (signature.length !== 64) throw rejection("bad_signature", "ES256 signature must be 64 bytes");
    const key = await keyFor(kid);
    // The signing input is the two segments exactly as sent, padding included.
    const signingInput = Buffer.from(`${headerSegment}.${payloadSegment}`, "ascii");
    if (!verifySignature("sha256", signingInput, { key, dsaEncoding: "ieee-p1363" }, signature)) throw rejection("bad_signature", "signature does not verify");

    const payload = payloadSchema.safeParse(decodeJson(payloadSegment));
    if (!payload.success) throw rejection("malformed", "payload is not a JSON object");
    const claims = payload.data;
    if (claims.exp === undefined) throw rejection("missing_exp", "payload has no exp");
    if (typeof claims.exp !== "number" || !Number.isFinite(claims.exp)) throw rejection("malformed", "payload exp is not a number");
    if (claims.exp * 1000 + clockSkewMs <= now()) throw rejection("expired", "payload expired");
    if (claims.iss !== undefined && claims.iss !== options.issuer) throw rejection("wrong_issuer", "payload names another issuer");
    if (typeof claims.sub !== "string" || claims.sub.length === 0) throw rejection("missing_subject", "payload has no sub");
    return { subject: claims.sub, claims };
  }

  return { verify };
}
