// The least a Node.js gateway can do, as a floor for the gateway benchmark: node:http in, an undici keep-alive
// Pool out to the upstream given as the first argument, the request body buffered and forwarded, the answer
// streamed back. No authentication, no parsing, no records. Binds 127.0.0.1 on the port given as the second
// argument (0 = any) and prints `PORT <n>` when listening. Measured beside Clawfleet, its added latency is what
// this machine charges for one more Node.js process and two more loopback hops per request.
import http from "node:http";
import { Pool } from "undici";

const upstream = new Pool(process.argv[2], { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
const server = http.createServer((request, response) => {
  const parts = [];
  request.on("data", (part) => parts.push(part));
  request.on("end", async () => {
    try {
      const answer = await upstream.request({ method: "POST", path: request.url, headers: { "content-type": "application/json", authorization: request.headers.authorization ?? "" }, body: Buffer.concat(parts) });
      response.writeHead(answer.statusCode, { "content-type": answer.headers["content-type"] ?? "application/json" });
      for await (const chunk of answer.body) response.write(chunk);
      response.end();
    } catch (error) {
      response.writeHead(502).end(String(error));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[3] ?? 0), "127.0.0.1", () => process.stdout.write(`PORT ${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
