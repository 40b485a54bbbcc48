/**
 * Fake upstream model provider for tests: a local `node:http` server that speaks OpenAI's Chat
 * Completions wire format (https://platform.openai.com/docs/api-reference/chat), scripted per test.
 *
 * Replies are built from the wire fixtures in `test/fixtures/openai/`:
 * - `<case>.json`: the exact response body OpenAI sends when `stream` is falsy.
 * - `<case>.chunks.txt`: one SSE `data:` payload per line (each chunk's JSON, then `[DONE]`).
 * - `<case>.http.json` (optional): `{ "status": number, "headers": { name: value } }` for the
 *   response; without it the status is 200. Error fixtures (status ≥ 400) are always sent as JSON,
 *   also to streaming requests, as OpenAI does.
 *
 * Generated `text` / `tool_call` replies reuse the `text` / `tool-call` fixtures as templates, so
 * their shape is the recorded one; only ids, `created`, `model` (echoed from the request), the
 * content, and `usage` (if scripted) change.
 */
import { randomBytes, randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/** Absolute path of `test/fixtures/openai/`. */
export const OPENAI_FIXTURE_DIRECTORY = fileURLToPath(new URL("../fixtures/openai/", import.meta.url));

/** One HTTP request received by the fake, any route. */
export interface RecordedRequest {
  method: string;
  /** Request target as sent, e.g. `/v1/chat/completions` (query string included). */
  path: string;
  /** Node's lower-cased request headers, e.g. `headers.authorization === "Bearer sk-…"`. */
  headers: Record<string, string | string[] | undefined>;
  /** `rawBody` parsed as JSON, or `undefined` when it is empty or not JSON. */
  body: unknown;
  /** Request body decoded as UTF-8. */
  rawBody: string;
  /** When the request arrived, epoch milliseconds. */
  receivedAtMs: number;
}

/**
 * Token counts (tokens) reported in `usage`; `total_tokens` is `promptTokens + completionTokens`.
 * Maps to `prompt_tokens`, `completion_tokens`, `prompt_tokens_details.cached_tokens` and
 * `completion_tokens_details.reasoning_tokens`.
 */
export interface FakeUsage {
  promptTokens: number;
  completionTokens: number;
  /** Default 0. */
  cachedTokens?: number;
  /** Default 0. */
  reasoningTokens?: number;
}

/** What the fake answers to one `POST /v1/chat/completions`. */
export type FakeReply =
  /**
   * Answer `text` (`finish_reason: "stop"`); streamed as one chunk per word or punctuation run.
   * Usage defaults to the `text` fixture's.
   */
  | { kind: "text"; text: string; usage?: FakeUsage }
  /** One function tool call (`finish_reason: "tool_calls"`); streamed arguments are split across several chunks. */
  | { kind: "tool_call"; name: string; arguments: Record<string, unknown>; usage?: FakeUsage }
  /** HTTP error `status` (100–599). `body`: a string is sent as-is, anything else as JSON; default is OpenAI's error shape. */
  | { kind: "error"; status: number; body?: unknown; headers?: Record<string, string> }
  /** Replay `test/fixtures/openai/<name>.json` (or `.chunks.txt` when streaming) verbatim, ids and `model` included. */
  | { kind: "fixture"; name: string }
  /** Destroy the socket without answering. */
  | { kind: "reset" }
  /**
   * Send the headers and the first `afterChunks` chunks of the echo reply (never `[DONE]`), then
   * nothing until `close()`. A non-streaming request gets the headers only.
   */
  | { kind: "stall"; afterChunks: number }
  /**
   * A JSON answer broken midway: the echo reply's headers (its full `content-length`) and its first `afterBytes`
   * bytes, then the socket is destroyed. A streaming request gets the same cut of the JSON answer.
   */
  | { kind: "cut"; afterBytes: number };

/** A handle on a running fake upstream. */
export interface FakeUpstream {
  /** Base URL an OpenAI SDK expects, e.g. `http://127.0.0.1:PORT/v1`. */
  url: string;
  /** Every request received, in the order their bodies completed (live array). */
  requests: RecordedRequest[];
  /**
   * Queue replies used by the next `POST /v1/chat/completions` calls, in order; when the queue is
   * empty the default applies. Throws `TypeError` on a malformed reply or a missing fixture.
   */
  enqueue(...replies: FakeReply[]): void;
  /**
   * Default when nothing is queued: echo-style text
   * `FAKE-REPLY to: <first line of last real user message, ≤120 chars>`; or a function of the
   * request body (a throw or a malformed result becomes a 500 in OpenAI's error shape).
   */
  setDefault(reply: FakeReply | ((body: unknown) => FakeReply)): void;
  /**
   * Wait until `count` chat requests (`POST /v1/chat/completions`, valid or not) have been
   * received; rejects after `timeoutMs` ms, or on `close()`.
   */
  waitForRequests(count: number, timeoutMs: number): Promise<void>;
  /** Stop listening and destroy every open connection (keep-alive and stalled ones included). Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startFakeUpstream}. */
export interface StartFakeUpstreamOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Always loopback. */
  host?: "127.0.0.1";
}

/** A fixture as stored: raw texts, so a replay is byte-exact. */
export interface OpenAIFixture {
  name: string;
  /** HTTP status, from `<name>.http.json`, default 200. */
  status: number;
  /** Extra response headers, from `<name>.http.json`. */
  headers: Record<string, string>;
  /** Text of `<name>.json`, when present. */
  jsonText: string | undefined;
  /** Lines of `<name>.chunks.txt` (each a chunk's JSON, the last `[DONE]`), when present. */
  chunkPayloads: string[] | undefined;
}

const INTERNAL_CONTEXT_MARKER = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT";
const FIXTURE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/i;
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const MODEL_IDS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "fake-model"];
const REPLY_KINDS = new Set(["text", "tool_call", "error", "fixture", "reset", "stall", "cut"]);
/** Word runs and punctuation runs, each with its leading whitespace: roughly OpenAI's token pieces. */
const PIECE_PATTERN = /\s*[\p{L}\p{N}_]+|\s*[^\s\p{L}\p{N}_]+|\s+/gu;

