/**
 * Request cookies, parsed on first use. `@fastify/cookie` is registered with `hook: false`: its default
 * `onRequest` hook parsed the `Cookie` header (and allocated a container) on every request, including each model
 * call, which never carries a cookie; only the browser-login and session steps read cookies, through this.
 */
import type { FastifyRequest } from "fastify";
import type {} from "@fastify/cookie";

/**
 * The value of cookie `name` on `request`, or undefined: none sent, or no cookie support registered on the server
 * (RFC 6265 §5.4 `Cookie` header, parsed by @fastify/cookie's `parseCookie`).
 */
export function requestCookie(request: FastifyRequest, name: string): string | undefined {
  // null until parsed here or by reply.setCookie (which parses the same header into the same shape).
  const parsed = request.cookies as FastifyRequest["cookies"] | null | undefined;
  if (parsed) return parsed[name];
  const header = request.headers.cookie;
  if (header === undefined || header === "" || typeof request.server.parseCookie !== "function") return undefined;
  request.cookies = request.server.parseCookie(header);
  return request.cookies[name];
}
