/**
 * Canonical finish reason → a Responses `status` with its `incomplete_details` / `error`
 * (https://platform.openai.com/docs/api-reference/responses/object):
 * `length` → `incomplete` (`max_output_tokens`), `content_filter` → `incomplete` (`content_filter`),
 * `error` → `failed` (`server_error`), anything else → `completed`.
 */
import type { FinishReason, JsonObject } from "../../contracts/chat.js";

export interface ResponseOutcome {
  status: "completed" | "incomplete" | "failed";
  incompleteDetails: JsonObject | null;
  error: JsonObject | null;
}

export function responseOutcome(reason: FinishReason): ResponseOutcome {
  switch (reason) {
    case "length":
      return { status: "incomplete", incompleteDetails: { reason: "max_output_tokens" }, error: null };
    case "content_filter":
      return { status: "incomplete", incompleteDetails: { reason: "content_filter" }, error: null };
    case "error":
      return { status: "failed", incompleteDetails: null, error: { code: "server_error", message: "the provider stopped generating with an error" } };
    case "stop":
    case "stop_sequence":
    case "tool_calls":
    case "other":
      return { status: "completed", incompleteDetails: null, error: null };
  }
}
