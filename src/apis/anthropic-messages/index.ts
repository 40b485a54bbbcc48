/**
 * The Anthropic Messages client API (`POST /v1/messages`) as a {@link ClientApiCodec}.
 * Usage is always part of `message_delta`, so `includeUsage` is ignored.
 */
import type { ClientApiCodec } from "../../contracts/client-api.js";
import { encodeAnthropicError } from "./errors.js";
import { decodeMessagesRequest } from "./request.js";
import { encodeMessagesResponse } from "./response.js";
import { MessagesStreamEncoder } from "./stream.js";

export const anthropicMessagesCodec: ClientApiCodec = {
  api: "anthropic-messages",
  path: "/v1/messages",
  decodeRequest: decodeMessagesRequest,
  encodeResponse: encodeMessagesResponse,
  createStreamEncoder: (model) => new MessagesStreamEncoder(model),
  encodeError: encodeAnthropicError,
};
