/**
 * The client APIs the gateway serves, by name. Each codec reads its API's request bodies into canonical form and
 * writes canonical answers back in that API's wire format (see `src/contracts/client-api.ts`).
 */
import type { ClientApi } from "../contracts/chat.js";
import type { ClientApiCodec } from "../contracts/client-api.js";
import { anthropicMessagesCodec } from "./anthropic-messages/index.js";
import { openAiChatCodec } from "./openai-chat/index.js";
import { openAiResponsesCodec } from "./openai-responses/index.js";

export { chatStreamIncludesUsage } from "./openai-chat/index.js";

export const CLIENT_API_CODECS: Record<ClientApi, ClientApiCodec> = Object.freeze({
  "openai-chat": openAiChatCodec,
  "openai-responses": openAiResponsesCodec,
  "anthropic-messages": anthropicMessagesCodec,
});