const httpMetaSchema = z.strictObject({
  status: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.string()).default({}),
});
const chunkChoiceSchema = z.looseObject({ index: z.number(), delta: z.looseObject({}), finish_reason: z.string().nullable() });
const chunkSchema = z.looseObject({
  id: z.string(),
  object: z.literal("chat.completion.chunk"),
  choices: z.array(chunkChoiceSchema),
});
type Chunk = z.infer<typeof chunkSchema>;
const completionSchema = z.looseObject({
  object: z.literal("chat.completion"),
  choices: z.array(z.looseObject({ message: z.looseObject({ role: z.literal("assistant") }) })).min(1),
  usage: z.looseObject({}),
});
type Completion = z.infer<typeof completionSchema>;
/** The part of a chat request the fake relies on; other fields pass untouched, as OpenAI accepts many. */
const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string() })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z
    .looseObject({ include_usage: z.boolean().nullish(), include_obfuscation: z.boolean().nullish() })
    .nullish(),
});
type ChatRequest = z.infer<typeof chatRequestSchema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Text of a message `content`: a string as-is; the `text` of each part of an array, joined by "\n". */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === "string") texts.push(part);
    else if (isRecord(part) && typeof part.text === "string") texts.push(part.text);
  }
  return texts.join("\n");
}

function chatMessages(body: unknown): Record<string, unknown>[] {
  if (!isRecord(body) || !Array.isArray(body.messages)) return [];
  return body.messages.filter(isRecord);
}

function lastRealUserIndex(messages: Record<string, unknown>[]): number {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role === "user" && !contentText(message.content).trimStart().startsWith(INTERNAL_CONTEXT_MARKER)) {
      return index;
    }
  }
  return -1;
}

/**
 * Text of the last real user message of a chat request body, skipping OpenClaw's internal-context
 * user message (content starting with `<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT`). Array content is the
 * text parts joined by "\n". Returns "" when there is none or the body is not a chat request.
 */
export function lastRealUserText(body: unknown): string {
  const messages = chatMessages(body);
  return contentText(messages[lastRealUserIndex(messages)]?.content);
}

/**
 * Contents of the `role: "tool"` messages after the last real user message (all of them when
 * there is no user message), in order. String content as-is, text parts joined, else JSON.
 */
export function toolResultsAfterLastUser(body: unknown): string[] {
  const messages = chatMessages(body);
  return messages
    .slice(lastRealUserIndex(messages) + 1)
    .filter((message) => message.role === "tool")
    .map((message) =>
      typeof message.content === "string" || Array.isArray(message.content)
        ? contentText(message.content)
        : JSON.stringify(message.content ?? null),
    );
}

