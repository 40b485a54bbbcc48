/**
 * Input limits on a canonical request (src/contracts/chat.ts), applied by the model gateway right after the
 * request is decoded: size of each message's text, of all text together, of each tool call's arguments, the
 * number of offered tools, and the syntax of tool names.
 *
 * Tool names must match `^[a-zA-Z0-9_-]{1,64}$`: OpenAI's rule for function names ("Must be a-z, A-Z, 0-9, or
 * contain underscores and dashes, with a maximum length of 64", https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools,
 * `tools[].function.name`); Anthropic's `tools[].name` rule is the same. Only the tools OFFERED (and a forced
 * `tool_choice`) are checked: a name in the history was produced by a model, and refusing it would wedge the
 * session for good.
 *
 * Sizes are UTF-8 bytes. In `truncate` mode an over-long text part is cut (at a character boundary) and a
 * marker appended; tool-call arguments are never cut (that would break their JSON): too large is always refused.
 */
import type { CanonicalRequest, ContentPart, TextPart } from "../../contracts/chat.js";
import { ClawfleetError } from "../../contracts/errors.js";

/** `governance.inputLimits` (see src/config/schema.ts). Byte sizes are UTF-8 bytes. */
export interface InputLimitsConfig {
  mode: "reject" | "truncate";
  maxMessageBytes: number;
  maxTotalBytes: number;
  maxToolArgumentsBytes: number;
  maxTools: number;
}

/** One text that was cut: the gateway replaces `original` by `replacement` in the raw body as well. */
export interface TextReplacement {
  original: string;
  replacement: string;
}

/** OpenAI's (and Anthropic's) function-name rule. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** Text of every kind a message carries that the model reads (text, reasoning, tool-result text). */
function textPartsOf(part: ContentPart): TextPart[] {
  if (part.type === "text") return [part];
  if (part.type === "tool_result") return part.content.filter((inner): inner is TextPart => inner.type === "text");
  return [];
}

function reasoningBytes(part: ContentPart): number {
  return part.type === "reasoning" ? Buffer.byteLength(part.text, "utf8") : 0;
}

/** `text` cut to at most `maxBytes` UTF-8 bytes (marker included), never inside a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const total = Buffer.byteLength(text, "utf8");
  if (total <= maxBytes) return text;
  const marker = `\n[… truncated by Clawfleet: ${total} bytes exceeded the ${maxBytes}-byte limit]`;
  const keep = Math.max(0, maxBytes - Buffer.byteLength(marker, "utf8"));
  const head = Buffer.from(text, "utf8").subarray(0, keep).toString("utf8").replace(/\uFFFD+$/u, "");
  return head + marker;
}

function tooLarge(message: string, details: Record<string, unknown>): ClawfleetError {
  return new ClawfleetError("CF_INPUT_TOO_LARGE", message, { details });
}

/**
 * Checks (and in `truncate` mode repairs) `request` in place.
 * @returns the texts that were cut (empty in `reject` mode or when nothing was over a limit).
 * @throws ClawfleetError CF_INVALID_TOOL_NAME (details `{param, name}`), CF_INPUT_TOO_LARGE (details
 *   `{param, limit, limitBytes, actualBytes}`) — `param` names the offending field in canonical terms, e.g.
 *   `messages[3]`, `messages[2].tool_calls[0].arguments`, `tools`.
 */
