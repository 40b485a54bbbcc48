/**
 * The OpenAI Chat Completions request body (`POST /v1/chat/completions`) as a zod schema, after
 * https://platform.openai.com/docs/api-reference/chat/create and the `openai` SDK's `ChatCompletionCreateParams`.
 *
 * Objects are strict so unknown keys surface as warnings (see `../shared/validation.ts`). Parameters the gateway
 * accepts but cannot honour are typed loosely (`z.unknown()`) and turned into warnings by `request.ts`.
 * Nullable fields accept `null` because the SDKs send it for "unset".
 */
import { z } from "zod";
import { jsonObjectSchema } from "../shared/json.js";
import { OPENAI_REASONING_EFFORTS } from "../shared/reasoning-effort.js";

const textPart = z.strictObject({ type: z.literal("text"), text: z.string() });
const refusalPart = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });
const imagePart = z.strictObject({
  type: z.literal("image_url"),
  image_url: z.strictObject({ url: z.string().min(1), detail: z.enum(["auto", "low", "high"]).optional() }),
});

const textContent = z.union([z.string(), z.array(textPart)]);

const systemMessage = z.strictObject({ role: z.literal("system"), content: textContent, name: z.string().optional() });
const developerMessage = z.strictObject({ role: z.literal("developer"), content: textContent, name: z.string().optional() });
const userMessage = z.strictObject({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(z.discriminatedUnion("type", [textPart, imagePart]))]),
  name: z.string().optional(),
});

const messageToolCall = z.strictObject({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string().min(1), arguments: z.string() }),
});

const assistantMessage = z.strictObject({
  role: z.literal("assistant"),
  content: z.union([z.string(), z.array(z.discriminatedUnion("type", [textPart, refusalPart]))]).nullish(),
  tool_calls: z.array(messageToolCall).nullish(),
  refusal: z.string().nullish(),
  name: z.string().optional(),
  /** Not OpenAI's: the reasoning text DeepSeek, vLLM and LiteLLM return (and clients echo back). */
  reasoning_content: z.string().nullish(),
  audio: z.unknown().optional(),
  function_call: z.unknown().optional(),
});

const toolMessage = z.strictObject({ role: z.literal("tool"), content: textContent, tool_call_id: z.string().min(1) });

export const chatMessageSchema = z.discriminatedUnion("role", [systemMessage, developerMessage, userMessage, assistantMessage, toolMessage]);
export type ChatMessage = z.output<typeof chatMessageSchema>;

const functionTool = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: jsonObjectSchema.optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({ type: z.literal("function"), function: z.strictObject({ name: z.string().min(1) }) }),
]);

const responseFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    json_schema: z.strictObject({
      name: z.string().min(1),
      description: z.string().optional(),
      schema: jsonObjectSchema.optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

export const chatRequestSchema = z.strictObject({
  model: z.string().min(1),
  messages: z.array(chatMessageSchema).min(1),
  tools: z.array(functionTool).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().nullish(),
  max_tokens: z.int().min(1).nullish(),
  max_completion_tokens: z.int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  seed: z.int().nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  response_format: responseFormat.optional(),
  reasoning_effort: z.enum(OPENAI_REASONING_EFFORTS).nullish(),
  user: z.string().optional(),
  safety_identifier: z.string().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() }).nullish(),
  // Accepted, not honoured (each becomes a warning when set to something other than its default).
  n: z.int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.int().min(0).nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  audio: z.unknown().optional(),
  modalities: z.array(z.string()).nullish(),
  prediction: z.unknown().optional(),
  service_tier: z.string().nullish(),
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  verbosity: z.string().nullish(),
  web_search_options: z.unknown().optional(),
  prompt_cache_key: z.string().nullish(),
  prompt_cache_retention: z.string().nullish(),
  functions: z.unknown().optional(),
  function_call: z.unknown().optional(),
});

export type ChatRequestBody = z.output<typeof chatRequestSchema>;