/** `FAKE-REPLY to: <first line of the last real user message, ≤120 code points>`. */
function echoText(body: unknown): string {
  const firstLine = lastRealUserText(body).split("\n")[0] ?? "";
  return `FAKE-REPLY to: ${Array.from(firstLine).slice(0, 120).join("")}`;
}

function echoReply(body: unknown): FakeReply {
  return { kind: "text", text: echoText(body) };
}

function splitPieces(text: string): string[] {
  return text.match(PIECE_PATTERN) ?? [];
}

function randomAlphanumeric(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join("");
}

function assertValidUsage(usage: FakeUsage | undefined): void {
  if (usage === undefined) return;
  for (const count of [usage.promptTokens, usage.completionTokens, usage.cachedTokens ?? 0, usage.reasoningTokens ?? 0]) {
    if (!Number.isInteger(count) || count < 0) {
      throw new TypeError(`fake-upstream: token counts must be integers ≥ 0, got ${count}`);
    }
  }
}

/** Throws `TypeError` when `reply` is not a well-formed {@link FakeReply} (or names a missing fixture). */
function assertValidReply(reply: FakeReply): void {
  if (!isRecord(reply) || !REPLY_KINDS.has(String(reply.kind))) {
    throw new TypeError(`fake-upstream: unknown reply ${JSON.stringify(reply)}`);
  }
  switch (reply.kind) {
    case "text":
      if (typeof reply.text !== "string") throw new TypeError("fake-upstream: text reply needs a string `text`");
      assertValidUsage(reply.usage);
      return;
    case "tool_call":
      if (typeof reply.name !== "string" || reply.name === "" || !isRecord(reply.arguments)) {
        throw new TypeError("fake-upstream: tool_call reply needs a `name` and an `arguments` object");
      }
      assertValidUsage(reply.usage);
      return;
    case "error":
      if (!Number.isInteger(reply.status) || reply.status < 100 || reply.status > 599) {
        throw new TypeError(`fake-upstream: error status must be an integer in 100..599, got ${reply.status}`);
      }
      return;
    case "fixture": {
      const name = reply.name;
      if (!FIXTURE_NAME_PATTERN.test(name)) throw new TypeError(`fake-upstream: bad fixture name ${JSON.stringify(name)}`);
      const base = path.join(OPENAI_FIXTURE_DIRECTORY, name);
      if (!existsSync(`${base}.json`) && !existsSync(`${base}.chunks.txt`)) {
        throw new TypeError(`fake-upstream: no fixture ${name}.json or ${name}.chunks.txt in ${OPENAI_FIXTURE_DIRECTORY}`);
      }
      return;
    }
    case "stall":
      if (!Number.isInteger(reply.afterChunks) || reply.afterChunks < 0) {
        throw new TypeError("fake-upstream: stall needs an integer `afterChunks` ≥ 0");
      }
      return;
    case "cut":
      if (!Number.isInteger(reply.afterBytes) || reply.afterBytes < 0) {
        throw new TypeError("fake-upstream: cut needs an integer `afterBytes` ≥ 0");
      }
      return;
    case "reset":
      return;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (isRecord(error) && error.code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Reads fixture `<name>` from {@link OPENAI_FIXTURE_DIRECTORY} (raw texts, for byte-exact replay).
 * Throws when the name is malformed, no file exists, `<name>.http.json` is invalid, or a chunk line is not JSON.
 */
export async function loadOpenAIFixture(name: string): Promise<OpenAIFixture> {
  if (!FIXTURE_NAME_PATTERN.test(name)) throw new TypeError(`fake-upstream: bad fixture name ${JSON.stringify(name)}`);
  const base = path.join(OPENAI_FIXTURE_DIRECTORY, name);
  const [jsonText, chunksText, httpText] = await Promise.all([
    readOptional(`${base}.json`),
    readOptional(`${base}.chunks.txt`),
    readOptional(`${base}.http.json`),
  ]);
  if (jsonText === undefined && chunksText === undefined) throw new Error(`fake-upstream: no fixture named ${name}`);
  const meta = httpText === undefined ? { status: 200, headers: {} } : httpMetaSchema.parse(JSON.parse(httpText));
  const chunkPayloads = chunksText?.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  for (const payload of chunkPayloads ?? []) {
    if (payload !== "[DONE]") JSON.parse(payload);
  }
  return { name, status: meta.status, headers: meta.headers, jsonText, chunkPayloads };
}

interface StreamTemplate {
  /** First chunk: the role (and for tool calls the call header). */
  opening: Chunk;
  /** First chunk carrying content or argument text after the opening. */
  piece: Chunk;
  /** Chunk whose choice has a `finish_reason`. */
  finish: Chunk;
  /** Trailing usage chunk (`choices: []`). */
  usage: Chunk;
}

/**
 * Validates `value` with `schema` and returns `value` itself: zod's output lists the schema's keys
 * first, but replies must keep the recorded key order of the wire.
 */
function validatedInOrder<Schema extends z.ZodType>(schema: Schema, value: unknown): z.infer<Schema> {
  schema.parse(value);
  return value as z.infer<Schema>;
}

async function loadTemplates(name: "text" | "tool-call"): Promise<{ completion: Completion; stream: StreamTemplate }> {
  const fixture = await loadOpenAIFixture(name);
  if (fixture.jsonText === undefined || fixture.chunkPayloads === undefined) {
    throw new Error(`fake-upstream: template fixture ${name} needs both .json and .chunks.txt`);
  }
  const completion = validatedInOrder(completionSchema, JSON.parse(fixture.jsonText));
  const chunks = fixture.chunkPayloads
    .filter((payload) => payload !== "[DONE]")
    .map((payload) => validatedInOrder(chunkSchema, JSON.parse(payload)));
  const opening = chunks[0];
  const piece = chunks[1];
  const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
  const usage = chunks.find((chunk) => chunk.choices.length === 0 && isRecord(chunk.usage));
  if (!opening || !piece || !finish || !usage) {
    throw new Error(`fake-upstream: template fixture ${name}.chunks.txt is incomplete`);
  }
  return { completion, stream: { opening, piece, finish, usage } };
}

/** Per-response values that replace the template's. */
interface ResponseIdentity {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
  includeObfuscation: boolean;
}

function usageObject(usage: FakeUsage): Record<string, unknown> {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Serializes a chunk in the template's key order; `usage` only when asked for, like OpenAI. */
function renderChunk(template: Chunk, identity: ResponseIdentity, choices: unknown[], usage: unknown): string {
  const chunk: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key === "usage" || key === "obfuscation") continue;
    if (key === "id") chunk.id = identity.id;
    else if (key === "created") chunk.created = identity.created;
    else if (key === "model") chunk.model = identity.model;
    else if (key === "choices") chunk.choices = choices;
    else chunk[key] = value;
  }
  if (identity.includeUsage) chunk.usage = usage;
  if (identity.includeObfuscation && "obfuscation" in template) chunk.obfuscation = randomAlphanumeric(randomInt(2, 16));
  return JSON.stringify(chunk);
}

/** The `data:` payloads of a generated stream, `[DONE]` last. */
function streamPayloads(
  template: StreamTemplate,
  identity: ResponseIdentity,
  openingChoice: unknown,
  pieceChoices: unknown[],
  usage: unknown,
): string[] {
  const payloads = [renderChunk(template.opening, identity, [openingChoice], null)];
  for (const choice of pieceChoices) payloads.push(renderChunk(template.piece, identity, [choice], null));
  payloads.push(renderChunk(template.finish, identity, template.finish.choices, null));
  if (identity.includeUsage) payloads.push(renderChunk(template.usage, identity, [], usage));
  payloads.push("[DONE]");
  return payloads;
}

interface GeneratedResponse {
  /** Pretty-printed JSON body (OpenAI indents non-streaming bodies by 2 spaces), newline-terminated like the fixtures. */
  json: string;
  /** SSE payloads, `[DONE]` last. */
  stream: string[];
}

async function generateText(text: string, usage: FakeUsage | undefined, identity: ResponseIdentity): Promise<GeneratedResponse> {
  const { completion, stream } = await loadTemplates("text");
  const usageValue = usage ? usageObject(usage) : completion.usage;
  const [choice] = completion.choices;
  const body = { ...completion, id: identity.id, created: identity.created, model: identity.model };
  body.choices = [{ ...choice, message: { ...choice?.message, role: "assistant", content: text } }];
  body.usage = usageValue;
  const pieceTemplate = stream.piece.choices[0];
  const pieces = splitPieces(text).map((piece) => ({ ...pieceTemplate, delta: { content: piece } }));
  const streamUsage = usage ? usageValue : stream.usage.usage;
  return {
    json: `${JSON.stringify(body, null, 2)}\n`,
    stream: streamPayloads(stream, identity, stream.opening.choices[0], pieces, streamUsage),
  };
}

async function generateToolCall(
  reply: { name: string; arguments: Record<string, unknown>; usage?: FakeUsage },
  identity: ResponseIdentity,
): Promise<GeneratedResponse> {
  const { completion, stream } = await loadTemplates("tool-call");
  const callId = `call_${randomAlphanumeric(24)}`;
  const argumentsText = JSON.stringify(reply.arguments);
  const [choice] = completion.choices;
  const body = { ...completion, id: identity.id, created: identity.created, model: identity.model };
  const toolCall = { id: callId, type: "function", function: { name: reply.name, arguments: argumentsText } };
  body.choices = [{ ...choice, message: { ...choice?.message, role: "assistant", tool_calls: [toolCall] } }];
  const usageValue = reply.usage ? usageObject(reply.usage) : completion.usage;
  body.usage = usageValue;
  const openingTemplate = stream.opening.choices[0];
  const openingDelta = {
    ...openingTemplate?.delta,
    tool_calls: [{ index: 0, ...toolCall, function: { name: reply.name, arguments: "" } }],
  };
  const pieceTemplate = stream.piece.choices[0];
  const pieces = splitPieces(argumentsText).map((piece) => ({
    ...pieceTemplate,
    delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] },
  }));
  const streamUsage = reply.usage ? usageValue : stream.usage.usage;
  return {
    json: `${JSON.stringify(body, null, 2)}\n`,
    stream: streamPayloads(stream, identity, { ...openingTemplate, delta: openingDelta }, pieces, streamUsage),
  };
}

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
function openAIErrorBody(message: string, type: string, param: string | null = null, code: string | null = null): unknown {
  return { error: { message, type, param, code } };
}

