/**
 * Ollama native chat wire shapes (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion):
 * the `POST /api/chat` body we write and zod schemas for what we read (a response object, which is also the shape
 * of each NDJSON stream line, and the `{"error": "…"}` body). Read schemas are loose objects: Ollama adds fields
 * (durations, `logprobs`…) freely.
 */
import { z } from "zod";
import type { JsonObject } from "../../contracts/chat.js";

export interface OllamaToolCall {
  function: { name: string; arguments: JsonObject };
}

export interface OllamaMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  /** Base64 images without a `data:` prefix. */
  images?: string[];
  /** Assistant reasoning from an earlier turn. */
  thinking?: string;
  tool_calls?: OllamaToolCall[];
  /** On `tool` messages: the tool this result answers (Ollama has no call ids). */
  tool_name?: string;
}

/** Model options (Modelfile parameters, https://github.com/ollama/ollama/blob/main/docs/modelfile.md#valid-parameters-and-values). */
export interface OllamaOptions {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string[];
  /** Output limit in tokens. */
  num_predict?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
}

/** The body we send to `POST /api/chat`. `stream` is always explicit: Ollama streams when it is absent. */
export interface OllamaChatRequestBody {
  model: string;
  messages: OllamaMessage[];
  stream: boolean;
  tools?: Array<{ type: "function"; function: { name: string; description?: string; parameters: JsonObject } }>;
  /** `json` for JSON mode, or a JSON Schema for structured output. */
  format?: "json" | JsonObject;
  options?: OllamaOptions;
  think?: boolean;
}

export const ollamaToolCallSchema = z.looseObject({
  id: z.string().nullish(),
  function: z.looseObject({ name: z.string(), arguments: z.unknown().optional() }),
});

/** A non-streamed answer, and also one NDJSON line of a streamed one (`done: true` on the last). */
export const ollamaChatResponseSchema = z.looseObject({
  model: z.string(),
  created_at: z.string().nullish(),
  message: z
    .looseObject({
      role: z.string().nullish(),
      content: z.string().nullish(),
      thinking: z.string().nullish(),
      tool_calls: z.array(ollamaToolCallSchema).nullish(),
    })
    .nullish(),
  done: z.boolean(),
  done_reason: z.string().nullish(),
  prompt_eval_count: z.number().nullish(),
  eval_count: z.number().nullish(),
});
export type OllamaChatResponse = z.infer<typeof ollamaChatResponseSchema>;

export const ollamaErrorBodySchema = z.looseObject({ error: z.string() });
