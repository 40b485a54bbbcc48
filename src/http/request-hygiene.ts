/**
 * Request checks that run before any authentication (issue 5, "Hardening"):
 *
 * - **No secrets in URLs.** A credential in the query string (`?token=`, `?access_token=`, `?api_key=`,
 *   `?key=`…) ends up in proxy logs, browser history and `Referer` headers (RFC 6750 §5.3: "Don't pass bearer
 *   tokens in page URLs"). Such requests are refused with `CF_SECRET_IN_QUERY` before anything reads them, and
 *   {@link redactUrl} blanks those values wherever a URL is logged.
 * - **Headers that must appear once.** Node keeps only the first `Authorization` or `Host` of a request and
 *   joins repeated `x-api-key`s (https://nodejs.org/api/http.html#messageheaders); a proxy in front may pick the
 *   other one. A request carrying any of {@link SINGLETON_HEADERS} twice is refused (`CF_DUPLICATE_HEADER`).
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { ClawfleetError } from "../contracts/errors.js";

/** Query parameter names (compared lowercased, after percent-decoding) that carry credentials. */
export const QUERY_SECRET_PARAMETERS: ReadonlySet<string> = new Set([
  "token",
  "access_token",
  "id_token",
  "refresh_token",
  "api_key",
  "apikey",
  "api-key",
  "x-api-key",
  "key",
  "password",
  "secret",
  "client_secret",
  "authorization",
]);

/** Request headers that must not be repeated (lowercase). */
export const SINGLETON_HEADERS: ReadonlySet<string> = new Set(["authorization", "proxy-authorization", "x-api-key", "host", "x-amzn-oidc-data", "x-amzn-oidc-accesstoken"]);

/** Query parameter names in `url` that carry credentials (empty = none). */
export function secretQueryParameters(url: string): string[] {
  const question = url.indexOf("?");
  if (question === -1) return [];
  const found: string[] = [];
  for (const name of new URLSearchParams(url.slice(question + 1)).keys()) {
    if (QUERY_SECRET_PARAMETERS.has(name.toLowerCase()) && !found.includes(name)) found.push(name);
  }
  return found;
}

/** `url` with the values of credential-carrying query parameters replaced by `[redacted]` (for logs). */
export function redactUrl(url: string): string {
  const question = url.indexOf("?");
  if (question === -1) return url;
  const query = url.slice(question + 1);
  const redacted = query
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      const rawName = equals === -1 ? pair : pair.slice(0, equals);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replaceAll("+", " "));
      } catch {
        // keep the raw name
      }
      return QUERY_SECRET_PARAMETERS.has(name.toLowerCase()) ? `${rawName}=[redacted]` : pair;
    })
    .join("&");
  return `${url.slice(0, question)}?${redacted}`;
}

/** Names of {@link SINGLETON_HEADERS} that occur more than once in Node's `rawHeaders` list (name, value, …). */
export function repeatedSingletonHeaders(rawHeaders: readonly string[]): string[] {
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = (rawHeaders[index] as string).toLowerCase();
    if (!SINGLETON_HEADERS.has(name)) continue;
    if (seen.has(name) && !repeated.includes(name)) repeated.push(name);
    seen.add(name);
  }
  return repeated;
}

/**
 * The problem with a request's headers or URL, or null: a repeated singleton header, or a credential in the query
 * string (unless `allowQuerySecrets(path)` exempts the path).
 */
export function requestHygieneError(request: FastifyRequest, allowQuerySecrets?: (path: string) => boolean): ClawfleetError | null {
  const repeated = repeatedSingletonHeaders(request.raw.rawHeaders);
  if (repeated.length > 0) {
    return new ClawfleetError("CF_DUPLICATE_HEADER", `the ${repeated.join(", ")} header must appear once; send a single value`, { details: { headers: repeated } });
  }
  const url = request.raw.url ?? "/";
  const secrets = secretQueryParameters(url);
  if (secrets.length > 0 && !(allowQuerySecrets?.(url.split("?", 1)[0] ?? url) ?? false)) {
    return new ClawfleetError(
      "CF_SECRET_IN_QUERY",
      `credentials must not be sent in the URL (query parameter ${secrets.join(", ")}): URLs are kept in logs and browser history; send Authorization: Bearer <token> (or x-api-key) instead, and consider this credential exposed`,
      { details: { parameters: secrets } },
    );
  }
  return null;
}

/**
 * The `onRequest` hook (callback style: no promise per request). `allowQuerySecrets(path)` may exempt a path
 * whose protocol forces a credential into the URL (none does today; the value is still redacted in logs).
 * Fails the request with ClawfleetError CF_DUPLICATE_HEADER or CF_SECRET_IN_QUERY (see {@link requestHygieneError}).
 */
export function requestHygiene(options: { allowQuerySecrets?: (path: string) => boolean } = {}) {
  return function checkRequestHygiene(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const error = requestHygieneError(request, options.allowQuerySecrets);
    if (error) done(error);
    else done();
  };
}
