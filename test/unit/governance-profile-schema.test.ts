/** Validation of permission profiles: one table of invalid bodies (every problem reported) and the valid shapes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClawfleetError } from "../../src/contracts/errors.js";
import { PRESET_PROFILES } from "../../src/governance/profiles/presets.js";
import { parsePermissionProfileInput, type ProfileProblem } from "../../src/governance/profiles/schema.js";

function problemsOf(body: unknown): ProfileProblem[] {
  try {
    parsePermissionProfileInput(body);
  } catch (error) {
    assert.ok(error instanceof ClawfleetError, String(error));
    assert.equal(error.code, "CF_PROFILE_INVALID");
    assert.equal(error.status, 400);
    return (error.details as { problems: ProfileProblem[] }).problems;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

const INVALID: Array<[string, unknown, Array<[string, RegExp]>]> = [
  ["not an object", "exec everything", [["", /object/]]],
  ["missing name", { tools: {} }, [["name", /string/]]],
  ["bad name syntax", { name: "Finance Team" }, [["name", /\^\[a-z0-9\]/]]],
  ["name too long", { name: "a".repeat(64) }, [["name", /\^\[a-z0-9\]/]]],
  ["preset names are reserved", { name: "readonly-agent" }, [["name", /built-in preset/]]],
  ["unknown field (closed object)", { name: "x", tool: {} }, [["", /tool/]]],
  ["unknown group", { name: "x", tools: { allow: ["group:everything"] } }, [["tools.allow[0]", /unknown group "group:everything"/]]],
  ["always-blocked tool allowed", { name: "x", tools: { allow: ["read", "gateway"] } }, [["tools.allow[1]", /always blocked/]]],
  ["always-blocked tool approval-listed", { name: "x", tools: { approval: ["secrets"] } }, [["tools.approval[0]", /always blocked/]]],
  ["approval of *", { name: "x", tools: { approval: ["*"] } }, [["tools.approval[0]", /cannot be approval-listed/]]],
  ["an entry in two lists", { name: "x", tools: { allow: ["exec"], approval: ["bash"] } }, [["tools.approval[0]", /already listed in tools.allow\[0\]/]]],
  ["tool name syntax", { name: "x", tools: { deny: ["rm -rf"] } }, [["tools.deny[0]", /tool name/]]],
  ["empty exec pattern", { name: "x", exec: { allow: ["  "] } }, [["exec.allow[0]", /empty pattern/]]],
  ["exec pattern with a separator", { name: "x", exec: { allow: ["ls *; rm -rf /"] } }, [["exec.allow[0]", /command separator/]]],
  ["exec pattern with $(", { name: "x", exec: { deny: ["echo $(id)"] } }, [["exec.deny[0]", /command separator/]]],
  ["exec allow of only *", { name: "x", exec: { allow: ["*"] } }, [["exec.allow[0]", /defaultAction "allow"/]]],
  ["exec pattern with a control character", { name: "x", exec: { allow: ["ls\u0007"] } }, [["exec.allow[0]", /control character/]]],
  ["duplicate exec pattern", { name: "x", exec: { deny: ["rm *", "rm *"] } }, [["exec.deny[1]", /duplicate/]]],
  ["bad defaultAction", { name: "x", exec: { defaultAction: "maybe" } }, [["exec.defaultAction", /allow|deny|approval/]]],
  ["relative root", { name: "x", paths: { roots: ["data"] } }, [["paths.roots[0]", /absolute path or ~workspace/]]],
  ["root with ..", { name: "x", paths: { roots: ["/srv/../etc"] } }, [["paths.roots[0]", /\.\. segments/]]],
  ["root with trailing slash", { name: "x", paths: { roots: ["/srv/data/"] } }, [["paths.roots[0]", /end with \//]]],
  ["bad injection action", { name: "x", injection: { action: "ignore" } }, [["injection.action", /audit|block/]]],
];

for (const [label, body, expected] of INVALID) {
  test(`invalid: ${label}`, () => {
    const problems = problemsOf(body);
    for (const [path, message] of expected) {
      assert.ok(
        problems.some((problem) => problem.path === path && message.test(problem.message)),
        `expected a problem at "${path}" matching ${message}, got ${JSON.stringify(problems)}`,
      );
    }
  });
}

test("every problem of a body is reported at once, and the message names them", () => {
  const body = { name: "ops", tools: { allow: ["gateway", "group:nope"], approval: ["plugins"] }, exec: { allow: ["a | b"] }, paths: { roots: ["relative", "/ok"] } };
  const problems = problemsOf(body);
  assert.deepEqual(problems.map((problem) => problem.path).sort(), ["exec.allow[0]", "paths.roots[0]", "tools.allow[0]", "tools.allow[1]", "tools.approval[0]"]);
  try {
    parsePermissionProfileInput(body);
  } catch (error) {
    assert.match((error as Error).message, /invalid permission profile "ops": .*tools\.allow\[0\].*always blocked/);
  }
});

test("defaults: an empty profile denies everything and confines files to the workspace", () => {
  assert.deepEqual(parsePermissionProfileInput({ name: "nothing" }), {
    name: "nothing",
    description: "",
    tools: { allow: [], deny: [], approval: [] },
    paths: { roots: ["~workspace"] },
    exec: { allow: [], deny: [], defaultAction: "deny" },
    injection: { action: "block" },
  });
});

test("tool entries are trimmed and lower-cased; groups of always-blocked tools may be allowed (members stay blocked)", () => {
  const parsed = parsePermissionProfileInput({ name: "ops", tools: { allow: [" Read ", "GROUP:WEB", "group:automation", "*"], deny: ["gateway"] } });
  assert.deepEqual(parsed.tools.allow, ["read", "group:web", "group:automation", "*"]);
});

test("every preset's body is a valid stored profile under another name", () => {
  for (const preset of PRESET_PROFILES.values()) {
    const { version: _version, ...body } = preset;
    assert.doesNotThrow(() => parsePermissionProfileInput({ ...body, name: `copy-of-${preset.name}` }), preset.name);
  }
});
