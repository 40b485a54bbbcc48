/**
 * The Anthropic Messages request body (`POST /v1/messages`) as zod schemas, after
 * https://docs.anthropic.com/en/api/messages and the `@anthropic-ai/sdk` `MessageCreateParams`.
 *
 * Objects are strict so unknown keys surface as warnings (see `../shared/validation.ts`). Tools are validated in
 * two steps by `request.ts`: the list only needs objects; client tools (no `type`, or `type: "custom"`) are then
 * checked with {@link customToolSchema}, server tools (`web_search_…`, `bash_…`, …) become warnings.
 */
import { z } from "zod";
import { jsonObjectSchema } from "../shared/json.js";

/** `cache_control: {type: "ephemeral", ttl?}`: a prompt-cache breakpoint after the block. */
export const cacheControlSchema = z.strictObject({ type: z.literal("ephemeral"), ttl: z.enum(["5m", "1h"]).optional() });
const cacheControl = cacheControlSchema.nullish();

const textBlock = z.strictObject({
  type: z.literal("text"),
  text: z.string(),
  cache_control: cacheControl,
  citations: z.array(z.unknown()).nullish(),
});

const imageSource = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("base64"), media_type: z.string().min(1), data: z.string() }),
  z.strictObject({ type: z.literal("url"), url: z.string().min(1) }),
  z.strictObject({ type: z.literal("file"), file_id: z.string() }),
]);

const imageBlock = z.strictObject({ type: z.literal("image"), source: imageSource, cache_control: cacheControl });

const toolUseBlock = z.strictObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: jsonObjectSchema,
  cache_control: cacheControl,
  caller: z.unknown().optional(),
});

const toolResultBlock = z.strictObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.discriminatedUnion("type", [textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
});

const thinkingBlock = z.strictObject({ type: z.literal("thinking"), thinking: z.string(), signature: z.string() });
const redactedThinkingBlock = z.strictObject({ type: z.literal("redacted_thinking"), data: z.string() });

export const contentBlockSchema = z.discriminatedUnion("type", [textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock]);
export type ContentBlock = z.output<typeof contentBlockSchema>;

const message = z.strictObject({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(contentBlockSchema)]),
});
export type AnthropicMessage = z.output<typeof message>;

/** A client tool: `{name, description?, input_schema}` (`type` absent or `custom`). */
export const customToolSchema = z.strictObject({
  type: z.literal("custom").optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: jsonObjectSchema,
  cache_control: cacheControl,
  strict: z.boolean().optional(),
});

const disableParallel = { disable_parallel_tool_use: z.boolean().optional() };
const toolChoice = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("auto"), ...disableParallel }),
  z.strictObject({ type: z.literal("any"), ...disableParallel }),
  z.strictObject({ type: z.literal("tool"), name: z.string().min(1), ...disableParallel }),
  z.strictObject({ type: z.literal("none") }),
]);

const thinking = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("enabled"), budget_tokens: z.int().min(1), display: z.string().nullish() }),
  z.strictObject({ type: z.literal("disabled") }),
  z.strictObject({ type: z.literal("adaptive"), display: z.string().nullish() }),
]);

export const messagesRequestSchema = z.strictObject({
  model: z.string().min(1),
  max_tokens: z.int().min(1),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(z.looseObject({ type: z.string().optional() })).optional(),
  tool_choice: toolChoice.optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.int().min(0).optional(),
  stop_sequences: z.array(z.string()).optional(),
  thinking: thinking.optional(),
  metadata: z.strictObject({ user_id: z.string().nullish() }).optional(),
  stream: z.boolean().optional(),
  output_config: z
    .strictObject({
      effort: z.enum(["low", "medium", "high", "xhigh", "max"]).nullish(),
      format: z.strictObject({ type: z.literal("json_schema"), schema: jsonObjectSchema }).nullish(),
    })
    .optional(),
  // Accepted, not honoured (each becomes a warning).
  cache_control: cacheControl,
  service_tier: z.string().optional(),
  container: z.unknown().optional(),
  mcp_servers: z.unknown().optional(),
  context_management: z.unknown().optional(),
  inference_geo: z.string().nullish(),
  speed: z.string().nullish(),
});

export type MessagesRequestBody = z.output<typeof messagesRequestSchema>;
