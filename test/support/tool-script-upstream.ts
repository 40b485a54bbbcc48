/**
 * A fake OpenAI-compatible model (Chat Completions, JSON and SSE) that answers a user message containing a
 * trigger word with a scripted tool call, streamed in pieces of `chunkCharacters` characters of arguments (each
 * piece its own SSE event and its own socket write), and answers any turn that already holds a tool result with
 * `TOOL-RESULT-SEEN: <result>`. Anything else gets `plain answer`. OpenClaw's trailing internal-context user
 * message (FACTS.md) is skipped when looking for the trigger.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** One scripted tool call: when the user's text includes `trigger`, call `name` with `arguments` (JSON text). */
export interface ScriptedToolCall {
  trigger: string;
  name: string;
  arguments: string;
  /** Characters of arguments per SSE event (default 1000: one event). */
  chunkCharacters?: number;
}

export interface ToolScriptUpstream {
  /** Base URL, e.g. `http://127.0.0.1:PORT/v1`. */
  url: string;
  /** Parsed bodies of every chat request, in order. */
  requests: Array<Record<string, unknown>>;
  /** Every scripted tool call answered, in order: its call id, the index of the request it answered (in `requests`), name and arguments. */
  issued: Array<{ toolCallId: string; requestIndex: number; name: string; arguments: string }>;
  script(...calls: ScriptedToolCall[]): void;
  close(): Promise<void>;
}

type Message = { role?: string; content?: unknown };

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part: unknown) => (typeof part === "object" && part !== null && "text" in part && typeof part.text === "string" ? part.text : "")).join(" ");
  return "";
}

const isInternal = (message: Message) => textOf(message.content).includes("<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT");

/** Starts the fake on 127.0.0.1 (random port). */
export async function startToolScriptUpstream(): Promise<ToolScriptUpstream> {
  const calls: ScriptedToolCall[] = [];
  const requests: Array<Record<string, unknown>> = [];
  const issued: ToolScriptUpstream["issued"] = [];
  let sequence = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      void answer(request, response, Buffer.concat(chunks).toString("utf8"));
    });
  });

  async function answer(request: http.IncomingMessage, response: http.ServerResponse, raw: string): Promise<void> {
    if (request.method === "GET") {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: "fake", object: "model", created: 0, owned_by: "fake" }] }));
      return;
    }
    const body = JSON.parse(raw) as { messages?: Message[]; stream?: boolean; model?: string };
    requests.push(body as Record<string, unknown>);
    const messages = body.messages ?? [];
    let lastUser = -1;
    messages.forEach((message, index) => {
      if (message.role === "user" && !isInternal(message)) lastUser = index;
    });
    const toolResult = messages.slice(lastUser + 1).find((message) => message.role === "tool");
    const userText = lastUser >= 0 ? textOf(messages[lastUser]?.content) : "";
    const scripted = toolResult ? undefined : calls.find((call) => userText.includes(call.trigger));
    const text = toolResult ? `TOOL-RESULT-SEEN: ${textOf(toolResult.content).slice(0, 200)}` : "plain answer";
    sequence += 1;
    const id = `chatcmpl-script-${sequence}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? "fake";
    const usage = { prompt_tokens: 50, completion_tokens: 5, total_tokens: 55 };
    if (scripted) issued.push({ toolCallId: `call_${id}`, requestIndex: requests.length - 1, name: scripted.name, arguments: scripted.arguments });
    if (body.stream !== true) {
      const message = scripted
        ? { role: "assistant", content: null, tool_calls: [{ id: `call_${id}`, type: "function", function: { name: scripted.name, arguments: scripted.arguments } }] }
        : { role: "assistant", content: text };
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id, object: "chat.completion", created, model, choices: [{ index: 0, message, finish_reason: scripted ? "tool_calls" : "stop" }], usage }));
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = async (payload: unknown) => {
      response.write(`data: ${JSON.stringify(payload)}\n\n`);
      await new Promise((resolve) => setImmediate(resolve));
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
    await send(chunk({ role: "assistant", content: "" }));
    if (scripted) {
      await send(chunk({ tool_calls: [{ index: 0, id: `call_${id}`, type: "function", function: { name: scripted.name, arguments: "" } }] }));
      const size = scripted.chunkCharacters ?? 1000;
      for (let offset = 0; offset < scripted.arguments.length; offset += size) {
        await send(chunk({ tool_calls: [{ index: 0, function: { arguments: scripted.arguments.slice(offset, offset + size) } }] }));
      }
      await send(chunk({}, "tool_calls"));
    } else {
      await send(chunk({ content: text }));
      await send(chunk({}, "stop"));
    }
    await send({ id, object: "chat.completion.chunk", created, model, choices: [], usage });
    response.end("data: [DONE]\n\n");
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    issued,
    script: (...scripted) => calls.push(...scripted),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
