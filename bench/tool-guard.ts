/**
 * What the tool guard adds to a tool-bearing model call, measured in-process (no sockets): the request filter
 * on OpenClaw's real first-turn request (capture 12: ~49 K-character system prompt, 12 tools, 45 deferred
 * tools listed), the policy decision per call, the stream guard on a streamed tool call (1 text event + 60
 * argument deltas), and the JSON answer guard. Then, through a whole platform over real sockets, the gateway's
 * own `x-clawfleet-overhead-ms` for that request (JSON: decode, filter, route, guard, encode).
 *
 * Run: `npx tsx bench/tool-guard.ts`. Prints p50/p99 in microseconds (µs) or ms.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { CLIENT_API_CODECS } from "../src/apis/index.js";
import type { CanonicalResponse, StreamEvent } from "../src/contracts/chat.js";
import type { PermissionProfile } from "../src/contracts/governance.js";
import { PRESET_PROFILES } from "../src/governance/profiles/presets.js";
import { MemoryAuditLog, NoInboxApprovalGate } from "../src/governance/tool-policy/interim.js";
import { ToolCallGuard, decide, filterRequestTools, guardResponse, guardStream } from "../src/governance/tool-policy/index.js";
import { startFakeUpstream } from "../test/support/fake-upstream.js";
import { startTestPlatform } from "../test/support/platform.js";

const capturePath = fileURLToPath(new URL("../test/fixtures/openclaw/12-toolcall-gateway-turn1.request.json", import.meta.url));
const captureBody = (JSON.parse(readFileSync(capturePath, "utf8")) as { body: Record<string, unknown> }).body;
const decoded = CLIENT_API_CODECS["openai-chat"].decodeRequest(captureBody).request;
const readonly = PRESET_PROFILES.get("readonly-agent") as PermissionProfile;
const erp = PRESET_PROFILES.get("erp-agent") as PermissionProfile;
const context = { workspaceDir: "/srv/tenant/workspace", homeDir: "/srv/tenant/home" };

function percentiles(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: sorted[Math.floor(sorted.length * 0.5)] as number, p99: sorted[Math.floor(sorted.length * 0.99)] as number };
}

async function measure(name: string, iterations: number, work: () => unknown): Promise<void> {
  for (let index = 0; index < 200; index += 1) await work();
  const samples: number[] = [];
  for (let index = 0; index < iterations; index += 1) {
    const started = performance.now();
    await work();
    samples.push((performance.now() - started) * 1000);
  }
  const { p50, p99 } = percentiles(samples);
  process.stdout.write(`${name.padEnd(64)} p50 ${p50.toFixed(1).padStart(7)} µs   p99 ${p99.toFixed(1).padStart(7)} µs\n`);
}

const guard = () => new ToolCallGuard({ approvals: new NoInboxApprovalGate(), audit: new MemoryAuditLog({ capacity: 100 }) }, { tenantId: "t", actor: "runtime:t", requestId: "r", profile: erp, context, sessionId: () => "s" });
const argumentsText = JSON.stringify({ id: "exec", args: { title: "list", command: "ls -la /srv/tenant/workspace/reports | wc -l" } });
const events: StreamEvent[] = [
  { type: "start", id: "r", model: "m", createdAt: 0 },
  { type: "text_delta", index: 0, text: "Checking." },
  { type: "block_end", index: 0 },
  { type: "tool_call_start", index: 1, id: "c", name: "tool_call" },
  ...Array.from({ length: 60 }, (_, index): StreamEvent => ({ type: "tool_call_delta", index: 1, argumentsDelta: argumentsText.slice(Math.floor((index * argumentsText.length) / 60), Math.floor(((index + 1) * argumentsText.length) / 60)) })),
  { type: "block_end", index: 1 },
  { type: "finish", finishReason: "tool_calls", usage: null },
];
async function* source(): AsyncGenerator<StreamEvent> {
  for (const event of events) yield event;
}
async function drain(iterable: AsyncIterable<StreamEvent>): Promise<void> {
  for await (const _event of iterable) {
    // consume
  }
}
const response: CanonicalResponse = { id: "r", model: "m", content: [{ type: "text", text: "ok" }, { type: "tool_call", id: "c", name: "tool_call", arguments: argumentsText }], finishReason: "tool_calls", usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, createdAt: 0 };

await measure("request filter, capture 12 (readonly-agent: 6 tools + 40 prompt lines)", 2000, () => filterRequestTools(decoded, readonly));
await measure("decide: tool_call → exec with a 3-part command (erp-agent)", 20000, () => decide(erp, { name: "tool_call", arguments: argumentsText }, context));
await measure("stream: baseline, the same 64 events without the guard", 5000, () => drain(source()));
await measure("stream: guarded (call held, reviewed, released)", 5000, () => drain(guardStream(source(), guard())));
await measure("JSON answer guard (1 call)", 5000, () => guardResponse(response, guard()));

// Whole platform: the gateway's own overhead header for the real tool-bearing request, streamed.
const upstream = await startFakeUpstream();
upstream.setDefault({ kind: "text", text: "done" });
const platform = await startTestPlatform({ OPENAI_API_KEY: "sk", OPENAI_BASE_URL: upstream.url, CLAWFLEET_DEFAULT_MODEL: "m" });
try {
  await platform.admin("POST", "/tenants", { id: "bench", profile: "erp-agent" });
  const key = ((await platform.admin("POST", "/tenants/bench/keys", { scopes: ["model"] })).body as { key: string }).key;
  const overheadOf = async (label: string, body: string) => {
    const overhead: number[] = [];
    for (let index = 0; index < 330; index += 1) {
      const reply = await fetch(`${platform.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body });
      await reply.text();
      if (index >= 30) overhead.push(Number(reply.headers.get("x-clawfleet-overhead-ms")));
    }
    const { p50, p99 } = percentiles(overhead);
    process.stdout.write(`${label.padEnd(64)} p50 ${p50.toFixed(3)} ms  p99 ${p99.toFixed(3)} ms\n`);
  };
  const jsonBody: Record<string, unknown> = { ...captureBody, model: "default", stream: false, stream_options: undefined };
  // Before enforcement this request was passed through; the closest passthrough today is the same body without tools.
  const { tools: _tools, tool_choice: _choice, ...withoutTools } = jsonBody;
  await overheadOf("overhead, capture 12 without tools (passthrough + its guard)", JSON.stringify(withoutTools));
  await overheadOf("overhead, capture 12 with tools (canonical + filter + guard)", JSON.stringify(jsonBody));
} finally {
  await platform.stop();
  await upstream.close();
}
