/**
 * Which response headers of a passed-through answer reach the caller. The provider adapters already pick the
 * headers worth passing on (`FORWARDED_RESPONSE_HEADERS` in each adapter: content type, request ids, processing
 * time, API version); this is the gateway's rule on top, because the provider account is the platform's, shared
 * by every tenant, and the caller's limits are Clawfleet's:
 *
 * - **Rate-limit state of the provider account** (`x-ratelimit-*` from OpenAI,
 *   https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers; `anthropic-ratelimit-*` from
 *   Anthropic, https://docs.anthropic.com/en/api/rate-limits#response-headers) is withheld. It describes the
 *   shared account, not the caller: with the same names as Clawfleet's own `x-ratelimit-*` (admission, per virtual
 *   key and tenant) it would replace the caller's real limits, and without limits configured it would tell every
 *   tenant how much capacity the platform's account has left.
 * - **The provider account's identity** (`openai-organization`, `openai-project`, `anthropic-organization-id`) is
 *   withheld: it names the platform's account to every tenant.
 * - A header Clawfleet already set on the answer (request id, rate limits, cache, security headers) is never
 *   replaced by the upstream's.
 */

/** Upstream header names (lowercase) withheld from callers: the provider account's rate-limit state and identity. */
const PROVIDER_ACCOUNT_HEADER = /^(?:x-ratelimit-|anthropic-ratelimit-|openai-organization$|openai-project$|anthropic-organization-id$)/;

/** True when the upstream header `name` (lowercase) describes the platform's provider account and is withheld. */
export function isProviderAccountHeader(name: string): boolean {
  return PROVIDER_ACCOUNT_HEADER.test(name);
}
