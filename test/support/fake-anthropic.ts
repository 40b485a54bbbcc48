/**
 * Fake Anthropic Messages upstream for tests (https://docs.anthropic.com/en/api/messages): `POST /v1/messages`
 * on 127.0.0.1, replaying `test/fixtures/anthropic/<case>.json` (non-streaming) and `<case>.chunks.txt` (one
 * event's data JSON per line, framed as `event: <type>\ndata: <json>\n\n` as Anthropic does), with the status
 * and headers of `<case>.http.json`. Records requests; scriptable failures (see `scripted-provider-fake.ts`).
 * The fixtures are written from Anthropic's API reference, not recorded from the live API.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type FakeDialect, type ScriptedFake, startScriptedFake } from "./scripted-provider-fake.js";

export type { RecordedRequest, ScriptedReply } from "./scripted-provider-fake.js";

export const ANTHROPIC_FIXTURE_DIRECTORY = fileURLToPath(new URL("../fixtures/anthropic/", import.meta.url));

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

/** Anthropic's framing of one stream fixture line: the event name is the data's `type`. */
export function anthropicSseFrame(line: string): string {
  let type = "message";
  try {
    const parsed = JSON.parse(line) as { type?: unknown };
    if (typeof parsed.type === "string") type = parsed.type;
  } catch {
    // A deliberately malformed line keeps the default event name.
  }
  return `event: ${type}\ndata: ${line}\n\n`;
}

const cacheControl = z.strictObject({ type: z.literal("ephemeral"), ttl: z.enum(["5m", "1h"]).optional() });
const textBlock = z.strictObject({ type: z.literal("text"), text: z.string().min(1, "text content blocks must be non-empty"), cache_control: cacheControl.optional() });
const imageBlock = z.strictObject({
  type: z.literal("image"),
  source: z.union([
    z.strictObject({ type: z.literal("base64"), media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]), data: z.string().min(1) }),
    z.strictObject({ type: z.literal("url"), url: z.url() }),
  ]),
  cache_control: cacheControl.optional(),
});
const toolUseBlock = z.strictObject({
  type: z.literal("tool_use"),
  id: z.string().regex(/^[a-zA-Z0-9_-]+$/),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  cache_control: cacheControl.optional(),
});
const toolResultBlock = z.strictObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.union([textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl.optional(),
});
const thinkingBlock = z.strictObject({ type: z.literal("thinking"), thinking: z.string(), signature: z.string().min(1) });
const redactedThinkingBlock = z.strictObject({ type: z.literal("redacted_thinking"), data: z.string() });
const blocks = z.array(z.union([textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock])).min(1, "all messages must have non-empty content");
const messagesRequestSchema = z.strictObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.strictObject({ role: z.enum(["user", "assistant"]), content: z.union([z.string().min(1), blocks]) })).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z
    .array(z.strictObject({ name: z.string().min(1), description: z.string().optional(), input_schema: z.looseObject({ type: z.literal("object") }), cache_control: cacheControl.optional() }))
    .optional(),
  tool_choice: z
    .union([
      z.strictObject({ type: z.enum(["auto", "any"]), disable_parallel_tool_use: z.boolean().optional() }),
      z.strictObject({ type: z.literal("tool"), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }),
      z.strictObject({ type: z.literal("none") }),
    ])
    .optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  metadata: z.strictObject({ user_id: z.string().nullish() }).optional(),
  thinking: z
    .union([z.strictObject({ type: z.literal("enabled"), budget_tokens: z.number().int().min(1024) }), z.strictObject({ type: z.literal("disabled") })])
    .optional(),
  service_tier: z.enum(["auto", "standard_only"]).optional(),
});

/**
 * Checks a Messages request as Anthropic does (closed objects: unknown fields are refused), plus the
 * conversation rules translations most often break: the first turn is the user's, `budget_tokens` < `max_tokens`,
 * and every `tool_use` is answered by a `tool_result` in the very next (user) message, which answers nothing else.
 */
export function validateMessagesRequest(body: unknown): string | null {
  const parsed = messagesRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `${issue?.path.join(".") ?? "body"}: ${issue?.message ?? "invalid"}`;
  }
  const request = parsed.data;
  if (request.thinking?.type === "enabled" && request.thinking.budget_tokens >= request.max_tokens) return "`max_tokens` must be greater than `thinking.budget_tokens`";
  if (request.messages[0]?.role !== "user") return "messages: first message must use the \"user\" role";
  let pendingToolUses: string[] = [];
  for (const [position, message] of request.messages.entries()) {
    const content = typeof message.content === "string" ? [] : message.content;
    if (message.role === "user") {
      const results = content.flatMap((block) => (block.type === "tool_result" ? [block.tool_use_id] : []));
      const unexpected = results.find((id) => !pendingToolUses.includes(id));
      if (unexpected !== undefined) return `messages.${position}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unexpected}`;
      const missing = pendingToolUses.find((id) => !results.includes(id));
      if (missing !== undefined) return `messages.${position}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing}`;
      pendingToolUses = [];
    } else {
      pendingToolUses = content.flatMap((block) => (block.type === "tool_use" ? [block.id] : []));
    }
  }
  return null;
}

export const anthropicDialect: FakeDialect = {
  name: "fake-anthropic",
  route: "/v1/messages",
  fixtureDirectory: ANTHROPIC_FIXTURE_DIRECTORY,
  streamExtension: ".chunks.txt",
  streamContentType: "text/event-stream; charset=utf-8",
  frameStreamLine: anthropicSseFrame,
  isStreamRequest: (body) => typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === true,
  errorBody: (status) => ({
    type: "error",
    error: { type: ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"), message: `Fake Anthropic error (HTTP ${status}).` },
    request_id: `req_${randomBytes(12).toString("hex")}`,
  }),
  // As Anthropic sends on every answer: request id, the account's organization and its rate-limit state
  // (https://docs.anthropic.com/en/api/rate-limits#response-headers).
  standardHeaders: () => ({
    "request-id": `req_${randomBytes(12).toString("hex")}`,
    "anthropic-organization-id": "00000000-0000-4000-8000-000000000000",
    "anthropic-ratelimit-requests-limit": "4000",
    "anthropic-ratelimit-requests-remaining": "3999",
    "anthropic-ratelimit-requests-reset": "2026-01-01T00:00:00Z",
  }),
  validateRequest: validateMessagesRequest,
  validationErrorBody: (message) => ({ type: "error", error: { type: "invalid_request_error", message }, request_id: `req_${randomBytes(12).toString("hex")}` }),
};

/** Starts a fake Anthropic upstream; its `url` is the base URL the SDK and the adapter take. */
export function startFakeAnthropic(): Promise<ScriptedFake> {
  return startScriptedFake(anthropicDialect);
}
