/**
 * The OpenAI Responses client API (`POST /v1/responses`) as a {@link ClientApiCodec}. Stateless: see `request.ts`.
 * Usage is always part of the final streamed response, so `includeUsage` is ignored.
 */
import type { ClientApiCodec } from "../../contracts/client-api.js";
import { encodeResponsesError } from "./errors.js";
import { decodeResponsesRequest } from "./request.js";
import { encodeResponsesResponse } from "./response.js";
import { ResponsesStreamEncoder } from "./stream.js";

export const openAiResponsesCodec: ClientApiCodec = {
  api: "openai-responses",
  path: "/v1/responses",
  decodeRequest: decodeResponsesRequest,
  encodeResponse: encodeResponsesResponse,
  createStreamEncoder: (model) => new ResponsesStreamEncoder(model),
  encodeError: encodeResponsesError,
};
