/**
 * End to end with a REAL OpenClaw runtime: `clawfleet serve` as a user runs it, the CLI to create a tenant,
 * chat through the ingress (JSON and SSE), the runtime's model calls through Clawfleet's model gateway to a
 * fake upstream that speaks OpenAI's wire format. Then cross-tenant refusals over HTTP and WebSocket, a
 * killed runtime that comes back with the tenant's settings, and a clean shutdown.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { WebSocket } from "ws";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";

const PROVIDER_KEY = "sk-live-provider-key-ABCDEF0123456789";
const ANSWER = "Acme's own OpenClaw answered through Clawfleet.";

interface RuntimeView {
  state: string;
  pid: number | null;
  restarts: number;
  sandboxed: boolean;
}

function filesUnder(directory: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(full));
    else if (entry.isFile()) found.push(full);
  }
  return found;
}

function webSocketOutcome(url: string, key: string, frames: (socket: WebSocket, message: Record<string, unknown>) => void): Promise<{ status?: number; messages: Array<Record<string, unknown>>; closeCode?: number }> {
  return new Promise((resolve) => {
    const messages: Array<Record<string, unknown>> = [];
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${key}` } });
    const timer = setTimeout(() => {
      socket.terminate();
      resolve({ messages });
    }, 30_000);
    socket.on("unexpected-response", (_request, response) => {
      clearTimeout(timer);
      resolve({ status: response.statusCode ?? 0, messages });
      socket.terminate();
    });
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      messages.push(message);
      frames(socket, message);
    });
    socket.on("close", (code) => {
      clearTimeout(timer);
      resolve({ messages, closeCode: code });
    });
    socket.on("error", () => undefined);
  });
}

describe("a real OpenClaw runtime per tenant, end to end", { timeout: 900_000 }, () => {
  let upstream: FakeUpstream;
  let serve: ServeProcess;
  let acmeKey: string;
  let globexKey: string;

  before(async () => {
    upstream = await startFakeUpstream();
    upstream.setDefault({ kind: "text", text: ANSWER });
    serve = await startServeProcess({
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: upstream.url,
      CLAWFLEET_DEFAULT_MODEL: "gpt-4o-mini",
      CLAWFLEET_RUNTIME_START_TIMEOUT_MS: "240000",
      CLAWFLEET_LOG_LEVEL: "info",
    });
    const created = JSON.parse(await serve.cli(["tenant", "create", "acme", "--json"])) as { id: string; apiKey: string };
    assert.equal(created.id, "acme");
    acmeKey = created.apiKey;
    globexKey = (JSON.parse(await serve.cli(["tenant", "create", "globex", "--json"])) as { apiKey: string }).apiKey;
  });

  after(async () => {
    await serve?.stop();
    await upstream?.close();
  });

  const admin = async <T>(apiPath: string, init: RequestInit = {}): Promise<T> => {
    const response = await fetch(`${serve.url}/admin/v1${apiPath}`, { ...init, headers: { authorization: `Bearer ${serve.adminToken}`, ...(init.body ? { "content-type": "application/json" } : {}) } });
    assert.ok(response.ok, `${apiPath}: ${response.status} ${await response.clone().text()}`);
    return (await response.json()) as T;
  };

  test("the first request boots acme's runtime on demand; the caller waits and gets OpenClaw's answer", async () => {
    const states = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        states.add((await admin<{ runtime: RuntimeView }>("/tenants/acme")).runtime.state);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const started = Date.now();
    // Exactly the README's curl: no content type (curl -d sends a form type).
    const response = await fetch(`${serve.url}/t/acme/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${acmeKey}`, "content-type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
    });
    polling = false;
    await poller;
    const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.choices[0]?.message.content, ANSWER);
    assert.ok(states.has("starting"), `the admin API showed the runtime booting (saw ${[...states].join(", ")})`);
    const view = await admin<{ runtime: RuntimeView }>("/tenants/acme");
    assert.equal(view.runtime.state, "ready");
    process.stderr.write(`# cold start (first request → answer): ${Date.now() - started} ms; sandboxed: ${view.runtime.sandboxed}\n`);
  });

  test("streaming through the ingress with the official openai SDK", async () => {
    const client = new OpenAI({ apiKey: acmeKey, baseURL: `${serve.url}/t/acme/v1`, maxRetries: 0, timeout: 120_000 });
    const stream = await client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "stream to me" }], stream: true });
    let text = "";
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta?.content ?? "";
    }
    assert.equal(text, ANSWER);
    assert.ok(chunks >= 2, `SSE arrived as ${chunks} chunks`);
  });

  test("the upstream saw only the platform's provider key; the runtime holds no provider key anywhere", async () => {
    const fromRuntime = upstream.requests.filter((request) => request.path.endsWith("/chat/completions"));
    assert.ok(fromRuntime.length >= 2, "the runtime's model calls reached the upstream");
    for (const request of fromRuntime) {
      assert.equal(request.headers.authorization, `Bearer ${PROVIDER_KEY}`);
      assert.equal(request.rawBody.includes("cfv_"), false, "the virtual key never reaches the provider");
      assert.equal((request.body as { model: string }).model, "gpt-4o-mini");
    }
    const tenantDirectory = path.join(serve.dataDir, "tenants", "acme");
    const files = filesUnder(tenantDirectory);
    assert.ok(files.length > 10, `the runtime wrote its state (${files.length} files)`);
    let configHasVirtualKey = false;
    for (const file of files) {
      // The running runtime creates and removes temporary files (e.g. SQLite reindex files) while we read.
      if (!existsSync(file)) continue;
      let content: Buffer;
      try {
        if (statSync(file).size > 64 * 1024 * 1024) continue;
        content = readFileSync(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw error;
      }
      assert.equal(content.includes(PROVIDER_KEY), false, `${file} must not contain the provider key`);
      if (file.endsWith("openclaw.json") && content.includes("cfv_")) configHasVirtualKey = true;
    }
    assert.ok(configHasVirtualKey, "the runtime's config carries its virtual key instead");
    const { runtime } = await admin<{ runtime: RuntimeView }>("/tenants/acme");
    assert.ok(runtime.pid, "the runtime has a process");
    const environment = readFileSync(`/proc/${runtime.pid}/environ`);
    assert.equal(environment.includes(PROVIDER_KEY), false, "the runtime's environment holds no provider key");
    assert.equal(environment.includes("OPENAI_API_KEY"), false);
  });

  test("cross-tenant: acme's key on globex is refused over HTTP and WebSocket; globex never boots", async () => {
    const http = await fetch(`${serve.url}/t/globex/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${acmeKey}` }, body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }) });
    assert.equal(http.status, 403);
    const webSocket = await webSocketOutcome(`${serve.url.replace("http", "ws")}/t/globex/`, acmeKey, () => undefined);
    assert.equal(webSocket.status, 403);
    assert.equal(webSocket.messages.length, 0);
    const withoutKey = await webSocketOutcome(`${serve.url.replace("http", "ws")}/t/acme/`, "", () => undefined);
    assert.equal(withoutKey.status, 401);
    const globex = await admin<{ runtime: RuntimeView }>("/tenants/globex");
    assert.equal(globex.runtime.state, "stopped");
    assert.ok(globexKey.length > 0);
  });

  test("WebSocket to acme's own runtime: the proxy supplies the runtime token the caller never sees", async () => {
    const outcome = await webSocketOutcome(`${serve.url.replace("http", "ws")}/t/acme/`, acmeKey, (socket, message) => {
      if (message.type === "event" && message.event === "connect.challenge") {
        socket.send(
          JSON.stringify({
            type: "req",
            id: "c1",
            method: "connect",
            params: { minProtocol: 4, maxProtocol: 4, client: { id: "test", version: "1.0.0", platform: "linux", mode: "test" }, role: "operator", scopes: ["operator.read"], caps: [] },
          }),
        );
      }
      if (message.type === "res" && message.id === "c1") socket.close(1000);
    });
    const reply = outcome.messages.find((message) => message.id === "c1") as { ok?: boolean; payload?: { type?: string }; error?: unknown } | undefined;
    assert.ok(reply, `a connect reply arrived (got ${JSON.stringify(outcome.messages).slice(0, 400)})`);
    assert.equal(reply.ok, true, JSON.stringify(reply.error));
    assert.equal(reply.payload?.type, "hello-ok");
  });

  test("a killed runtime is restarted; the next request succeeds and the tenant's settings survive", async () => {
    // The tenant's own settings: one set through the admin API, one made inside OpenClaw's own config file.
    await admin("/tenants/acme/settings", {
      method: "PUT",
      body: JSON.stringify({ settings: { agents: { defaults: { userTimezone: "America/Chicago" } }, gateway: { auth: { token: "tenant-chosen" } }, models: { providers: { direct: { baseUrl: "http://127.0.0.1:1/v1", apiKey: "x", api: "openai-completions", models: [] } } } } }),
    });
    const configPath = path.join(serve.dataDir, "tenants", "acme", "state", "openclaw.json");
    const onDisk = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, Record<string, unknown>>;
    onDisk.logging = { ...(onDisk.logging ?? {}), level: "debug" };
    writeFileSync(configPath, JSON.stringify(onDisk, null, 2));

    const before = await admin<{ runtime: RuntimeView }>("/tenants/acme");
    assert.ok(before.runtime.pid);
    process.kill(before.runtime.pid, "SIGKILL");
    const deadline = Date.now() + 240_000;
    const seen = new Set<string>();
    let current = before.runtime;
    while (Date.now() < deadline) {
      current = (await admin<{ runtime: RuntimeView }>("/tenants/acme")).runtime;
      seen.add(current.state);
      if (current.state === "ready" && current.pid !== before.runtime.pid) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(current.state, "ready", `restarted (states seen: ${[...seen].join(", ")})`);
    assert.ok(current.restarts >= 1);
    assert.notEqual(current.pid, before.runtime.pid);

    const client = new OpenAI({ apiKey: acmeKey, baseURL: `${serve.url}/t/acme/v1`, maxRetries: 0, timeout: 120_000 });
    const completion = await client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "are you back?" }] });
    assert.equal(completion.choices[0]?.message.content, ANSWER);

    const rendered = JSON.parse(readFileSync(configPath, "utf8")) as {
      agents: { defaults: { userTimezone?: string } };
      logging: { level?: string; file?: string };
      gateway: { auth: { token: string } };
      models: { providers: Record<string, { apiKey: string }> };
    };
    assert.equal(rendered.agents.defaults.userTimezone, "America/Chicago", "admin-API setting kept");
    assert.equal(rendered.logging.level, "debug", "the tenant's own change to its config survived the restart");
    assert.notEqual(rendered.gateway.auth.token, "tenant-chosen", "platform-managed keys win");
    assert.deepEqual(Object.keys(rendered.models.providers), ["clawfleet"], "the model gateway is the only provider");
    assert.match(rendered.models.providers.clawfleet?.apiKey ?? "", /^cfv_/);
  });

  test("logs through the CLI, then a clean shutdown stops the runtime", async () => {
    const logs = await serve.cli(["runtime", "logs", "acme", "--lines", "50"]);
    assert.ok(logs.trim().length > 0, "the runtime's log is readable through the admin API");
    const status = await serve.cli(["runtime", "status", "acme"]);
    assert.match(status, /ready/);
    const { runtime } = await admin<{ runtime: RuntimeView }>("/tenants/acme");
    const exitCode = await serve.stop();
    assert.equal(exitCode, 0);
    assert.ok(runtime.pid);
    let alive = true;
    try {
      process.kill(runtime.pid, 0);
    } catch {
      alive = false;
    }
    assert.equal(alive, false, "the runtime process is gone after shutdown");
  });
});