function defaultErrorBody(status: number): unknown {
  const message = `Fake upstream error (HTTP ${status}).`;
  if (status === 401) return openAIErrorBody(message, "invalid_request_error", null, "invalid_api_key");
  if (status === 429) return openAIErrorBody(message, "requests", null, "rate_limit_exceeded");
  if (status >= 500) return openAIErrorBody(message, "server_error");
  return openAIErrorBody(message, "invalid_request_error");
}

/**
 * Headers OpenAI sends on every answer: request id, API version, processing time, the account's organization, and
 * the account's rate-limit state (https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers).
 */
function standardHeaders(): Record<string, string> {
  return {
    "x-request-id": `req_${randomBytes(16).toString("hex")}`,
    "openai-version": "2020-10-01",
    "openai-processing-ms": String(randomInt(80, 400)),
    "openai-organization": "org-fake-provider-account",
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-limit-tokens": "30000000",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-remaining-tokens": "29999980",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-reset-tokens": "0s",
  };
}

function sendBody(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const isText = typeof body === "string";
  const text = isText ? body : JSON.stringify(body, null, 4);
  response.writeHead(status, {
    "content-type": isText ? "text/plain; charset=utf-8" : "application/json",
    ...standardHeaders(),
    ...headers,
    "content-length": String(Buffer.byteLength(text)),
  });
  response.end(text);
}

