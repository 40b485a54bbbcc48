// The floor proxy's work (bench/floor-proxy.mjs) behind Fastify, as Clawfleet's /v1/* routes run: four onRequest
// hooks in callback style (Clawfleet has request id, hygiene, lockout and the /metrics token), an encapsulated scope
// whose content-type parser takes the body as raw bytes, an async route handler, and the answer read whole and
// written with one writeHead after reply.hijack(). Its cost beside the floor is what Fastify's request lifecycle
// charges per request (bench/framework-cost.ts). Arguments: upstream base URL, port (0 = any); prints `PORT <n>`.
import Fastify from "fastify";
import { Pool } from "undici";

const upstream = new Pool(process.argv[2], { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
app.addHook("onRequest", function echoRequestId(request, reply, done) {
  reply.header("x-request-id", request.id);
  done();
});
for (let index = 0; index < 3; index += 1) app.addHook("onRequest", (_request, _reply, done) => done());
await app.register(async (scope) => {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  scope.post("/v1/chat/completions", async (request, reply) => {
    const answer = await upstream.request({ method: "POST", path: request.url, headers: { "content-type": "application/json", authorization: request.headers.authorization ?? "" }, body: request.body });
    const bytes = Buffer.from(await answer.body.arrayBuffer());
    reply.raw.writeHead(answer.statusCode, ["content-type", answer.headers["content-type"] ?? "application/json", "content-length", String(bytes.length), "x-request-id", request.id]);
    reply.hijack();
    reply.raw.end(bytes);
    return reply;
  });
});
await app.listen({ port: Number(process.argv[3] ?? 0), host: "127.0.0.1" });
process.stdout.write(`PORT ${app.server.address().port}\n`);
process.on("SIGTERM", () => app.close().then(() => process.exit(0)));
