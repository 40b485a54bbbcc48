/**
 * One WebSocket connection to one OpenClaw runtime's gateway as its approval client (OpenClaw's gateway protocol,
 * see ../shared/openclaw/FACTS.md and probes/ws-approver.mjs): the server speaks first (`connect.challenge`); we
 * send `connect` as role `operator` with scopes `operator.read`, `operator.approvals`, `operator.admin` and caps
 * `["approvals"]`, authenticated by the runtime's gateway token (held by the platform only). The runtime then
 * broadcasts `exec.approval.requested {id, request: {command, cwd, sessionKey, toolCallId, allowedDecisions},
 * expiresAtMs}`, and we answer with the request `exec.approval.resolve {id, decision: "allow-once" | "deny"}`.
 * Frames are validated with zod; anything else is ignored.
 */
import { WebSocket } from "ws";
import { z } from "zod";

/** `exec.approval.requested` payload, as OpenClaw 2026.9.6 sends it (extra fields tolerated). */
export const execApprovalRequestedSchema = z.object({
  id: z.string().min(1).max(255),
  request: z.object({
    command: z.string().max(100_000),
    cwd: z.string().max(4096).nullish(),
    sessionKey: z.string().max(512).nullish(),
    toolCallId: z.string().max(255).nullish(),
    allowedDecisions: z.array(z.string()).nullish(),
  }),
  expiresAtMs: z.number().nullish(),
});
export type ExecApprovalRequested = z.infer<typeof execApprovalRequestedSchema>;

const frameSchema = z.object({
  type: z.enum(["event", "res", "req"]),
  id: z.string().optional(),
  event: z.string().optional(),
  ok: z.boolean().optional(),
  payload: z.unknown().optional(),
  error: z.unknown().optional(),
});

/** OpenClaw's protocol version this client speaks (FACTS.md: minProtocol = maxProtocol = 4). */
const PROTOCOL_VERSION = 4;
/** How long a `connect` or `exec.approval.resolve` may take (ms). */
const REQUEST_TIMEOUT_MS = 15_000;

export interface RuntimeApprovalClientOptions {
  /** `ws+unix://<socket>:/` or `ws://127.0.0.1:<port>/`. */
  url: string;
  gatewayToken: string;
  /** Trusted-proxy runtimes: headers for the upgrade request; `connect` then carries no token. */
  trustedProxyHeaders?: Record<string, string>;
  version: string;
  onRequested: (request: ExecApprovalRequested) => void;
  /** Called once when the connection is established (after `hello-ok`). */
  onConnected: () => void;
  /** Called once when the socket closed (for whatever reason). */
  onClosed: (code: number, reason: string) => void;
  onProtocolError: (message: string) => void;
}

/** Outcome of a resolve request: accepted, refused by the runtime (e.g. unknown or expired id), or not sent. */
export type ResolveResult = { kind: "ok" } | { kind: "refused"; message: string } | { kind: "failed"; message: string };

export class RuntimeApprovalClient {
  private readonly socket: WebSocket;
  private readonly pending = new Map<string, (frame: z.infer<typeof frameSchema>) => void>();
  private nextId = 0;
  private connected = false;

  constructor(private readonly options: RuntimeApprovalClientOptions) {
    this.socket = new WebSocket(options.url, { perMessageDeflate: false, handshakeTimeout: REQUEST_TIMEOUT_MS, ...(options.trustedProxyHeaders ? { headers: options.trustedProxyHeaders } : {}) });
    this.socket.on("message", (data, isBinary) => {
      if (!isBinary) this.handle(data.toString());
    });
    this.socket.on("close", (code, reason) => {
      this.connected = false;
      for (const settle of this.pending.values()) settle({ type: "res", ok: false, error: { message: "connection closed" } });
      this.pending.clear();
      options.onClosed(code, reason.toString());
    });
    this.socket.on("error", (error) => options.onProtocolError(error.message));
  }

  /** True after `hello-ok` and until the socket closes. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Answers one approval. Never throws. */
  async resolve(approvalId: string, decision: "allow-once" | "deny"): Promise<ResolveResult> {
    if (!this.connected) return { kind: "failed", message: "not connected" };
    const frame = await this.request("exec.approval.resolve", { id: approvalId, decision });
    if (frame.ok === true) return { kind: "ok" };
    const message = JSON.stringify(frame.error ?? null).slice(0, 300);
    return frame.type === "res" && !message.includes("connection closed") && !message.includes("timed out") ? { kind: "refused", message } : { kind: "failed", message };
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(1000, "clawfleet approval client closing");
  }

  private request(method: string, params: Record<string, unknown>): Promise<z.infer<typeof frameSchema>> {
    const id = `cf${++this.nextId}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ type: "res", ok: false, error: { message: `${method} timed out` } });
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      this.socket.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }

  private handle(text: string): void {
    let parsed: z.infer<typeof frameSchema>;
    try {
      const result = frameSchema.safeParse(JSON.parse(text));
      if (!result.success) return;
      parsed = result.data;
    } catch {
      return;
    }
    if (parsed.type === "res" && parsed.id !== undefined) {
      const settle = this.pending.get(parsed.id);
      this.pending.delete(parsed.id);
      settle?.(parsed);
      return;
    }
    if (parsed.type !== "event") return;
    if (parsed.event === "connect.challenge") {
      void this.connect();
      return;
    }
    if (parsed.event === "exec.approval.requested") {
      const payload = execApprovalRequestedSchema.safeParse(parsed.payload);
      if (payload.success) this.options.onRequested(payload.data);
      else this.options.onProtocolError(`malformed exec.approval.requested: ${payload.error.message.slice(0, 200)}`);
    }
  }

  private async connect(): Promise<void> {
    const reply = await this.request("connect", {
      minProtocol: PROTOCOL_VERSION,
      maxProtocol: PROTOCOL_VERSION,
      client: { id: "gateway-client", version: this.options.version, platform: process.platform, mode: "backend" },
      role: "operator",
      scopes: ["operator.read", "operator.approvals", "operator.admin"],
      caps: ["approvals"],
      ...(this.options.trustedProxyHeaders ? {} : { auth: { token: this.options.gatewayToken } }),
    });
    if (reply.ok !== true) {
      this.options.onProtocolError(`connect refused: ${JSON.stringify(reply.error ?? null).slice(0, 300)}`);
      this.close();
      return;
    }
    this.connected = true;
    this.options.onConnected();
  }
}
