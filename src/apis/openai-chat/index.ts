/**
 * The OpenAI Chat Completions client API (`POST /v1/chat/completions`) as a {@link ClientApiCodec}.
 * `createStreamEncoder`'s `includeUsage` should be {@link chatStreamIncludesUsage} of the request body.
 */
import type { ClientApiCodec } from "../../contracts/client-api.js";
import { encodeChatError } from "./errors.js";
import { decodeChatRequest } from "./request.js";
import { encodeChatResponse } from "./response.js";
import { ChatStreamEncoder } from "./stream.js";

export { chatStreamIncludesUsage } from "./request.js";

export const openAiChatCodec: ClientApiCodec = {
  api: "openai-chat",
  path: "/v1/chat/completions",
  decodeRequest: decodeChatRequest,
  encodeResponse: encodeChatResponse,
  createStreamEncoder: (model, options) => new ChatStreamEncoder(model, options.includeUsage),
  encodeError: encodeChatError,
};
