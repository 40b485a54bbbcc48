/**
 * Bedrock Converse output → {@link CanonicalResponse}. Pure: the id, model and creation time are passed in
 * (Converse answers carry none of them; the adapter uses the `x-amzn-requestid` as id).
 *
 * Content blocks (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ContentBlock.html):
 * `text` → text part; `reasoningContent.reasoningText {text, signature}` → reasoning part; `toolUse
 * {toolUseId, name, input}` → tool call with `arguments` = `JSON.stringify(input)`. Redacted reasoning, images,
 * citations and other block kinds have no canonical form and are not returned. `stopReason` and `usage` are
 * mapped by `finish-reason.ts` and `usage.ts`; when the model stopped on a stop sequence and returned which
 * (Anthropic models, in `additionalModelResponseFields.stop_sequence`), it is reported.
 */
import type { ContentBlock, ConverseCommandOutput } from "@aws-sdk/client-bedrock-runtime";
import type { CanonicalResponse, ReasoningPart, TextPart, ToolCallPart } from "../../contracts/chat.js";
import { fromBedrockStopReason } from "./finish-reason.js";
import { fromBedrockUsage } from "./usage.js";

/** What the caller supplies because Converse does not: id, model name to report, creation time (s since epoch). */
export interface ResponseIdentity {
  id: string;
  model: string;
  createdAt: number;
}

/** The fields of a Converse answer this translator reads. */
export type ConverseAnswer = Pick<ConverseCommandOutput, "output" | "stopReason" | "usage" | "additionalModelResponseFields">;

/** Translates a Converse answer. */
export function fromConverseOutput(answer: ConverseAnswer, identity: ResponseIdentity): CanonicalResponse {
  const blocks = answer.output?.message?.content ?? [];
  const content: Array<TextPart | ReasoningPart | ToolCallPart> = [];
  for (const block of blocks) {
    const part = convertBlock(block);
    if (part) content.push(part);
  }
  const response: CanonicalResponse = {
    id: identity.id,
    model: identity.model,
    content,
    finishReason: fromBedrockStopReason(answer.stopReason),
    usage: fromBedrockUsage(answer.usage),
    createdAt: identity.createdAt,
  };
  const stopSequence = stopSequenceOf(answer.additionalModelResponseFields);
  if (answer.stopReason === "stop_sequence" && stopSequence !== undefined) response.stopSequence = stopSequence;
  return response;
}

function convertBlock(block: ContentBlock): TextPart | ReasoningPart | ToolCallPart | undefined {
  if (typeof block.text === "string") return { type: "text", text: block.text };
  if (block.toolUse) {
    return { type: "tool_call", id: block.toolUse.toolUseId ?? "", name: block.toolUse.name ?? "", arguments: JSON.stringify(block.toolUse.input ?? {}) };
  }
  const reasoning = block.reasoningContent?.reasoningText;
  if (reasoning) {
    const part: ReasoningPart = { type: "reasoning", text: reasoning.text ?? "" };
    if (reasoning.signature !== undefined) part.signature = reasoning.signature;
    return part;
  }
  return undefined;
}

/** `stop_sequence` from Anthropic's additional response fields, when present. */
export function stopSequenceOf(fields: unknown): string | undefined {
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) return undefined;
  const value = (fields as Record<string, unknown>).stop_sequence;
  return typeof value === "string" ? value : undefined;
}