function sendJsonText(
  response: http.ServerResponse,
  status: number,
  jsonText: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    "content-type": "application/json",
    ...standardHeaders(),
    ...headers,
    "content-length": String(Buffer.byteLength(jsonText)),
  });
  response.end(jsonText);
}

function openEventStream(response: http.ServerResponse, status = 200, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    ...standardHeaders(),
    ...headers,
  });
  response.flushHeaders();
}

function sendEventStream(
  response: http.ServerResponse,
  payloads: string[],
  status = 200,
  headers: Record<string, string> = {},
): void {
  openEventStream(response, status, headers);
  response.end(payloads.map((payload) => `data: ${payload}\n\n`).join(""));
}

function formatParam(pathParts: readonly PropertyKey[]): string {
  return pathParts
    .map((part, index) => (typeof part === "number" ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`))
    .join("");
}

function valueAt(value: unknown, pathParts: readonly PropertyKey[]): unknown {
  let current = value;
  for (const part of pathParts) {
    if (Array.isArray(current) && typeof part === "number") current = current[part];
    else if (isRecord(current) && typeof part === "string") current = current[part];
    else return undefined;
  }
  return current;
}

/** Validates a chat request like OpenAI does (400 bodies in its shape); returns the request or the error body. */
function validateChatRequest(body: unknown, rawBody: string): { request: ChatRequest } | { error: unknown } {
  if (body === undefined || !isRecord(body)) {
    const what = rawBody.trim() === "" ? "an empty body" : body === undefined ? "invalid JSON" : "JSON that is not an object";
    const message = `We could not parse the JSON body of your request: the OpenAI API expects a JSON object, but got ${what}.`;
    return { error: openAIErrorBody(message, "invalid_request_error") };
  }
  const parsed = chatRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = formatParam(issue?.path ?? []);
    if (valueAt(body, issue?.path ?? []) === undefined) {
      const message = `Missing required parameter: '${param}'.`;
      return { error: openAIErrorBody(message, "invalid_request_error", param, "missing_required_parameter") };
    }
    const code = issue?.code === "invalid_type" ? "invalid_type" : "invalid_value";
    return { error: openAIErrorBody(`Invalid '${param}': ${issue?.message ?? "invalid value"}.`, "invalid_request_error", param, code) };
  }
  if (parsed.data.stream_options != null && parsed.data.stream !== true) {
    const message = "The 'stream_options' parameter is only allowed when 'stream' is enabled.";
    return { error: openAIErrorBody(message, "invalid_request_error", "stream_options") };
  }
  return { request: parsed.data };
}

function readRequestBody(request: http.IncomingMessage): Promise<{ rawBody: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    request.on("data", (part: Buffer) => {
      size += part.length;
      if (size <= MAX_BODY_BYTES) parts.push(part);
    });
    request.on("end", () => resolve({ rawBody: Buffer.concat(parts).toString("utf8"), tooLarge: size > MAX_BODY_BYTES }));
    request.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface Waiter {
  count: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Starts a fake OpenAI upstream on 127.0.0.1 (port 0 = any free port).
 * Routes: `GET /v1/models`, `POST /v1/chat/completions` (JSON when `stream` is falsy, SSE when true,
 * usage chunk only with `stream_options.include_usage: true`); anything else is a 404 in OpenAI's
 * error shape. Bad bodies get a 400 in that shape; the server never crashes on input.
 * Rejects when the port cannot be bound.
 */
export async function startFakeUpstream(options: StartFakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const host = options.host ?? "127.0.0.1";
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  const waiters: Waiter[] = [];
  let defaultReply: FakeReply | ((body: unknown) => FakeReply) = echoReply;
  let chatRequestCount = 0;
  let closed = false;

  function settleWaiters(): void {
    for (const waiter of [...waiters]) {
      if (chatRequestCount < waiter.count) continue;
      clearTimeout(waiter.timer);
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  function nextReply(body: unknown): FakeReply {
    const queued = queue.shift();
    if (queued) return queued;
    const reply = typeof defaultReply === "function" ? defaultReply(body) : defaultReply;
    assertValidReply(reply);
    return reply;
  }

  async function answerChat(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    chat: ChatRequest,
    body: unknown,
  ): Promise<void> {
    const reply = nextReply(body);
    const streaming = chat.stream === true;
    const identity: ResponseIdentity = {
      id: `chatcmpl-${randomAlphanumeric(29)}`,
      created: Math.floor(Date.now() / 1000),
      model: chat.model,
      includeUsage: chat.stream_options?.include_usage === true,
      includeObfuscation: chat.stream_options?.include_obfuscation !== false,
    };
    switch (reply.kind) {
      case "text":
      case "tool_call": {
        const generated =
          reply.kind === "text" ? await generateText(reply.text, reply.usage, identity) : await generateToolCall(reply, identity);
        if (streaming) sendEventStream(response, generated.stream);
        else sendJsonText(response, 200, generated.json);
        return;
      }
      case "error":
        sendBody(response, reply.status, reply.body === undefined ? defaultErrorBody(reply.status) : reply.body, reply.headers);
        return;
      case "fixture": {
        const fixture = await loadOpenAIFixture(reply.name);
        const sendJson = fixture.status >= 400 || !streaming;
        if (sendJson && fixture.jsonText !== undefined) {
          sendJsonText(response, fixture.status, fixture.jsonText, fixture.headers);
        } else if (!sendJson && fixture.chunkPayloads !== undefined) {
          sendEventStream(response, fixture.chunkPayloads, fixture.status, fixture.headers);
        } else {
          const missing = `fake-upstream: fixture ${reply.name} has no ${sendJson ? ".json" : ".chunks.txt"} for this request`;
          sendBody(response, 500, openAIErrorBody(missing, "server_error"));
        }
        return;
      }
      case "reset":
        request.socket.destroy();
        return;
      case "cut": {
        const generated = await generateText(echoText(body), undefined, identity);
        const whole = Buffer.from(generated.json);
        response.writeHead(200, { "content-type": "application/json", ...standardHeaders(), "content-length": String(whole.length) });
        response.write(whole.subarray(0, Math.min(reply.afterBytes, whole.length - 1)), () => request.socket.destroy());
        return;
      }
      case "stall": {
        if (!streaming) {
          response.writeHead(200, { "content-type": "application/json", ...standardHeaders() });
          response.flushHeaders();
          return;
        }
        const generated = await generateText(echoText(body), undefined, identity);
        openEventStream(response);
        const payloads = generated.stream.filter((payload) => payload !== "[DONE]").slice(0, reply.afterChunks);
        for (const payload of payloads) response.write(`data: ${payload}\n\n`);
        return;
      }
      default: {
        const unreachable: never = reply;
        throw new TypeError(`fake-upstream: unknown reply ${JSON.stringify(unreachable)}`);
      }
    }
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const receivedAtMs = Date.now();
    const { rawBody, tooLarge } = await readRequestBody(request);
    const body = parseJson(rawBody);
    const method = request.method ?? "GET";
    const target = request.url ?? "/";
    const pathname = new URL(target, "http://fake-upstream.invalid").pathname;
    requests.push({ method, path: target, headers: { ...request.headers }, body, rawBody, receivedAtMs });
    const isChat = method === "POST" && pathname === "/v1/chat/completions";
    if (isChat) {
      chatRequestCount += 1;
      settleWaiters();
    }
    if (tooLarge) {
      const message = `Request body exceeds the fake's limit of ${MAX_BODY_BYTES} bytes.`;
      sendBody(response, 413, openAIErrorBody(message, "invalid_request_error"));
    } else if (method === "GET" && pathname === "/v1/models") {
      const data = MODEL_IDS.map((id) => ({ id, object: "model", created: 1721172741, owned_by: "system" }));
      sendBody(response, 200, { object: "list", data });
    } else if (isChat) {
      const validation = validateChatRequest(body, rawBody);
      if ("error" in validation) sendBody(response, 400, validation.error);
      else await answerChat(request, response, validation.request, body);
    } else {
      sendBody(response, 404, openAIErrorBody(`Invalid URL (${method} ${pathname})`, "invalid_request_error"));
    }
  }

  const server = http.createServer((request, response) => {
    response.on("error", () => undefined);
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      sendBody(response, 500, openAIErrorBody(`fake-upstream: ${message}`, "server_error"));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", () => undefined);
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}/v1`,
    requests,
    enqueue(...replies: FakeReply[]): void {
      for (const reply of replies) assertValidReply(reply);
      queue.push(...replies);
    },
    setDefault(reply: FakeReply | ((body: unknown) => FakeReply)): void {
      if (typeof reply !== "function") assertValidReply(reply);
      defaultReply = reply;
    },
    waitForRequests(count: number, timeoutMs: number): Promise<void> {
      if (chatRequestCount >= count) return Promise.resolve();
      if (closed) return Promise.reject(new Error("fake-upstream: closed"));
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          count,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.splice(waiters.indexOf(waiter), 1);
            reject(new Error(`fake-upstream: expected ${count} chat request(s) within ${timeoutMs} ms, got ${chatRequestCount}`));
          }, timeoutMs),
        };
        waiters.push(waiter);
      });
    },
    close(): Promise<void> {
      if (closed) return Promise.resolve();
      closed = true;
      for (const waiter of waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`fake-upstream: closed after ${chatRequestCount} chat request(s), ${waiter.count} awaited`));
      }
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
