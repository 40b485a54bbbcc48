// A fast fake OpenAI upstream for the gateway benchmark: pre-encoded answers, no parsing beyond what the
// benchmark needs (`"stream":true` anywhere in the body selects SSE). Binds 127.0.0.1 on the port given as
// the first argument (0 = any) and prints `PORT <n>` when listening.
import http from "node:http";

const usage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };
const json = Buffer.from(
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1700000000,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "Hello from the benchmark upstream." }, logprobs: null, finish_reason: "stop" }],
    usage,
  }),
);
const chunk = (delta, finish) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model: "gpt-4o-mini", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const sse = Buffer.from(
  [
    chunk({ role: "assistant", content: "" }, null),
    ...["Hello ", "from ", "the ", "benchmark ", "upstream."].map((word) => chunk({ content: word }, null)),
    chunk({}, "stop"),
    `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model: "gpt-4o-mini", choices: [], usage })}\n\n`,
    "data: [DONE]\n\n",
  ].join(""),
);

const server = http.createServer((request, response) => {
  const parts = [];
  request.on("data", (part) => parts.push(part));
  request.on("end", () => {
    const stream = Buffer.concat(parts).includes('"stream":true');
    response.writeHead(200, { "content-type": stream ? "text/event-stream; charset=utf-8" : "application/json", "content-length": String(stream ? sse.length : json.length) });
    response.end(stream ? sse : json);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => process.stdout.write(`PORT ${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
