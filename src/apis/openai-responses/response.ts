/**
 * Canonical response → Responses `response` object (https://platform.openai.com/docs/api-reference/responses/object).
 *
 * Each canonical content part becomes one output item, in order: a text part a `message` item with one
 * `output_text` part; a reasoning part a `reasoning` item (its text as one `summary_text`, its signature as
 * `encrypted_content`, which the caller sends back and `request.ts` turns into the signature again); a tool call a
 * `function_call` item. Item ids are derived from the response id and the output index, so encoding is pure.
 * Fields that echo request parameters the codec does not see (`tools`, `temperature`, …) carry their defaults.
 */
import type { CanonicalResponse, JsonObject } from "../../contracts/chat.js";
import { responseOutcome } from "./finish-reason.js";
import { encodeResponsesUsage } from "./usage.js";

/** One output item as the stream builds it; `done` is false while it is still being generated. */
export type OutputItemState =
  | { kind: "message"; id: string; text: string; done: boolean }
  | { kind: "reasoning"; id: string; text: string; signature: string | undefined; done: boolean }
  | { kind: "function_call"; id: string; callId: string; name: string; arguments: string; done: boolean };

/** `resp_…`: the canonical id, prefixed unless it already is a Responses id. */
export function responsesId(canonicalId: string): string {
  return canonicalId.startsWith("resp_") ? canonicalId : `resp_${canonicalId}`;
}

/** A deterministic item id, e.g. `msg_<response id>_0`, `fc_<response id>_1`, `rs_<response id>_2`. */
export function outputItemId(kind: OutputItemState["kind"], responseId: string, outputIndex: number): string {
  const prefix = kind === "message" ? "msg" : kind === "reasoning" ? "rs" : "fc";
  return `${prefix}_${responseId.replace(/^resp_/, "")}_${outputIndex}`;
}

/** The `output_text` content part of a message item. */
export function outputTextPart(text: string): JsonObject {
  return { type: "output_text", annotations: [], logprobs: [], text };
}

/** The wire form of an output item (`status` is `completed` once done, `incomplete` otherwise). */
export function outputItemJson(item: OutputItemState): JsonObject {
  const status = item.done ? "completed" : "incomplete";
  switch (item.kind) {
    case "message":
      return { id: item.id, type: "message", status, content: [outputTextPart(item.text)], role: "assistant" };
    case "reasoning": {
      const json: JsonObject = { id: item.id, type: "reasoning", summary: [{ type: "summary_text", text: item.text }] };
      if (item.signature !== undefined) json.encrypted_content = item.signature;
      return json;
    }
    case "function_call":
      return { id: item.id, type: "function_call", status, arguments: item.arguments, call_id: item.callId, name: item.name };
  }
}

/** The fields of a `response` object that vary; everything else carries the API's defaults. */
export interface ResponseObjectFields {
  id: string;
  createdAt: number;
  model: string;
  status: "in_progress" | "completed" | "incomplete" | "failed";
  output: JsonObject[];
  usage: JsonObject | null;
  incompleteDetails: JsonObject | null;
  error: JsonObject | null;
}

/** A full `response` object. */
export function responseObject(fields: ResponseObjectFields): JsonObject {
  return {
    id: fields.id,
    object: "response",
    created_at: fields.createdAt,
    status: fields.status,
    background: false,
    error: fields.error,
    incomplete_details: fields.incompleteDetails,
    instructions: null,
    max_output_tokens: null,
    metadata: {},
    model: fields.model,
    output: fields.output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: null,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: null,
    truncation: "disabled",
    usage: fields.usage,
  };
}

/** The `response` body for a complete answer; `model` is the model id the caller asked for. */
export function encodeResponsesResponse(response: CanonicalResponse, model: string): JsonObject {
  const id = responsesId(response.id);
  const output = response.content.map((part, index): JsonObject => {
    switch (part.type) {
      case "text":
        return outputItemJson({ kind: "message", id: outputItemId("message", id, index), text: part.text, done: true });
      case "reasoning":
        return outputItemJson({ kind: "reasoning", id: outputItemId("reasoning", id, index), text: part.text, signature: part.signature, done: true });
      case "tool_call":
        return outputItemJson({ kind: "function_call", id: outputItemId("function_call", id, index), callId: part.id, name: part.name, arguments: part.arguments, done: true });
    }
  });
  const outcome = responseOutcome(response.finishReason);
  return responseObject({
    id,
    createdAt: response.createdAt,
    model,
    status: outcome.status,
    output,
    usage: encodeResponsesUsage(response.usage),
    incompleteDetails: outcome.incompleteDetails,
    error: outcome.error,
  });
}
