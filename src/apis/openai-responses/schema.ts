/**
 * The OpenAI Responses request body (`POST /v1/responses`) as zod schemas, after
 * https://platform.openai.com/docs/api-reference/responses/create and the `openai` SDK's `ResponseCreateParams`.
 *
 * Objects are strict so unknown keys surface as warnings (see `../shared/validation.ts`). Input items without a
 * `type` are messages (the "easy input message" form). Tools are validated in two steps by `request.ts`: the list
 * only needs a `type`; function tools are then checked with {@link functionToolSchema}, built-in tools
 * (`web_search`, `file_search`, …) become warnings.
 */
import { z } from "zod";
import { isPlainObject, jsonObjectSchema } from "../shared/json.js";
import { OPENAI_REASONING_EFFORTS } from "../shared/reasoning-effort.js";

const inputText = z.strictObject({ type: z.literal("input_text"), text: z.string() });
const inputImage = z.strictObject({
  type: z.literal("input_image"),
  image_url: z.string().min(1).nullish(),
  file_id: z.string().nullish(),
  detail: z.enum(["auto", "low", "high", "original"]).optional(),
});
const outputText = z.strictObject({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.unknown()).optional(),
  logprobs: z.array(z.unknown()).optional(),
});
const refusal = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });

const messageItem = z.strictObject({
  type: z.literal("message"),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(z.discriminatedUnion("type", [inputText, inputImage, outputText, refusal]))]),
  id: z.string().optional(),
  status: z.string().optional(),
  phase: z.string().nullish(),
});

const functionCallItem = z.strictObject({
  type: z.literal("function_call"),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  id: z.string().optional(),
  status: z.string().optional(),
});

const functionCallOutputItem = z.strictObject({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.discriminatedUnion("type", [inputText, inputImage]))]),
  id: z.string().nullish(),
  status: z.string().nullish(),
});

const reasoningItem = z.strictObject({
  type: z.literal("reasoning"),
  id: z.string().optional(),
  summary: z.array(z.strictObject({ type: z.literal("summary_text"), text: z.string() })),
  content: z.array(z.strictObject({ type: z.literal("reasoning_text"), text: z.string() })).optional(),
  encrypted_content: z.string().nullish(),
  status: z.string().optional(),
});

const itemReference = z.strictObject({ type: z.literal("item_reference"), id: z.string() });

/** One input item; an item without `type` but with a `role` is a message. */
export const inputItemSchema = z.preprocess(
  (value) => (isPlainObject(value) && value.type === undefined && value.role !== undefined ? { ...value, type: "message" } : value),
  z.discriminatedUnion("type", [messageItem, functionCallItem, functionCallOutputItem, reasoningItem, itemReference]),
);
export type InputItem = z.output<typeof inputItemSchema>;

/** A function tool in the Responses (flat) shape. */
export const functionToolSchema = z.strictObject({
  type: z.literal("function"),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: jsonObjectSchema.nullish(),
  strict: z.boolean().nullish(),
});

/** A forced function in `tool_choice` (checked by `request.ts` once the `type` says it is one). */
export const functionToolChoiceSchema = z.strictObject({ type: z.literal("function"), name: z.string().min(1) });

const toolChoice = z.union([z.enum(["none", "auto", "required"]), z.looseObject({ type: z.string() })]);

const textFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    name: z.string().min(1),
    schema: jsonObjectSchema,
    description: z.string().optional(),
    strict: z.boolean().nullish(),
  }),
]);

export const responsesRequestSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(inputItemSchema)]),
  instructions: z.string().nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  reasoning: z
    .strictObject({
      effort: z.enum(OPENAI_REASONING_EFFORTS).nullish(),
      summary: z.string().nullish(),
      generate_summary: z.string().nullish(),
    })
    .nullish(),
  text: z.strictObject({ format: textFormat.optional(), verbosity: z.string().nullish() }).optional(),
  user: z.string().optional(),
  safety_identifier: z.string().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_obfuscation: z.boolean().optional() }).nullish(),
  // Accepted, not honoured (warnings, or an error for state the gateway does not keep).
  store: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
  background: z.boolean().nullish(),
  include: z.array(z.string()).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  truncation: z.enum(["auto", "disabled"]).nullish(),
  service_tier: z.string().nullish(),
  top_logprobs: z.int().min(0).nullish(),
  max_tool_calls: z.int().nullish(),
  prompt: z.unknown().optional(),
  prompt_cache_key: z.string().nullish(),
  prompt_cache_retention: z.string().nullish(),
});

export type ResponsesRequestBody = z.output<typeof responsesRequestSchema>;
