/**
 * OpenAI's reasoning effort vocabulary (`reasoning_effort` in Chat Completions, `reasoning.effort` in Responses:
 * `none | minimal | low | medium | high | xhigh | max`, https://platform.openai.com/docs/api-reference/chat/create)
 * mapped onto the canonical `minimal | low | medium | high`.
 */
import type { CanonicalRequest, TranslationWarning } from "../../contracts/chat.js";

export const OPENAI_REASONING_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max"] as const;
export type OpenAiReasoningEffort = (typeof OPENAI_REASONING_EFFORTS)[number];

/**
 * The canonical effort for an OpenAI one. `xhigh` and `max` become `high`; `none` (no reasoning at all) cannot be
 * expressed, so the provider's default applies. Both cases add a warning naming `parameter`.
 */
export function canonicalReasoningEffort(effort: OpenAiReasoningEffort, parameter: string, warnings: TranslationWarning[]): CanonicalRequest["reasoning"] {
  switch (effort) {
    case "none":
      warnings.push({ parameter, message: "reasoning effort `none` cannot be expressed; the provider's default reasoning applies" });
      return undefined;
    case "xhigh":
    case "max":
      warnings.push({ parameter, message: `reasoning effort \`${effort}\` is sent as \`high\`, the highest effort every provider understands` });
      return { effort: "high" };
    default:
      return { effort };
  }
}
