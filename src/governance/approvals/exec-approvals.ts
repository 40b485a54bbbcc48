/**
 * OpenClaw's own exec approvals, routed into Clawfleet's inbox: for every ready runtime the bridge keeps one
 * {@link RuntimeApprovalClient} connected (reconnecting with backoff 0.5 s … 30 s), so `tools.exec.mode: "ask"`
 * works even for headless HTTP runs (without an approver OpenClaw denies at once, FACTS.md).
 *
 * For each `exec.approval.requested`: the tenant profile's exec rules decide when they can (allow → `allow-once`,
 * deny → `deny`); otherwise a grant may cover the command; otherwise a permission request waits in the inbox
 * (deadline = the earlier of the inbox timeout and OpenClaw's own expiry). Decisions — human, deadline, or made
 * on another replica — are sent back with `exec.approval.resolve` and marked resolved in the store; unresolved
 * ones are retried on every sweep and at (re)connect. A runtime that restarted forgot its approvals: pending
 * requests of an earlier runtime instance are closed as expired when the new instance connects.
 */
import { randomUUID } from "node:crypto";
import type { ApprovalRepository, PermissionRequestRecord } from "../../contracts/approvals.js";
import type { Logger } from "../../observability/logger.js";
import type { ApprovalInbox } from "./inbox.js";
import type { ExecCommandPolicy } from "./ports.js";
import { RuntimeApprovalClient, type ExecApprovalRequested } from "./runtime-approval-client.js";

/** Where and how to reach one runtime's gateway (from the runtime manager's `RuntimeConnection`). */
export interface RuntimeApprovalTarget {
  /** `ws+unix://<socket>:/` or `ws://127.0.0.1:<port>/`. */
  url: string;
  gatewayToken: string;
  /**
   * Trusted-proxy runtimes (no token): identity headers sent with the WebSocket upgrade (the platform's approval
   * identity and its scopes, see `src/ingress/trusted-proxy.ts`); `connect` then carries no token.
   */
  trustedProxyHeaders?: Record<string, string>;
}

export interface ExecApprovalBridgeOptions {
  inbox: ApprovalInbox;
  repository: ApprovalRepository;
  policy: ExecCommandPolicy;
  now: () => number;
  logger: Pick<Logger, "info" | "warn" | "debug">;
  version: string;
  /** First reconnect delay (ms), default 500; doubles up to 30_000. */
  reconnectInitialMs?: number;
}

interface Attachment {
  tenantId: string;
  target: RuntimeApprovalTarget;
  instanceId: string;
  client: RuntimeApprovalClient | null;
  reconnectTimer: NodeJS.Timeout | null;
  failures: number;
  detached: boolean;
  /** Resolved at the first successful connect. */
  connectedWaiters: Array<() => void>;
}

const MAX_RECONNECT_MS = 30_000;

export class ExecApprovalBridge {
  private readonly attachments = new Map<string, Attachment>();
  private readonly unsubscribe: () => void;

  constructor(private readonly options: ExecApprovalBridgeOptions) {
    this.unsubscribe = options.inbox.onDecided((request) => {
      if (request.source === "openclaw-exec") void this.deliver(request);
    });
  }

  /**
   * Connects to a runtime that just became ready (replacing any earlier connection of that tenant). Resolves once
   * connected, or after `waitMs` (default 5_000) if the runtime does not accept the client; keeps retrying then.
   */
  attach(tenantId: string, target: RuntimeApprovalTarget, waitMs = 5_000): Promise<void> {
    this.detach(tenantId);
    const attachment: Attachment = { tenantId, target, instanceId: randomUUID(), client: null, reconnectTimer: null, failures: 0, detached: false, connectedWaiters: [] };
    this.attachments.set(tenantId, attachment);
    const connected = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      timer.unref();
      attachment.connectedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.connect(attachment);
    return connected;
  }

  /** Closes the tenant's connection (runtime stopping). */
  detach(tenantId: string): void {
    const attachment = this.attachments.get(tenantId);
    if (!attachment) return;
    attachment.detached = true;
    for (const waiter of attachment.connectedWaiters.splice(0)) waiter();
    if (attachment.reconnectTimer) clearTimeout(attachment.reconnectTimer);
    attachment.client?.close();
    this.attachments.delete(tenantId);
  }

  /** True while the tenant's runtime has a connected approval client. */
  isConnected(tenantId: string): boolean {
    return this.attachments.get(tenantId)?.client?.isConnected === true;
  }

  /** Sends every stored, not yet delivered decision to the connected runtimes (the sweeper calls this). */
  async deliverPending(): Promise<void> {
    for (const attachment of this.attachments.values()) {
      if (attachment.client?.isConnected !== true) continue;
      for (const request of await this.options.repository.listUnresolvedExec(attachment.tenantId)) await this.deliver(request);
    }
  }

  close(): void {
    this.unsubscribe();
    for (const tenantId of [...this.attachments.keys()]) this.detach(tenantId);
  }

