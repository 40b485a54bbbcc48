/**
 * Fake Ollama upstream for tests (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion):
 * `POST /api/chat` on 127.0.0.1, replaying `test/fixtures/ollama/<case>.json` (`stream: false`) and
 * `<case>.ndjson` (one JSON object per line, as Ollama streams; a request without `stream: false` streams, as
 * with Ollama), with the status and headers of `<case>.http.json`. Records requests; scriptable failures (see
 * `scripted-provider-fake.ts`). The fixtures are written from Ollama's API reference, not recorded from a live server.
 */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type FakeDialect, type ScriptedFake, startScriptedFake } from "./scripted-provider-fake.js";

export type { RecordedRequest, ScriptedReply } from "./scripted-provider-fake.js";

export const OLLAMA_FIXTURE_DIRECTORY = fileURLToPath(new URL("../fixtures/ollama/", import.meta.url));

/**
 * What Ollama's Go server would refuse to decode: content that is not a string, images that are not strings,
 * tool-call arguments that are not an object, options of the wrong type. (Ollama ignores unknown fields.)
 */
const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(
    z.looseObject({
      role: z.enum(["system", "user", "assistant", "tool"]),
      content: z.string(),
      images: z.array(z.string()).optional(),
      thinking: z.string().optional(),
      tool_name: z.string().optional(),
      tool_calls: z.array(z.looseObject({ function: z.looseObject({ name: z.string(), arguments: z.record(z.string(), z.unknown()) }) })).optional(),
    }),
  ),
  stream: z.boolean().optional(),
  tools: z.array(z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string(), parameters: z.record(z.string(), z.unknown()) }) })).optional(),
  format: z.union([z.literal("json"), z.literal(""), z.record(z.string(), z.unknown())]).optional(),
  options: z
    .looseObject({
      temperature: z.number().optional(),
      top_p: z.number().optional(),
      top_k: z.number().int().optional(),
      seed: z.number().int().optional(),
      num_predict: z.number().int().optional(),
      stop: z.array(z.string()).optional(),
      presence_penalty: z.number().optional(),
      frequency_penalty: z.number().optional(),
    })
    .optional(),
  think: z.union([z.boolean(), z.enum(["low", "medium", "high"])]).optional(),
});

export function validateChatRequest(body: unknown): string | null {
  const parsed = chatRequestSchema.safeParse(body);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return `json: cannot unmarshal ${issue?.path.join(".") ?? "body"}: ${issue?.message ?? "invalid"}`;
}

export const ollamaDialect: FakeDialect = {
  name: "fake-ollama",
  route: "/api/chat",
  fixtureDirectory: OLLAMA_FIXTURE_DIRECTORY,
  streamExtension: ".ndjson",
  streamContentType: "application/x-ndjson",
  frameStreamLine: (line) => `${line}\n`,
  isStreamRequest: (body) => !(typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === false),
  errorBody: (status) => ({ error: `fake ollama error (HTTP ${status})` }),
  standardHeaders: () => ({}),
  validateRequest: validateChatRequest,
  validationErrorBody: (message) => ({ error: message }),
};

/** Starts a fake Ollama; its `url` is an `OLLAMA_HOST`-style base URL. */
export function startFakeOllama(): Promise<ScriptedFake> {
  return startScriptedFake(ollamaDialect);
}
