/**
 * Registers the model gateway's routes in their own Fastify scope: `/v1/chat/completions`, `/v1/responses`,
 * `/v1/messages`, `/v1/models`, and `/metrics` (Prometheus) beside them.
 */
import type { FastifyInstance } from "fastify";
import { CLIENT_API_CODECS } from "../apis/index.js";
import { authenticateModelCaller } from "./caller.js";
import { OVERHEAD_HEADER } from "./answers.js";
import { createModelCallHandler, type ModelCallDependencies } from "./model-calls.js";

export interface ModelGatewayDependencies extends ModelCallDependencies {
  /** What `/v1/models` lists: route aliases, then provider models. */
  offeredModels: ReadonlyArray<{ id: string; ownedBy: string }>;
}

/** True for the model gateway's paths (`/v1/…`), where every answer carries `x-clawfleet-overhead-ms`. */
function isModelGatewayPath(url: string): boolean {
  return url.startsWith("/v1/");
}

/**
 * Bodies are taken as raw bytes whatever the content type (clients such as `curl -d` send form types), so
 * the exact bytes can pass through to a same-schema provider; JSON is parsed by the handler.
 *
 * Every answer on a `/v1/…` path carries `x-clawfleet-overhead-ms`. A model call's handler sets it (upstream time
 * excluded); an answer the handler never wrote gets it here, as the whole time since Fastify took the request
 * (`reply.elapsedTime`, ms; nothing went upstream): `/v1/models`, and refusals before the handler ran — request
 * hygiene, lockout, an unknown `/v1/…` path (404), a body over the limit (413). Answers the handler writes itself after
 * `reply.hijack()` skip `onSend` hooks and carry the header already.
 */
export async function registerModelGateway(app: FastifyInstance, dependencies: ModelGatewayDependencies): Promise<void> {
  app.addHook("onSend", function overheadOfOwnAnswers(request, reply, payload, done) {
    if (isModelGatewayPath(request.url) && !reply.hasHeader(OVERHEAD_HEADER)) reply.header(OVERHEAD_HEADER, reply.elapsedTime.toFixed(3));
    done(null, payload);
  });
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
    for (const codec of Object.values(CLIENT_API_CODECS)) scope.post(codec.path, createModelCallHandler(codec, dependencies));
    scope.get("/v1/models", async function listModels(request) {
      authenticateModelCaller(request, dependencies);
      return { object: "list", data: dependencies.offeredModels.map((model) => ({ id: model.id, object: "model", created: 0, owned_by: model.ownedBy })) };
    });
  });
  app.get("/metrics", async function metrics(_request, reply) {
    return reply.type(dependencies.metrics.registry.contentType).send(await dependencies.metrics.registry.metrics());
  });
}
