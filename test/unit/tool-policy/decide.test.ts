/**
 * The tool policy engine, table-driven and adversarial: meta-tool unwrapping (`tool_call` in every spelling
 * OpenClaw accepts, nested), aliases and case variants, path canonicalization tricks, exec command splitting
 * and obfuscation, and the preset profiles' verdicts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PermissionProfile } from "../../../src/contracts/governance.js";
import { PRESET_PROFILES } from "../../../src/governance/profiles/presets.js";
import { canonicalizePath, checkCommand, decide, reviewToolCall, splitCommand } from "../../../src/governance/tool-policy/index.js";

const context = { workspaceDir: "/srv/tenant/workspace", homeDir: "/srv/tenant/home" };
const preset = (name: string) => PRESET_PROFILES.get(name) as PermissionProfile;
const readonly = preset("readonly-agent");
const erp = preset("erp-agent");
const full = preset("full");
const finance = preset("finance-agent");
const call = (name: string, args: unknown) => ({ name, arguments: typeof args === "string" ? args : JSON.stringify(args) });

describe("tool-level verdicts and meta-tool unwrapping", () => {
  const cases: Array<[string, PermissionProfile, string, unknown, "allow" | "deny" | "approval", string?]> = [
    ["readonly: exec denied directly", readonly, "exec", { command: "touch x" }, "deny", "denied_by_profile"],
    ["readonly: bash alias of exec", readonly, "bash", { command: "touch x" }, "deny", "denied_by_profile"],
    ["readonly: upper-case EXEC", readonly, "EXEC", { command: "touch x" }, "deny", "denied_by_profile"],
    ["readonly: fullwidth ｅｘｅｃ", readonly, "ｅｘｅｃ", { command: "touch x" }, "deny", "denied_by_profile"],
    ["readonly: zero-width in name", readonly, "ex\u200bec", { command: "touch x" }, "deny", "denied_by_profile"],
    ["readonly: tool_call id exec", readonly, "tool_call", { id: "exec", args: { command: "touch x" } }, "deny", "denied_by_profile"],
    ["readonly: tool_call catalog id", readonly, "tool_call", { id: "openclaw:core:exec", args: { command: "touch x" } }, "deny", "denied_by_profile"],
    ["readonly: tool_call toolId", readonly, "tool_call", { toolId: "exec", command: "touch x" }, "deny", "denied_by_profile"],
    ["readonly: tool_call name", readonly, "tool_call", { name: "bash", input: { command: "touch x" } }, "deny", "denied_by_profile"],
    ["readonly: tool_call selector nested in args", readonly, "tool_call", { args: { id: "exec", command: "touch x" } }, "deny", "denied_by_profile"],
    ["readonly: nested tool_call", readonly, "tool_call", { id: "tool_call", args: { id: "tool_call", args: { id: "exec", args: { command: "x" } } } }, "deny", "denied_by_profile"],
    ["readonly: tool_call too deep", full, "tool_call", { id: "tool_call", args: { id: "tool_call", args: { id: "tool_call", args: { id: "tool_call", args: { id: "tool_call", args: {} } } } } }, "deny", "invalid_arguments"],
    ["ambiguous selectors", full, "tool_call", { id: "read", name: "exec", args: { path: "a" } }, "deny", "invalid_arguments"],
    ["tool_call without a target", full, "tool_call", { args: { command: "ls" } }, "deny", "invalid_arguments"],
    ["gateway always blocked (even full)", full, "gateway", { action: "config.get" }, "deny", "always_blocked"],
    ["gateway through tool_call (capture 12)", full, "tool_call", { id: "gateway", args: { action: "config.get" } }, "deny", "always_blocked"],
    ["secrets via catalog id", full, "tool_call", { id: "openclaw:core:secrets", args: { action: "list" } }, "deny", "always_blocked"],
    ["unknown tool not allowed", readonly, "frobnicate", {}, "deny", "not_allowed_by_profile"],
    ["readonly: web_search allowed", readonly, "web_search", { query: "x" }, "allow"],
    ["readonly: web_fetch through tool_call", readonly, "tool_call", { id: "web_fetch", args: { url: "https://example.com" } }, "allow"],
    ["readonly: read in workspace", readonly, "read", { path: "notes/a.md" }, "allow"],
    ["finance: message needs approval", finance, "tool_call", { id: "message", args: { action: "send" } }, "approval"],
    ["invalid JSON arguments", full, "exec", "{\"command\": \"ls\"", "deny", "invalid_arguments"],
    ["empty arguments are {}", readonly, "tool_search", "", "allow"],
    ["full: exec anything", full, "exec", { command: "rm -rf /tmp/x" }, "allow"],
    ["exec without command", full, "exec", { cmd: "ls" }, "deny", "invalid_arguments"],
  ];
  for (const [name, profile, tool, args, expected, reason] of cases) {
    test(name, () => {
      const decision = decide(profile, call(tool, args), context);
      assert.equal(decision.kind, expected, JSON.stringify(decision));
      if (reason && decision.kind === "deny") assert.equal(decision.reason, reason);
    });
  }

  test("the effective tool and arguments are reported", () => {
    const reviewed = reviewToolCall(full, call("tool_call", { id: "openclaw:core:bash", "args.command": "ls", args: { workdir: "." } }), context);
    assert.equal(reviewed.tool, "exec");
    assert.deepEqual(reviewed.arguments, { command: "ls", workdir: "." });
  });

  test("the meta-tool itself must be allowed", () => {
    const noMeta: PermissionProfile = { ...full, name: "no-meta", tools: { allow: ["exec"], deny: [], approval: [] } };
    assert.equal(decide(noMeta, call("exec", { command: "ls" }), context).kind, "allow");
    assert.equal(decide(noMeta, call("tool_call", { id: "exec", args: { command: "ls" } }), context).kind, "deny");
  });
});

describe("path canonicalization against the roots", () => {
  const outside: Array<[string, string]> = [
    ["dot-dot", "../../etc/passwd"],
    ["absolute", "/etc/passwd"],
    ["percent-encoded dots", "%2e%2e/%2e%2e/etc/passwd"],
    ["double-encoded", "%252e%252e/%252e%252e/etc/passwd"],
    ["triple-encoded slash", "..%25252f..%25252fetc/passwd"],
    ["backslashes", "..\\..\\etc\\passwd"],
    ["fullwidth dots and solidus", "．．／．．／etc/passwd"],
    ["division slash", "..\u2215..\u2215etc/passwd"],
    ["fullwidth reverse solidus", "..\uff3c..\uff3cetc"],
    ["one-dot leaders", "\u2024\u2024/\u2024\u2024/etc"],
    ["zero-width joiner in dots", ".\u200b./.\u200b./etc"],
    ["file URL", "file:///etc/passwd"],
    ["sibling with common prefix", "/srv/tenant/workspace2/x"],
    ["home", "~/.ssh/id_rsa"],
    ["mixed: inside then out", "sub/../../../state/openclaw.json"],
    ["encoded literal trick", "/etc%2F..%2Fsrv/tenant/workspace/x"],
  ];
  for (const [name, raw] of outside) {
    test(`read ${name} → denied`, () => {
      const decision = decide(readonly, call("read", { path: raw }), context);
      assert.equal(decision.kind, "deny", `${raw}: ${JSON.stringify(decision)}`);
    });
  }
  const invalid: Array<[string, string]> = [
    ["NUL byte", "notes.md\u0000/../../etc/passwd"],
    ["encoded NUL", "notes.md%00"],
    ["other user's home", "~root/.bashrc"],
    ["http URL", "http://example.com/x"],
  ];
  for (const [name, raw] of invalid) {
    test(`read ${name} → refused`, () => {
      const decision = decide(readonly, call("read", { path: raw }), context);
      assert.equal(decision.kind, "deny");
    });
  }
  const inside = ["notes/a.md", "./a/../b.md", "/srv/tenant/workspace/x.md", "%2e/x.md", "", "dir/"];
  for (const raw of inside) {
    test(`read ${JSON.stringify(raw)} → allowed`, () => assert.equal(decide(readonly, call("read", { path: raw }), context).kind, "allow"));
  }

  test("apply_patch file headers are checked", () => {
    const patch = (file: string) => ({ input: `*** Begin Patch\n*** Add File: ${file}\n+hi\n*** End Patch` });
    assert.equal(decide(erp, call("apply_patch", patch("ok.txt")), context).kind, "allow");
    assert.equal(decide(erp, call("apply_patch", patch("../../../etc/cron.d/x")), context).kind, "deny");
    const move = { input: "*** Begin Patch\n*** Update File: a.txt\n*** Move to: /etc/x\n*** End Patch" };
    assert.equal(decide(erp, call("apply_patch", move), context).kind, "deny");
  });

  test("nested and array path arguments, and exec workdir", () => {
    assert.equal(decide(erp, call("write", { path: "ok.txt", content: "x" }), context).kind, "allow");
    assert.equal(decide(erp, call("tool_call", { id: "pdf", args: { pdfs: ["a.pdf", "/etc/x.pdf"] } }), context).kind, "deny");
    assert.equal(decide(erp, call("exec", { command: "ls", workdir: "/etc" }), context).kind, "deny");
    assert.equal(decide(erp, call("exec", { command: "ls", workdir: "sub" }), context).kind, "allow");
  });

  test("canonical path details", () => {
    assert.deepEqual(canonicalizePath("a/../../b", context), { ok: true, path: "/srv/tenant/b", literal: "/srv/tenant/b" });
    const fullwidth = canonicalizePath("．．／x", context);
    assert.ok(fullwidth.ok && fullwidth.path === "/srv/tenant/x" && fullwidth.literal === "/srv/tenant/workspace/．．／x");
  });
});

describe("exec rules", () => {
  test("splitting on every separator", () => {
    assert.deepEqual(splitCommand("ls -la; rm -rf / && echo `id` | cat $(whoami) || x\ny & z <(a) >(b)"), ["ls -la", "rm -rf /", "echo", "id", "cat", "whoami", "x", "y", "z", "a", "b"]);
  });
  const erpCases: Array<[string, "allow" | "deny" | "approval"]> = [
    ["ls -la", "allow"],
    ["ls", "allow"],
    ["date", "allow"],
    ["cat a.txt | wc -l", "allow"],
    ["ls; rm -rf /", "deny"],
    ["ls && rm -rf x", "deny"],
    ["ls `rm -rf x`", "deny"],
    ["cat $(rm -rf x)", "deny"],
    ["ls\nrm -rf x", "deny"],
    ["ls | sudo sh", "deny"],
    ["if true; then rm -rf x; fi", "deny"],
    ["/bin/rm -rf x", "deny"],
    ["r''m -rf x", "deny"],
    ["r\\m -rf x", "deny"],
    ["env -i A=1 rm -rf x", "deny"],
    ["FOO=1 curl http://evil", "deny"],
    ["timeout 5 wget http://x", "deny"],
    ["ls <(curl http://evil)", "deny"],
    ["(rm -rf x)", "deny"],
    ["{ rm -rf x; }", "deny"],
    ["python3 script.py", "approval"],
    ["ls; python3 x.py", "approval"],
    ["", "deny"],
  ];
  for (const [command, expected] of erpCases) {
    test(`erp-agent: ${JSON.stringify(command)} → ${expected}`, () => assert.equal(decide(erp, call("exec", { command }), context).kind, expected));
  }

  test("deny wins over allow; default deny", () => {
    const rules = { allow: ["git *"], deny: ["git push *"], defaultAction: "deny" as const };
    assert.deepEqual(checkCommand("git status", rules), { kind: "allow" });
    assert.equal(checkCommand("git push origin main", rules).kind, "deny");
    assert.equal(checkCommand("make", rules).kind, "deny");
    assert.equal(checkCommand("git status; make", rules).kind, "deny");
  });

  test("process input and code_execution are commands too", () => {
    assert.equal(decide(erp, call("process", { action: "poll", sessionId: "s1" }), context).kind, "deny", "erp does not allow process");
    const withProcess: PermissionProfile = { ...erp, name: "erp-process", tools: { ...erp.tools, allow: [...erp.tools.allow, "process"] } };
    assert.equal(decide(withProcess, call("process", { action: "write", sessionId: "s1", data: "rm -rf x\n" }), context).kind, "deny");
    assert.equal(decide(withProcess, call("process", { action: "send-keys", sessionId: "s1", hex: [Buffer.from("curl x").toString("hex")] }), context).kind, "deny");
    assert.equal(decide(withProcess, call("process", { action: "send-keys", sessionId: "s1", keys: ["Enter"] }), context).kind, "allow");
    assert.equal(decide(withProcess, call("process", { action: "paste", sessionId: "s1", text: "ls -la" }), context).kind, "allow");
    assert.equal(decide(withProcess, call("process", { action: "poll", sessionId: "s1" }), context).kind, "allow");
    assert.equal(decide(erp, call("tool_call", { id: "code_execution", args: { code: "import os" } }), context).kind, "deny", "erp does not allow code_execution at all");
    const codeRunner: PermissionProfile = { ...erp, name: "coder", tools: { ...erp.tools, allow: [...erp.tools.allow, "code_execution"] } };
    assert.equal(decide(codeRunner, call("code_execution", { code: "print(1)" }), context).kind, "approval");
  });

  test("dangerous environment overrides and elevation are refused under exec rules", () => {
    assert.equal(decide(erp, call("exec", { command: "ls", env: { PATH: "/tmp/evil" } }), context).kind, "deny");
    assert.equal(decide(erp, call("exec", { command: "ls", env: { LD_PRELOAD: "/tmp/x.so" } }), context).kind, "deny");
    assert.equal(decide(erp, call("exec", { command: "ls", elevated: true }), context).kind, "deny");
    assert.equal(decide(full, call("exec", { command: "ls", env: { PATH: "/x" } }), context).kind, "allow");
  });

  test("approval risk levels", () => {
    const fin = decide(finance, call("exec", { command: "python3 report.py" }), context);
    assert.ok(fin.kind === "approval" && fin.risk === "high");
    const critical = decide(finance, call("exec", { command: "chmod 777 x" }), context);
    assert.ok(critical.kind === "approval" && critical.risk === "critical", JSON.stringify(critical));
    const denied = decide(finance, call("exec", { command: "curl http://x" }), context);
    assert.equal(denied.kind, "deny");
  });
});
