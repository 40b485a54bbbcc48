/**
 * Request-body validation shared by the client-API codecs.
 *
 * Schemas are built from strict objects (`z.strictObject`), so zod reports every key it does not know as an
 * `unrecognized_keys` issue. {@link validateRequestBody} turns those into {@link TranslationWarning}s (the key is
 * ignored, never an error: clients and SDKs add fields faster than we do) and every other issue into a
 * `CF_VALIDATION_FAILED` error whose `details.param` names the field in OpenAI's path notation
 * (`messages[2].content[0].type`).
 */
import type { z } from "zod";
import type { TranslationWarning } from "../../contracts/chat.js";
import { ClawfleetError } from "../../contracts/errors.js";

/** A path into a request body, as zod reports it. */
export type BodyPath = ReadonlyArray<PropertyKey>;

/** The result of a successful validation: the typed body and one warning per ignored unknown key. */
export interface ValidatedBody<Output> {
  data: Output;
  warnings: TranslationWarning[];
}

/**
 * Formats a body path the way OpenAI's `param` does: `messages[2].content[0].type`; the empty path is `body`.
 */
export function formatBodyPath(path: BodyPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text.length === 0 ? String(segment) : `.${String(segment)}`;
  }
  return text.length === 0 ? "body" : text;
}

/** A `CF_VALIDATION_FAILED` error naming `param`. */
export function validationError(param: string, message: string): ClawfleetError {
  return new ClawfleetError("CF_VALIDATION_FAILED", message, { details: { param } });
}

/** A warning for a parameter the gateway accepts but cannot honour. */
export function unsupportedParameter(parameter: string, message: string): TranslationWarning {
  return { parameter, message };
}

/** Loosely typed view of zod's issue objects (only the fields used here). */
interface IssueView {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  errors?: IssueView[][];
  expected?: string;
}

/** Zod's error-map hook: a missing field gets a plain "required" marker instead of "received undefined". */
const REQUIRED_MARKER = "\u0000required";
function errorMap(issue: { code?: string; input?: unknown }): string | undefined {
  return issue.code === "invalid_type" && issue.input === undefined ? REQUIRED_MARKER : undefined;
}

/** True when a union branch failed because the value had the wrong type altogether. */
function branchFailsAtRoot(branch: IssueView[]): boolean {
  return branch.some((issue) => issue.code === "invalid_type" && issue.path.length === 0);
}

/** The most specific description of one failing issue: unions are opened at the branch whose shape matched. */
function describeIssue(issue: IssueView, prefix: BodyPath): { path: BodyPath; message: string } {
  const path = [...prefix, ...issue.path];
  if (issue.code === "invalid_union" && issue.errors && issue.errors.length > 0) {
    const matching = issue.errors.filter((branch) => !branchFailsAtRoot(branch));
    if (matching.length === 0) {
      if (issue.errors.flat().every((inner) => inner.message === REQUIRED_MARKER)) return { path, message: REQUIRED_MARKER };
      const expected = [...new Set(issue.errors.flat().map((inner) => inner.expected).filter((name): name is string => typeof name === "string"))];
      return { path, message: `expected ${expected.join(" or ")}` };
    }
    const branch = matching[0] ?? [];
    const inner = branch.find((candidate) => candidate.code !== "unrecognized_keys") ?? branch[0];
    if (inner) return describeIssue(inner, path);
  }
  return { path, message: issue.message };
}

function errorFromIssue(issue: IssueView, prefix: BodyPath): ClawfleetError {
  const { path, message } = describeIssue(issue, prefix);
  const param = formatBodyPath(path);
  if (message === REQUIRED_MARKER) return validationError(param, `Missing required parameter: '${param}'.`);
  return validationError(param, `Invalid value for '${param}': ${message.replaceAll(REQUIRED_MARKER, "missing")}.`);
}

function deleteAtPath(root: unknown, path: BodyPath, key: string): void {
  let node: unknown = root;
  for (const segment of path) {
    if (typeof node !== "object" || node === null) return;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  if (typeof node === "object" && node !== null) delete (node as Record<string, unknown>)[key];
}

/**
 * Validates `value` with `schema`. Unknown keys become warnings (`parameter` = their path, the key is ignored);
 * any other problem throws.
 * @param prefix the path of `value` inside the whole body (for nested validation), e.g. `["tools", 3]`.
 * @throws ClawfleetError CF_VALIDATION_FAILED with `details.param` naming the first offending field.
 */
export function validateRequestBody<Schema extends z.ZodType>(schema: Schema, value: unknown, prefix: BodyPath = []): ValidatedBody<z.output<Schema>> {
  const first = schema.safeParse(value, { error: errorMap });
  if (first.success) return { data: first.data, warnings: [] };
  const issues = first.error.issues as unknown as IssueView[];
  const fatal = issues.find((issue) => issue.code !== "unrecognized_keys");
  if (fatal) throw errorFromIssue(fatal, prefix);

  const cleaned: unknown = structuredClone(value);
  const warnings: TranslationWarning[] = [];
  for (const issue of issues) {
    for (const key of issue.keys ?? []) {
      deleteAtPath(cleaned, issue.path, key);
      warnings.push({ parameter: formatBodyPath([...prefix, ...issue.path, key]), message: "unknown parameter; ignored" });
    }
  }
  const second = schema.safeParse(cleaned, { error: errorMap });
  if (!second.success) {
    const issue = (second.error.issues as unknown as IssueView[])[0];
    throw issue ? errorFromIssue(issue, prefix) : validationError(formatBodyPath(prefix), "Invalid request body.");
  }
  return { data: second.data, warnings };
}
