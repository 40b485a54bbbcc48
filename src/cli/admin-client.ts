/**
 * A small client of the admin API for the CLI. Every CLI command except `serve` goes through it: the CLI has
 * no private path into the database.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";

/** Failure reported by the admin API (its `CF_*` code and message) or by the connection. */
export class AdminApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = "AdminApiError";
  }
}

export interface AdminClientOptions {
  /** Base URL of Clawfleet, e.g. `http://127.0.0.1:8420`. */
  url: string;
  token: string;
}

/**
 * Where the admin token comes from: `--admin-token`, else `CLAWFLEET_ADMIN_TOKEN`, else
 * `<data-dir>/admin-token` (written by `clawfleet serve` on first start).
 */
export function resolveCliAdminToken(explicit: string | undefined, dataDir: string): string {
  if (explicit) return explicit;
  if (process.env.CLAWFLEET_ADMIN_TOKEN) return process.env.CLAWFLEET_ADMIN_TOKEN;
  const filePath = path.resolve(dataDir, "admin-token");
  try {
    return readFileSync(filePath, "utf8").trim();
  } catch {
    throw new AdminApiError(0, "CF_AUTH_MISSING", `no admin token: pass --admin-token, set CLAWFLEET_ADMIN_TOKEN, or run where ${filePath} exists`);
  }
}

export class AdminClient {
  constructor(private readonly options: AdminClientOptions) {}

  /** Sends one request; resolves the parsed JSON (or text) body; throws {@link AdminApiError} on any failure. */
  async request<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
    const response = await this.send(apiPath, {
      method,
      headers: { authorization: `Bearer ${this.options.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw apiErrorOf(response.status, text);
    if (text.length === 0) return undefined as T;
    return (response.headers.get("content-type") ?? "").includes("application/json") ? (JSON.parse(text) as T) : (text as T);
  }

  /** Sends a GET and resolves the response body as a stream (exports); throws {@link AdminApiError} on any failure. */
  async stream(apiPath: string): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send(apiPath, { headers: { authorization: `Bearer ${this.options.token}` } });
    if (!response.ok || response.body === null) throw apiErrorOf(response.status, await response.text());
    return response.body;
  }

  /** `fetch` of `/admin/v1<apiPath>`; a connection failure becomes {@link AdminApiError} CF_UNREACHABLE. */
  private async send(apiPath: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.options.url.replace(/\/+$/, "")}/admin/v1${apiPath}`, init);
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new AdminApiError(0, "CF_UNREACHABLE", `cannot reach Clawfleet at ${this.options.url} (${cause}); is \`clawfleet serve\` running?`);
    }
  }
}

/** The admin API's error body (`{error: {code, message}}`) as an {@link AdminApiError}; a non-JSON body is kept as the message. */
function apiErrorOf(status: number, text: string): AdminApiError {
  let code = `HTTP_${status}`;
  let message = text;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? code;
    message = parsed.error?.message ?? message;
  } catch {
    // not JSON: keep the text
  }
  return new AdminApiError(status, code, message);
}

/** Global CLI flags every admin command accepts (`--url`, `--admin-token`, `--data-dir`, `--json`). */
export interface ClientFlags {
  url?: string;
  adminToken?: string;
  dataDir?: string;
  json?: boolean;
}

/**
 * The admin client for a command: `--url`, else `CLAWFLEET_URL`, else `http://127.0.0.1:$CLAWFLEET_PORT` (8420);
 * the token as {@link resolveCliAdminToken} finds it; `json` when `--json` was given.
 * @throws AdminApiError CF_AUTH_MISSING when no admin token can be found.
 */
export function clientFrom(command: Command): { client: AdminClient; json: boolean } {
  const flags = command.optsWithGlobals<ClientFlags>();
  const url = flags.url ?? process.env.CLAWFLEET_URL ?? `http://127.0.0.1:${process.env.CLAWFLEET_PORT ?? "8420"}`;
  const dataDir = flags.dataDir ?? process.env.CLAWFLEET_DATA_DIR ?? "./.clawfleet";
  return { client: new AdminClient({ url, token: resolveCliAdminToken(flags.adminToken, dataDir) }), json: flags.json === true };
}

/** Prints `value` as indented JSON with `--json`, else the human text. */
export function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
}
