/**
 * Boundary rules of the source tree (STYLE.md §1, §9, §10), checked on every test run:
 * no import cycles; contracts import nothing concrete; only the composition root imports concrete providers
 * and runtime drivers; no `console.*` in server code; no `any`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SOURCE_ROOT = fileURLToPath(new URL("../../src/", import.meta.url));

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

const files = sourceFiles(SOURCE_ROOT);
const relative = (file: string) => path.relative(SOURCE_ROOT, file);

/** Relative imports of a file, resolved to source paths (`./x.js` → `x.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/g), ...text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1] as string);
  return specifiers.filter((specifier) => specifier.startsWith(".")).map((specifier) => path.resolve(path.dirname(file), specifier.replace(/\.js$/, ".ts")));
}

const graph = new Map(files.map((file) => [file, importsOf(file)]));

test("every relative import resolves to a source file", () => {
  for (const [file, imports] of graph) for (const target of imports) assert.ok(graph.has(target), `${relative(file)} imports missing ${relative(target)}`);
});

test("the import graph has no cycles", () => {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "visiting") assert.fail(`import cycle: ${[...stack.slice(stack.indexOf(file)), file].map(relative).join(" → ")}`);
    state.set(file, "visiting");
    stack.push(file);
    for (const target of graph.get(file) ?? []) visit(target);
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) visit(file);
});

test("contracts import nothing outside contracts", () => {
  for (const [file, imports] of graph) {
    if (!relative(file).startsWith("contracts/")) continue;
    for (const target of imports) assert.ok(relative(target).startsWith("contracts/"), `${relative(file)} imports ${relative(target)}`);
    assert.doesNotMatch(readFileSync(file, "utf8"), /from\s+["'](?!\.)[^"']+["']/, `${relative(file)} imports a package`);
  }
});

test("only the composition root imports concrete providers and runtime drivers", () => {
  const concrete = (target: string) => relative(target).startsWith("providers/") || relative(target).startsWith("runtime/drivers/");
  for (const [file, imports] of graph) {
    const name = relative(file);
    if (name === "deps.ts" || concrete(file)) continue;
    for (const target of imports) assert.ok(!concrete(target), `${name} imports concrete ${relative(target)}; go through src/deps.ts`);
  }
});

test("no console.* in server code (the CLI may print)", () => {
  for (const file of files) {
    if (relative(file).startsWith("cli/")) continue;
    assert.doesNotMatch(readFileSync(file, "utf8"), /\bconsole\.(log|error|warn|info|debug)\(/, relative(file));
  }
});

test("no `any` in source", () => {
  for (const file of files) assert.doesNotMatch(readFileSync(file, "utf8"), /:\s*any\b|\bas any\b|<any>/, relative(file));
});
