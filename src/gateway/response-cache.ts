/**
 * Exact-match response cache, opt-in: per tenant (config `cache.tenants`) or per request
 * (`x-clawfleet-cache: on`, or `tools` to also cache answers that call tools; `off` opts out). Only complete
 * (non-streamed) successful answers are cached. The key is a SHA-256 over the client API, the tenant and the
 * request body with its keys sorted — every generation parameter is part of it — so one tenant's answer is
 * never served to another. Entries live in shared state (memory or Redis) for `cache.ttlMs`.
 */
import { createHash } from "node:crypto";
import type { ClientApi } from "../contracts/chat.js";
import type { SharedState } from "../contracts/shared-state.js";

export type CacheMode = "off" | "on" | "tools";

/** A cached answer: what is needed to send it again. */
export interface CachedAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** JSON with object keys sorted at every level (so key order in the caller's body does not matter). */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Heuristic for any client API's answer: does it call a tool? */
export function answerCallsTools(body: Buffer): boolean {
  const text = body.toString("utf8");
  return text.includes('"tool_calls"') || text.includes('"tool_use"') || text.includes('"function_call"');
}

export class ResponseCache {
  private readonly tenants: ReadonlySet<string>;

  constructor(
    private readonly state: SharedState,
    private readonly options: { ttlMs: number; tenants: readonly string[]; maxEntryBytes: number },
  ) {
    this.tenants = new Set(options.tenants);
  }

  /** The cache mode of one request. */
  modeFor(header: string | string[] | undefined, tenantId: string, stream: boolean): CacheMode {
    if (stream) return "off";
    const requested = typeof header === "string" ? header.trim().toLowerCase() : "";
    if (requested === "off") return "off";
    if (requested === "on" || requested === "tools") return requested;
    return this.tenants.has(tenantId) ? "on" : "off";
  }

  keyFor(api: ClientApi, tenantId: string, body: unknown): string {
    return `cache:${createHash("sha256").update(api).update("\0").update(tenantId).update("\0").update(stableStringify(body)).digest("hex")}`;
  }

  async get(key: string): Promise<CachedAnswer | null> {
    const stored = await this.state.cacheGet(key);
    if (!stored || stored.length < 4) return null;
    const headerLength = stored.readUInt32BE(0);
    const header = JSON.parse(stored.subarray(4, 4 + headerLength).toString("utf8")) as { status: number; contentType: string };
    return { status: header.status, contentType: header.contentType, body: stored.subarray(4 + headerLength) };
  }

  /** Stores a successful answer unless it is too large, or calls tools and `mode` is not `tools`. */
  async set(key: string, mode: CacheMode, answer: CachedAnswer): Promise<boolean> {
    if (mode === "off" || answer.status !== 200 || answer.body.length > this.options.maxEntryBytes) return false;
    if (mode !== "tools" && answerCallsTools(answer.body)) return false;
    const header = Buffer.from(JSON.stringify({ status: answer.status, contentType: answer.contentType }));
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(header.length, 0);
    await this.state.cacheSet(key, Buffer.concat([prefix, header, answer.body]), this.options.ttlMs);
    return true;
  }
}