export function applyInputLimits(request: CanonicalRequest, limits: InputLimitsConfig): TextReplacement[] {
  const tools = request.tools ?? [];
  if (tools.length > limits.maxTools) {
    throw tooLarge(`the request offers ${tools.length} tools; at most ${limits.maxTools} are accepted`, { param: "tools", limit: "maxTools", limitCount: limits.maxTools, actualCount: tools.length });
  }
  for (const [index, tool] of tools.entries()) {
    if (!TOOL_NAME_PATTERN.test(tool.name)) {
      throw new ClawfleetError("CF_INVALID_TOOL_NAME", `tools[${index}] is named ${JSON.stringify(tool.name.slice(0, 80))}; tool names must match ^[a-zA-Z0-9_-]{1,64}$`, { details: { param: `tools[${index}].name`, name: tool.name.slice(0, 80) } });
    }
  }
  if (request.toolChoice?.type === "tool" && !TOOL_NAME_PATTERN.test(request.toolChoice.name)) {
    throw new ClawfleetError("CF_INVALID_TOOL_NAME", "tool_choice names an invalid tool; tool names must match ^[a-zA-Z0-9_-]{1,64}$", { details: { param: "tool_choice", name: request.toolChoice.name.slice(0, 80) } });
  }

  const replacements: TextReplacement[] = [];
  let totalBytes = 0;
  const sized: Array<{ part: TextPart; bytes: number }> = [];
  for (const [messageIndex, message] of request.messages.entries()) {
    let messageBytes = 0;
    const parts: Array<{ part: TextPart; bytes: number }> = [];
    for (const [partIndex, part] of message.content.entries()) {
      if (part.type === "tool_call") {
        const argumentBytes = Buffer.byteLength(part.arguments, "utf8");
        if (argumentBytes > limits.maxToolArgumentsBytes) {
          throw tooLarge(`the arguments of tool call ${partIndex} in message ${messageIndex} are ${argumentBytes} bytes; the limit is ${limits.maxToolArgumentsBytes}`, {
            param: `messages[${messageIndex}].tool_calls[${partIndex}].arguments`,
            limit: "maxToolArgumentsBytes",
            limitBytes: limits.maxToolArgumentsBytes,
            actualBytes: argumentBytes,
          });
        }
        continue;
      }
      messageBytes += reasoningBytes(part);
      for (const text of textPartsOf(part)) {
        const bytes = Buffer.byteLength(text.text, "utf8");
        messageBytes += bytes;
        parts.push({ part: text, bytes });
      }
    }
    if (messageBytes > limits.maxMessageBytes) {
      if (limits.mode === "reject") {
        throw tooLarge(`message ${messageIndex} (${message.role}) holds ${messageBytes} bytes of text; the limit is ${limits.maxMessageBytes}`, {
          param: `messages[${messageIndex}]`,
          limit: "maxMessageBytes",
          limitBytes: limits.maxMessageBytes,
          actualBytes: messageBytes,
        });
      }
      // Each text part gets a share of the budget proportional to its size.
      for (const entry of parts) {
        const share = Math.floor((entry.bytes / messageBytes) * limits.maxMessageBytes);
        messageBytes -= cut(entry, share, replacements);
      }
    }
    totalBytes += messageBytes;
    sized.push(...parts);
  }
  if (totalBytes > limits.maxTotalBytes) {
    if (limits.mode === "reject") {
      throw tooLarge(`the request holds ${totalBytes} bytes of text; the limit is ${limits.maxTotalBytes}`, { param: "messages", limit: "maxTotalBytes", limitBytes: limits.maxTotalBytes, actualBytes: totalBytes });
    }
    // Largest texts first, each cut to what still has to go (never below a small floor).
    sized.sort((left, right) => right.bytes - left.bytes);
    for (const entry of sized) {
      if (totalBytes <= limits.maxTotalBytes) break;
      const excess = totalBytes - limits.maxTotalBytes;
      totalBytes -= cut(entry, Math.max(256, entry.bytes - excess - 256), replacements);
    }
    if (totalBytes > limits.maxTotalBytes) {
      throw tooLarge(`the request holds ${totalBytes} bytes of text even after truncation; the limit is ${limits.maxTotalBytes}`, { param: "messages", limit: "maxTotalBytes", limitBytes: limits.maxTotalBytes, actualBytes: totalBytes });
    }
  }
  return replacements;
}

/** Cuts one part to `maxBytes`; returns the bytes removed (0 when it already fits). */
function cut(entry: { part: TextPart; bytes: number }, maxBytes: number, replacements: TextReplacement[]): number {
  if (entry.bytes <= maxBytes) return 0;
  const original = entry.part.text;
  const replacement = truncateUtf8(original, maxBytes);
  entry.part.text = replacement;
  const newBytes = Buffer.byteLength(replacement, "utf8");
  const removed = entry.bytes - newBytes;
  entry.bytes = newBytes;
  replacements.push({ original, replacement });
  return removed;
}
