/** Registers the model gateway's routes (`/v1/chat/completions`, `/v1/models`) in their own Fastify scope. */
import type { FastifyInstance } from "fastify";
import { createChatCompletionsHandler, createListModelsHandler, type ModelGatewayDependencies } from "./chat-completions.js";

/**
 * Bodies are taken as raw bytes whatever the content type (clients such as `curl -d` send form types), so
 * the exact bytes can pass through to a same-schema provider; JSON is parsed by the handler.
 */
export async function registerModelGateway(app: FastifyInstance, dependencies: ModelGatewayDependencies): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
    scope.post("/v1/chat/completions", createChatCompletionsHandler(dependencies));
    scope.get("/v1/models", createListModelsHandler(dependencies));
  });
}
