/**
 * OpenAI Chat Completions wire shapes (https://platform.openai.com/docs/api-reference/chat): request body types
 * we write, and zod schemas for what we read (response, stream chunk, error body). Read schemas are loose
 * objects on purpose: OpenAI and compatible servers (vLLM, Groq, Together…) add fields freely, and an unknown
 * field must not fail a response. Compatible servers' extras that matter are read too: `reasoning_content`
 * (DeepSeek, vLLM) and `reasoning` (Groq, OpenRouter).
 */
import { z } from "zod";
import type { JsonObject } from "../../contracts/chat.js";

export type OpenAIContentPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export type OpenAIMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | OpenAIContentPart[] }
  | { role: "assistant"; content: string | null; tool_calls?: OpenAIToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string | Array<{ type: "text"; text: string }> };

export type OpenAIToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

export type OpenAIResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; json_schema: { name: string; schema: JsonObject; strict?: boolean } };

/** The request body we send to `POST {baseUrl}/chat/completions`. */
export interface OpenAIChatRequestBody {
  model: string;
  messages: OpenAIMessage[];
  stream?: true;
  stream_options?: { include_usage: true };
  tools?: Array<{ type: "function"; function: { name: string; description?: string; parameters: JsonObject } }>;
  tool_choice?: OpenAIToolChoice;
  parallel_tool_calls?: boolean;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop?: string[];
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  response_format?: OpenAIResponseFormat;
  reasoning_effort?: "minimal" | "low" | "medium" | "high";
  user?: string;
}

export const openAIUsageSchema = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  total_tokens: z.number().nullish(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
});
export type OpenAIUsage = z.infer<typeof openAIUsageSchema>;

const toolCallSchema = z.looseObject({
  id: z.string(),
  type: z.string().nullish(),
  function: z.looseObject({ name: z.string(), arguments: z.string().nullish() }),
});

export const openAIChatCompletionSchema = z.looseObject({
  id: z.string(),
  created: z.number(),
  model: z.string(),
  choices: z
    .array(
      z.looseObject({
        message: z.looseObject({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          reasoning_content: z.string().nullish(),
          reasoning: z.string().nullish(),
          tool_calls: z.array(toolCallSchema).nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: openAIUsageSchema.nullish(),
});
export type OpenAIChatCompletion = z.infer<typeof openAIChatCompletionSchema>;

export const openAIChunkSchema = z.looseObject({
  id: z.string().nullish(),
  created: z.number().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.looseObject({
        index: z.number().nullish(),
        delta: z
          .looseObject({
            content: z.string().nullish(),
            refusal: z.string().nullish(),
            reasoning_content: z.string().nullish(),
            reasoning: z.string().nullish(),
            tool_calls: z
              .array(
                z.looseObject({
                  index: z.number().nullish(),
                  id: z.string().nullish(),
                  function: z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: openAIUsageSchema.nullish(),
});
export type OpenAIChunk = z.infer<typeof openAIChunkSchema>;

/**
 * An error body: OpenAI's `{error: {message, type, param, code}}`, or what compatible servers send instead
 * (`{error: "text"}`, vLLM's `{object: "error", message, type, code}`, FastAPI's `{detail}`).
 */
export const openAIErrorBodySchema = z.looseObject({
  error: z
    .union([
      z.string(),
      z.looseObject({ message: z.string().nullish(), type: z.string().nullish(), code: z.union([z.string(), z.number()]).nullish() }),
    ])
    .nullish(),
  message: z.string().nullish(),
  type: z.string().nullish(),
  detail: z.unknown().optional(),
});
