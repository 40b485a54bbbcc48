/**
 * Canonical chat types: the one in-between shape every client API (OpenAI Chat Completions, OpenAI Responses,
 * Anthropic Messages) is decoded into, and every provider (OpenAI-compatible, Anthropic, Bedrock Converse,
 * Ollama, mock) is encoded from. Pure data, no behaviour. Model: vercel/ai `LanguageModelV2Prompt` and its
 * stream parts.
 *
 * Units: tokens are counts as reported by the provider; times are ms.
 */

/** A JSON value (the shape of tool arguments, JSON Schemas, provider extras). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** An image given by URL (http(s) or `data:`) or inline base64. */
export type ImageSource = { kind: "url"; url: string } | { kind: "base64"; mediaType: string; data: string };

export interface TextPart {
  type: "text";
  text: string;
  /** Anthropic prompt caching: a cache breakpoint after this part (`cache_control: {type: "ephemeral"}`). */
  cacheBreakpoint?: boolean;
}

export interface ImagePart {
  type: "image";
  source: ImageSource;
}

/** A tool call made by the assistant. `arguments` is the JSON text exactly as the model produced it. */
export interface ToolCallPart {
  type: "tool_call";
  id: string;
  name: string;
  arguments: string;
}

/** The result of a tool call, sent back by the caller. */
export interface ToolResultPart {
  type: "tool_result";
  toolCallId: string;
  /** Tool name when the client API carries it (Responses and Anthropic do not always). */
  toolName?: string;
  content: Array<TextPart | ImagePart>;
  isError?: boolean;
}

/** Model reasoning ("thinking"), passed through where both sides support it. */
export interface ReasoningPart {
  type: "reasoning";
  text: string;
  /** Provider signature that must be echoed back (Anthropic `thinking.signature`). */
  signature?: string;
}

export type ContentPart = TextPart | ImagePart | ToolCallPart | ToolResultPart | ReasoningPart;

/**
 * One message. `system` messages hold text only; `user` text, images and tool results; `assistant` text,
 * reasoning and tool calls; `tool` exactly one tool result (OpenAI's `role: "tool"`).
 */
export interface CanonicalMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: ContentPart[];
}

/** A function tool offered to the model; `parameters` is a JSON Schema object. */
export interface CanonicalTool {
  name: string;
  description?: string;
  parameters: JsonObject;
}

export type ToolChoice = { type: "auto" } | { type: "none" } | { type: "required" } | { type: "tool"; name: string };

export type ResponseFormat = { type: "text" } | { type: "json_object" } | { type: "json_schema"; name: string; schema: JsonObject; strict?: boolean };

/** A chat request in canonical form. Optional fields are absent when the caller did not set them. */
export interface CanonicalRequest {
  /** The model id as the caller wrote it (an alias until routing resolves it). */
  model: string;
  messages: CanonicalMessage[];
  tools?: CanonicalTool[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  /** Upper bound on generated tokens. */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseFormat?: ResponseFormat;
  /** `low` | `medium` | `high` reasoning effort, or a thinking budget in tokens. */
  reasoning?: { effort?: "minimal" | "low" | "medium" | "high"; budgetTokens?: number };
  stream: boolean;
  /** End-user id for abuse tracking (OpenAI `user`, Anthropic `metadata.user_id`). */
  user?: string;
}

/** Token usage. Input tokens include cached ones; the cache fields say how many of them were cache reads/writes. */
export interface CanonicalUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

/** Why generation stopped, in the union of the APIs' vocabularies. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "stop_sequence" | "error" | "other";

/** A complete (non-streamed) answer. */
export interface CanonicalResponse {
  id: string;
  /** The model that answered, as the provider named it. */
  model: string;
  /** Assistant content in order: text, reasoning and tool calls. */
  content: Array<TextPart | ReasoningPart | ToolCallPart>;
  finishReason: FinishReason;
  /** The stop sequence that ended generation, when the provider says which. */
  stopSequence?: string;
  usage: CanonicalUsage;
  /** Seconds since the epoch when the provider created it. */
  createdAt: number;
}

/**
 * One event of a streamed answer. Content blocks are numbered in order of appearance (`index`); a block is
 * text, reasoning or one tool call. Every stream is: `start`, any block events, then `finish` (carrying usage
 * when the provider reported it), or `error`.
 */
export type StreamEvent =
  | { type: "start"; id: string; model: string; createdAt: number }
  | { type: "text_delta"; index: number; text: string }
  | { type: "reasoning_delta"; index: number; text: string; signature?: string }
  | { type: "tool_call_start"; index: number; id: string; name: string }
  | { type: "tool_call_delta"; index: number; argumentsDelta: string }
  | { type: "block_end"; index: number }
  | { type: "finish"; finishReason: FinishReason; stopSequence?: string; usage: CanonicalUsage | null }
  | { type: "error"; status: number; message: string; errorType: string };

/** The client APIs the gateway speaks. */
export type ClientApi = "openai-chat" | "openai-responses" | "anthropic-messages";

/** A request parameter the target provider cannot honour; reported in `x-clawfleet-warnings`, never dropped silently. */
export interface TranslationWarning {
  /** The caller's parameter name, e.g. `logprobs`, `top_k`. */
  parameter: string;
  message: string;
}

/** Zero usage (a provider that reported none). */
export const EMPTY_USAGE: CanonicalUsage = Object.freeze({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
