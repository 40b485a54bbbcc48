/**
 * Approval notifiers against local fake servers on 127.0.0.1 (the only fakes allowed: external services): a
 * webhook receiver that verifies the HMAC signature, a Slack incoming-webhook fake, a Telegram Bot API fake and
 * a real SMTP server (`smtp-server`). Then the stored outbox: a failing receiver is retried with backoff until it
 * answers, attempts are recorded, and a permanently failing one is given up.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { SMTPServer } from "smtp-server";
import type { Store } from "../../../src/contracts/store.js";
import { ApprovalInbox } from "../../../src/governance/approvals/inbox.js";
import { EmailNotifier } from "../../../src/governance/approvals/notifiers/email.js";
import type { ApprovalNotice, ApprovalNotifier } from "../../../src/governance/approvals/notifiers/notifier.js";
import { SlackNotifier } from "../../../src/governance/approvals/notifiers/slack.js";
import { TelegramNotifier } from "../../../src/governance/approvals/notifiers/telegram.js";
import { signWebhookBody, verifyWebhookSignature, WebhookNotifier } from "../../../src/governance/approvals/notifiers/webhook.js";
import { NotificationOutbox } from "../../../src/governance/approvals/outbox.js";
import { openSqliteStore } from "../../../src/store/sqlite/open.js";

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

async function fakeServer(answer: (request: Received) => { status: number; body: string }): Promise<{ url: string; received: Received[]; close(): Promise<void>; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const entry = { path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString() };
      received.push(entry);
      const reply = answer(entry);
      response.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const notice: ApprovalNotice = {
  permissionRequestId: "apr_0190000000000123456789",
  tenantId: "acme",
  sessionId: "s1",
  source: "gateway",
  tool: "exec",
  argumentsText: '{"command":"rm -rf build && echo <done>"}',
  argumentsHash: "a".repeat(64),
  risk: "high",
  reason: "exec needs approval",
  createdAt: "2026-11-21T10:00:00.000Z",
  deadlineAt: "2026-11-21T10:30:00.000Z",
  url: null,
  cliHint: "clawfleet approvals approve apr_0190000000000123456789",
};

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("webhook signatures (Stripe-style t=…,v1=HMAC-SHA256)", () => {
  test("sign/verify round trip; tampered body, wrong secret, stale timestamp and garbage are refused", () => {
    const nowMs = 1_800_000_000_000;
    const header = signWebhookBody('{"a":1}', "s3cret", nowMs / 1000);
    assert.match(header, /^t=1800000000,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(header, '{"a":1}', "s3cret", { nowMs }), true);
    assert.equal(verifyWebhookSignature(header, '{"a":2}', "s3cret", { nowMs }), false);
    assert.equal(verifyWebhookSignature(header, '{"a":1}', "other", { nowMs }), false);
    assert.equal(verifyWebhookSignature(header, '{"a":1}', "s3cret", { nowMs: nowMs + 301_000 }), false);
    assert.equal(verifyWebhookSignature("t=abc,v1=00", '{"a":1}', "s3cret", { nowMs }), false);
    assert.equal(verifyWebhookSignature(undefined, '{"a":1}', "s3cret", { nowMs }), false);
  });
});

describe("notifiers against local fakes", () => {
  test("webhook: signed JSON the receiver verifies with the shared secret", async () => {
    const receiver = await fakeServer(() => ({ status: 200, body: "{}" }));
    cleanups.push(receiver.close);
    let secret = "first-secret";
    await new WebhookNotifier("hook", `${receiver.url}/hooks/approvals`, () => secret).send(notice);
    secret = "rotated-secret";
    await new WebhookNotifier("hook", `${receiver.url}/hooks/approvals`, () => secret).send(notice);
    const [first, second] = receiver.received;
    assert.equal(first?.path, "/hooks/approvals");
    const body = JSON.parse(first?.body ?? "{}") as Record<string, unknown>;
    assert.equal(body.type, "approval.requested");
    assert.equal(body.permissionRequestId, notice.permissionRequestId);
    assert.equal(verifyWebhookSignature(first?.headers["x-clawfleet-signature"] as string, first?.body ?? "", "first-secret"), true);
    assert.equal(verifyWebhookSignature(second?.headers["x-clawfleet-signature"] as string, second?.body ?? "", "rotated-secret"), true, "the rotated secret is used");
    assert.equal(verifyWebhookSignature(second?.headers["x-clawfleet-signature"] as string, second?.body ?? "", "first-secret"), false);
  });

  test("webhook: a non-2xx answer is a failure naming the status (never the URL)", async () => {
    const receiver = await fakeServer(() => ({ status: 503, body: "busy" }));
    cleanups.push(receiver.close);
    await assert.rejects(new WebhookNotifier("hook", `${receiver.url}/secret-path-token`, () => "s").send(notice), (error: Error) => /HTTP 503: busy/.test(error.message) && !error.message.includes("secret-path-token"));
  });

  test("Slack incoming webhook: {text} with &, <, > escaped", async () => {
    const slack = await fakeServer(() => ({ status: 200, body: "ok" }));
    cleanups.push(slack.close);
    await new SlackNotifier("slack", () => `${slack.url}/services/T000/B000/XXXX`).send(notice);
    const payload = JSON.parse(slack.received[0]?.body ?? "{}") as { text: string };
    assert.equal(slack.received[0]?.path, "/services/T000/B000/XXXX");
    assert.match(payload.text, /tenant acme wants to run exec/);
    assert.match(payload.text, /rm -rf build &amp;&amp; echo &lt;done&gt;/);
  });

  test("Telegram sendMessage: token in the path, chat_id and text in the body; ok:false is a failure", async () => {
    let ok = true;
    const telegram = await fakeServer(() => (ok ? { status: 200, body: '{"ok":true,"result":{"message_id":1}}' } : { status: 400, body: '{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}' }));
    cleanups.push(telegram.close);
    const notifier = new TelegramNotifier("tg", telegram.url, () => "123:ABC", -1001234);
    await notifier.send(notice);
    assert.equal(telegram.received[0]?.path, "/bot123:ABC/sendMessage");
    const body = JSON.parse(telegram.received[0]?.body ?? "{}") as { chat_id: number; text: string };
    assert.equal(body.chat_id, -1001234);
    assert.match(body.text, /Approval needed \(high risk\)/);
    ok = false;
    await assert.rejects(notifier.send(notice), /HTTP 400: Bad Request: chat not found/);
  });

  test("e-mail over SMTP (a real smtp-server on 127.0.0.1 with AUTH)", async () => {
    const messages: Array<{ from: string; to: string[]; data: string; user: string }> = [];
    const smtp = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ["STARTTLS"],
      onAuth(auth, _session, callback) {
        if (auth.username === "fleet" && auth.password === "smtp-pass") callback(null, { user: "fleet" });
        else callback(new Error("bad credentials"));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((item) => item.address), data: Buffer.concat(chunks).toString(), user: String(session.user) });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => smtp.close(() => resolve())));
    const port = (smtp.server.address() as AddressInfo).port;
    const options = { host: "127.0.0.1", port, secure: false, requireTls: false, username: "fleet", from: "clawfleet@example.com", to: ["ops@example.com", "sec@example.com"] };
    await new EmailNotifier("mail", { ...options, password: () => "smtp-pass" }).send(notice);
    assert.equal(messages.length, 1);
    assert.deepEqual(messages[0]?.to, ["ops@example.com", "sec@example.com"]);
    assert.equal(messages[0]?.from, "clawfleet@example.com");
    assert.equal(messages[0]?.user, "fleet");
    assert.match(messages[0]?.data ?? "", /Subject: \[Clawfleet\] approval needed: exec for tenant acme \(high\)/);
    assert.match(messages[0]?.data ?? "", /x-clawfleet-permission-request: apr_0190000000000123456789/i);
    await assert.rejects(new EmailNotifier("mail", { ...options, password: () => "wrong" }).send(notice), /auth|credentials|535/i);
    await assert.rejects(new EmailNotifier("mail", { ...options, requireTls: true, password: () => "smtp-pass" }).send(notice), /STARTTLS|TLS/i, "STARTTLS is required by default");
  });
});

describe("the stored outbox retries with backoff", () => {
  let store: Store;
  after(async () => store?.close());

  test("a receiver failing twice is retried until it answers; attempts and errors are stored; a dead one is given up", async () => {
    store = await openSqliteStore({ dataDir: "", fileName: ":memory:" });
    let nowMs = 1_700_000_000_000;
    let failuresLeft = 2;
    const receiver = await fakeServer(() => (failuresLeft-- > 0 ? { status: 500, body: "oops" } : { status: 204, body: "" }));
    cleanups.push(receiver.close);
    const dead = await fakeServer(() => ({ status: 410, body: "gone" }));
    cleanups.push(dead.close);
    const notifiers = new Map<string, ApprovalNotifier>([
      ["hook", new WebhookNotifier("hook", receiver.url, () => "k")],
      ["dead", new WebhookNotifier("dead", dead.url, () => "k")],
    ]);
    const outbox = new NotificationOutbox({ repository: store.approvals, notifiers, now: () => nowMs, logger: { warn: () => undefined, info: () => undefined }, initialBackoffMs: 1_000, maxBackoffMs: 4_000, maxAttempts: 3 });
    const inbox = new ApprovalInbox({ repository: store.approvals, audit: { record: () => undefined, flush: async () => undefined }, profileEditor: { allowToolPermanently: async () => undefined }, now: () => nowMs, timeoutMs: 600_000, channels: ["hook", "dead"] });
    const outcome = await inbox.review({ tenantId: "acme", sessionId: "s", requestId: "r", toolCallId: "c", calledName: "exec", tool: "exec", arguments: { command: "make deploy" } }, { risk: "high", reason: "exec" });
    if (outcome.kind !== "pending") assert.fail("pending expected");
    const state = async () => Object.fromEntries((await store.approvals.listNotifications(outcome.permissionRequestId)).map((item) => [item.channel, item]));

    await outbox.deliverDue();
    assert.equal((await state()).hook?.attempts, 1);
    assert.equal((await state()).hook?.lastError, "the webhook answered HTTP 500: oops");
    assert.equal((await state()).hook?.nextAttemptAtMs, nowMs + 1_000);
    nowMs += 999;
    await outbox.deliverDue();
    assert.equal(receiver.received.length, 1, "not before the backoff");
    nowMs += 1;
    await outbox.deliverDue();
    assert.equal((await state()).hook?.nextAttemptAtMs, nowMs + 2_000, "the backoff doubles");
    nowMs += 2_000;
    await outbox.deliverDue();
    const delivered = (await state()).hook;
    assert.equal(delivered?.attempts, 3);
    assert.equal(delivered?.deliveredAtMs, nowMs);
    assert.equal(receiver.received.length, 3);
    const body = receiver.received[2]?.body ?? "";
    assert.equal(verifyWebhookSignature(receiver.received[2]?.headers["x-clawfleet-signature"] as string, body, "k"), true);

    const gaveUp = (await state()).dead;
    assert.equal(gaveUp?.attempts, 3);
    assert.equal(gaveUp?.nextAttemptAtMs, null, "given up after maxAttempts");
    assert.equal(gaveUp?.deliveredAtMs, null);
    assert.equal(dead.received.length, 3);
    nowMs += 60_000;
    await outbox.deliverDue();
    assert.equal(dead.received.length, 3, "no attempt after giving up");
    await outbox.close();
  });
});