  private connect(attachment: Attachment): void {
    attachment.client = new RuntimeApprovalClient({
      url: attachment.target.url,
      gatewayToken: attachment.target.gatewayToken,
      ...(attachment.target.trustedProxyHeaders ? { trustedProxyHeaders: attachment.target.trustedProxyHeaders } : {}),
      version: this.options.version,
      onConnected: () => {
        attachment.failures = 0;
        for (const waiter of attachment.connectedWaiters.splice(0)) waiter();
        this.options.logger.info({ tenantId: attachment.tenantId }, "exec approval client connected to the runtime");
        void this.afterConnect(attachment).catch((error: unknown) => this.options.logger.warn({ err: error, tenantId: attachment.tenantId }, "exec approval catch-up failed"));
      },
      onRequested: (request) => void this.handleRequested(attachment, request).catch((error: unknown) => this.options.logger.warn({ err: error, tenantId: attachment.tenantId }, "exec approval handling failed")),
      onClosed: (code) => {
        if (attachment.detached || this.attachments.get(attachment.tenantId) !== attachment) return;
        attachment.failures += 1;
        const delay = Math.min(MAX_RECONNECT_MS, (this.options.reconnectInitialMs ?? 500) * 2 ** Math.min(attachment.failures - 1, 16));
        this.options.logger.debug({ tenantId: attachment.tenantId, code, delayMs: delay }, "exec approval client disconnected; reconnecting");
        attachment.reconnectTimer = setTimeout(() => {
          attachment.reconnectTimer = null;
          if (!attachment.detached) this.connect(attachment);
        }, delay);
        attachment.reconnectTimer.unref();
      },
      onProtocolError: (message) => this.options.logger.debug({ tenantId: attachment.tenantId, message }, "exec approval client error"),
    });
  }

  private async afterConnect(attachment: Attachment): Promise<void> {
    // Approvals of an earlier runtime process died with it: close them so nobody decides in vain.
    for (const stale of await this.options.repository.listPendingExecOfOtherInstances(attachment.tenantId, attachment.instanceId)) {
      const closed = await this.options.inbox.cancel(stale, "the runtime restarted; its exec approval no longer exists");
      if (closed) await this.options.repository.markRuntimeResolved(closed.id, this.options.now());
    }
    for (const request of await this.options.repository.listUnresolvedExec(attachment.tenantId)) await this.deliver(request);
  }

  private async handleRequested(attachment: Attachment, requested: ExecApprovalRequested): Promise<void> {
    const client = attachment.client;
    if (!client) return;
    const command = requested.request.command;
    const verdict = this.options.policy.decide(attachment.tenantId, command);
    if (verdict !== "approval") {
      this.options.logger.info({ tenantId: attachment.tenantId, approvalId: requested.id, verdict }, "exec approval decided by the tenant's profile");
      await client.resolve(requested.id, verdict === "allow" ? "allow-once" : "deny");
      return;
    }
    const outcome = await this.options.inbox.reviewExec(
      {
        tenantId: attachment.tenantId,
        runtimeApprovalId: requested.id,
        runtimeInstanceId: attachment.instanceId,
        command,
        cwd: requested.request.cwd ?? null,
        sessionKey: requested.request.sessionKey ?? null,
        toolCallId: requested.request.toolCallId ?? null,
        runtimeExpiresAtMs: requested.expiresAtMs ?? null,
      },
      { risk: "high", reason: "OpenClaw asks before running a shell command (tools.exec.mode: ask)" },
    );
    if (outcome.kind === "granted") {
      this.options.logger.info({ tenantId: attachment.tenantId, approvalId: requested.id, grantId: outcome.grantId }, "exec approval covered by a grant");
      await client.resolve(requested.id, "allow-once");
    } else if (outcome.kind === "rejected") {
      await client.resolve(requested.id, "deny");
    } else {
      this.options.logger.info({ tenantId: attachment.tenantId, approvalId: requested.id, permissionRequestId: outcome.permissionRequestId }, "exec approval waiting for a human");
    }
  }

  private async deliver(request: PermissionRequestRecord): Promise<void> {
    if (request.status === "pending" || request.runtimeApprovalId === null || request.runtimeResolvedAtMs !== null) return;
    const attachment = this.attachments.get(request.tenantId);
    if (!attachment) return;
    if (request.runtimeInstanceId !== attachment.instanceId) {
      // The runtime that asked is gone; nothing can be resolved there any more.
      await this.options.repository.markRuntimeResolved(request.id, this.options.now());
      return;
    }
    const client = attachment.client;
    if (client?.isConnected !== true) return;
    const decision = request.status === "approved" ? "allow-once" : "deny";
    const result = await client.resolve(request.runtimeApprovalId, decision);
    if (result.kind === "failed") return;
    if (result.kind === "refused") this.options.logger.warn({ tenantId: request.tenantId, permissionRequestId: request.id, message: result.message }, "the runtime refused the exec approval resolution (expired there?)");
    else this.options.logger.info({ tenantId: request.tenantId, permissionRequestId: request.id, decision }, "exec approval resolved in the runtime");
    await this.options.repository.markRuntimeResolved(request.id, this.options.now());
  }
}
