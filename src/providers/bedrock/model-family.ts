/**
 * Which model family a Bedrock model id belongs to. Converse is uniform for messages, tools and the common
 * inference parameters, but model-specific fields (top_k, reasoning) go in `additionalModelRequestFields` with
 * each family's own names. Model ids may be foundation-model ids (`anthropic.claude-sonnet-4-20250514-v1:0`),
 * cross-region inference profiles (`us.anthropic.…`, `global.anthropic.…`) or ARNs that contain either;
 * application inference profile ARNs name no model and are `other`.
 * Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters.html
 */

export type BedrockModelFamily = "anthropic" | "nova" | "nova-2" | "mistral" | "openai" | "other";

const FAMILY_PATTERNS: ReadonlyArray<readonly [RegExp, BedrockModelFamily]> = [
  [/(?:^|[./])anthropic\./, "anthropic"],
  [/(?:^|[./])amazon\.nova-2/, "nova-2"],
  [/(?:^|[./])amazon\.nova-/, "nova"],
  [/(?:^|[./])mistral\./, "mistral"],
  [/(?:^|[./])openai\./, "openai"],
];

/** The family of `modelId` (case-insensitive), `other` when unknown. */
export function bedrockModelFamily(modelId: string): BedrockModelFamily {
  const id = modelId.toLowerCase();
  for (const [pattern, family] of FAMILY_PATTERNS) if (pattern.test(id)) return family;
  return "other";
}
