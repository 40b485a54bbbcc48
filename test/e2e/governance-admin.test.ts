/**
 * Governance over real sockets: the admin API for profiles, versions, tenant assignment and the audit trail
 * (JSON pages and the NDJSON export), the audit file on disk, and the `clawfleet` CLI (compiled, in a child
 * process) against the running platform. No runtime is started here (see governance-runtime.test.ts).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestPlatform, type TestPlatform } from "../support/platform.js";

const cli = fileURLToPath(new URL("../../bin/clawfleet.js", import.meta.url));

interface EventView {
  id: string;
  type: string;
  tenantId: string | null;
  actor: string;
  requestId: string | null;
  at: string;
  details: Record<string, unknown>;
}

describe("governance admin API and CLI", () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startTestPlatform({ CLAWFLEET_RUNTIME_IDLE_TIMEOUT_MS: "0" });
  });
  after(async () => {
    await platform.stop();
  });

  async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, "--url", platform.url, "--admin-token", platform.adminToken.token, ...args], { encoding: "utf8" });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failure = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failure.code ?? -1, stdout: failure.stdout ?? "", stderr: failure.stderr ?? "" };
    }
  }

  test("profiles: create, conflict, replace with expectedVersion, versions, list, OpenAPI", async () => {
    const body = { name: "analysts", description: "Analysts", tools: { allow: ["read", "group:web"], approval: ["write"] }, exec: { defaultAction: "deny" } };
    const created = await platform.admin("POST", "/profiles", body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((created.body as { version: number }).version, 1);
    assert.equal((await platform.admin("POST", "/profiles", body)).status, 409);
    const invalid = await platform.admin("POST", "/profiles", { name: "bad", tools: { allow: ["gateway", "group:nope"] }, paths: { roots: ["relative"] } });
    assert.equal(invalid.status, 400);
    const error = (invalid.body as { error: { code: string; details: { problems: Array<{ path: string }> } } }).error;
    assert.equal(error.code, "CF_PROFILE_INVALID");
    assert.deepEqual(error.details.problems.map((problem) => problem.path).sort(), ["paths.roots[0]", "tools.allow[0]", "tools.allow[1]"]);
    const replaced = await platform.admin("PUT", "/profiles/analysts?expectedVersion=1", { ...body, description: "v2" });
    assert.equal(replaced.status, 200);
    assert.equal((replaced.body as { version: number }).version, 2);
    const stale = await platform.admin("PUT", "/profiles/analysts?expectedVersion=1", { ...body, description: "stale" });
    assert.equal(stale.status, 409);
    assert.equal((stale.body as { error: { code: string } }).error.code, "CF_PROFILE_CONFLICT");
    assert.equal((await platform.admin("PUT", "/profiles/full", { name: "full" })).status, 409);
    assert.equal((await platform.admin("GET", "/profiles/nobody")).status, 404);
    const versions = await platform.admin("GET", "/profiles/analysts/versions");
    assert.deepEqual((versions.body as { versions: Array<{ version: number; description: string }> }).versions.map((version) => [version.version, version.description]), [[2, "v2"], [1, "Analysts"]]);
    const listed = (await platform.admin("GET", "/profiles")).body as { profiles: Array<{ name: string; builtIn: boolean }> };
    assert.deepEqual(listed.profiles.map((item) => item.name), ["readonly-agent", "finance-agent", "erp-agent", "web-agent", "full", "analysts"]);
    const openapi = (await platform.admin("GET", "/openapi.json")).body as { paths: Record<string, unknown> };
    for (const route of ["/admin/v1/profiles", "/admin/v1/profiles/{name}", "/admin/v1/profiles/{name}/versions", "/admin/v1/tenants/{id}/profile", "/admin/v1/audit", "/admin/v1/audit/export"]) assert.ok(openapi.paths[route], route);
  });

  test("tenants: default profile, assignment, delete refused while assigned; key and profile events in the trail and the 0600 file", async () => {
    const created = await platform.admin("POST", "/tenants", { id: "acme" });
    assert.equal((created.body as { profile: string }).profile, "readonly-agent");
    assert.equal((await platform.admin("POST", "/tenants", { id: "ghosted", profile: "ghost" })).status, 404);
    const assigned = await platform.admin("PUT", "/tenants/acme/profile", { profile: "analysts" });
    assert.equal(assigned.status, 200);
    assert.equal((assigned.body as { profile: string }).profile, "analysts");
    assert.equal((await platform.admin("GET", "/tenants/acme")).body && ((await platform.admin("GET", "/tenants/acme")).body as { profile: string }).profile, "analysts");
    assert.equal((await platform.admin("PUT", "/tenants/acme/profile", { profile: "ghost" })).status, 404);
    assert.equal((await platform.admin("PUT", "/tenants/nobody/profile", { profile: "full" })).status, 404);
    const inUse = await platform.admin("DELETE", "/profiles/analysts");
    assert.equal(inUse.status, 409);
    assert.equal((inUse.body as { error: { code: string } }).error.code, "CF_PROFILE_IN_USE");
    const key = (await platform.admin("POST", "/tenants/acme/keys", { scopes: ["model"] })).body as { id: string };
    assert.equal((await platform.admin("DELETE", `/tenants/acme/keys/${key.id}`)).status, 204);

    const trail = (await platform.admin("GET", "/audit?tenantId=acme&order=asc")).body as { events: EventView[]; nextCursor: string | null };
    assert.deepEqual(
      trail.events.map((event) => [event.type, event.actor, event.details.action ?? event.details.kind ?? null]),
      [
        ["key_created", "admin", "tenant"],
        ["profile_changed", "admin", "assigned"],
        ["key_created", "admin", "tenant"],
        ["key_revoked", "admin", null],
      ],
    );
    assert.equal(trail.events[3]?.details.keyId, key.id);
    assert.equal(trail.nextCursor, null);
    const fileEvents = readFileSync(path.join(platform.dataDir, "audit.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as EventView);
    assert.ok(trail.events.every((event) => fileEvents.some((line) => line.id === event.id && line.type === event.type)), "every stored event is in the file with its id");
    assert.equal(statSync(path.join(platform.dataDir, "audit.jsonl")).mode & 0o777, 0o600);
  });

  test("audit: filters, cursor paging both ways, validation, NDJSON export streamed with the same filters", async () => {
    for (let index = 0; index < 7; index += 1) await platform.admin("POST", "/tenants", { id: `page-${index}` });
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await platform.admin("GET", `/audit?type=key_created&limit=3${cursor ? `&cursor=${cursor}` : ""}`)).body as { events: EventView[]; nextCursor: string | null };
      assert.ok(page.events.length <= 3);
      pages.push(...page.events.map((event) => event.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    const all = ((await platform.admin("GET", "/audit?type=key_created&limit=1000")).body as { events: EventView[] }).events.map((event) => event.id);
    assert.deepEqual(pages, all);
    assert.deepEqual([...all].sort((left, right) => Number(right) - Number(left)), all, "newest first by default");
    assert.ok(all.length >= 9);
    const oldestFirst = ((await platform.admin("GET", "/audit?type=key_created&order=asc&limit=1000")).body as { events: EventView[] }).events.map((event) => event.id);
    assert.deepEqual(oldestFirst, [...all].reverse());
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.deepEqual(((await platform.admin("GET", `/audit?from=${encodeURIComponent(future)}`)).body as { events: unknown[] }).events, []);
    assert.equal((await platform.admin("GET", "/audit?type=nonsense")).status, 400);
    assert.equal((await platform.admin("GET", "/audit?cursor=abc")).status, 400);
    assert.equal((await platform.admin("GET", "/audit?limit=5000")).status, 400);

    const response = await fetch(`${platform.url}/admin/v1/audit/export?type=key_created`, { headers: { authorization: `Bearer ${platform.adminToken.token}` } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /application\/x-ndjson/);
    const exported = (await response.text()).trim().split("\n").map((line) => JSON.parse(line) as EventView);
    assert.deepEqual(exported.map((event) => event.id), oldestFirst);
    assert.ok(exported.every((event) => event.type === "key_created" && typeof event.at === "string"));
    const unauthenticated = await fetch(`${platform.url}/admin/v1/audit`);
    assert.equal(unauthenticated.status, 401);
  });

  test("CLI: profile list/show/create/update/versions/delete, tenant set-profile, audit list/export", async () => {
    const file = path.join(platform.dataDir, "ops.yaml");
    writeFileSync(file, "name: ops\ndescription: Operations\ntools:\n  allow: [read, exec]\nexec:\n  allow: ['ls *']\n  defaultAction: approval\n");
    const created = await run("profile", "create", "--file", file);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /profile ops created \(version 1\)/);
    const duplicate = await run("profile", "create", "--file", file);
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /CF_PROFILE_CONFLICT/);
    writeFileSync(file, JSON.stringify({ name: "ops", description: "Operations v2", tools: { allow: ["read", "exec"] } }));
    const updated = await run("profile", "update", "ops", "--file", file, "--expected-version", "1");
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /version 2/);
    assert.equal((await run("profile", "update", "ops", "--file", file, "--expected-version", "1")).code, 1);
    const shown = await run("profile", "show", "ops");
    assert.match(shown.stdout, /profile ops version 2/);
    assert.match(shown.stdout, /tools allow: {4}read, exec/);
    const versions = await run("--json", "profile", "versions", "ops");
    assert.deepEqual((JSON.parse(versions.stdout) as { versions: Array<{ version: number }> }).versions.map((version) => version.version), [2, 1]);
    const listed = await run("profile", "list");
    assert.match(listed.stdout, /^readonly-agent\tv0\tpreset\t/m);
    assert.match(listed.stdout, /^ops\tv2\tstored\tOperations v2$/m);
    writeFileSync(file, JSON.stringify({ name: "bad", tools: { allow: ["secrets"] } }));
    const invalid = await run("profile", "create", "--file", file);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /CF_PROFILE_INVALID: .*tools\.allow\[0\].*always blocked/);

    await platform.admin("POST", "/tenants", { id: "cli-tenant" });
    const assigned = await run("tenant", "set-profile", "cli-tenant", "ops");
    assert.equal(assigned.code, 0, assigned.stderr);
    assert.match(assigned.stdout, /tenant cli-tenant now uses profile ops/);
    assert.match((await run("profile", "delete", "ops")).stderr, /CF_PROFILE_IN_USE/);
    await run("tenant", "set-profile", "cli-tenant", "full");
    const deleted = await run("profile", "delete", "ops");
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match((await run("profile", "show", "ops")).stderr, /CF_PROFILE_NOT_FOUND/);

    const listedEvents = await run("--json", "audit", "list", "--tenant", "cli-tenant", "--type", "profile_changed", "--order", "asc");
    assert.equal(listedEvents.code, 0, listedEvents.stderr);
    const events = (JSON.parse(listedEvents.stdout) as { events: EventView[] }).events;
    assert.deepEqual(events.map((event) => event.details.profile), ["ops", "full"]);
    const human = await run("audit", "list", "--actor", "admin", "--limit", "2");
    assert.equal(human.stdout.trim().split("\n").length, 3, "two events and the next-cursor hint");
    assert.match(human.stdout, /\(more: --cursor \d+\)/);
    const exported = await run("audit", "export", "--type", "profile_changed");
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout.trim().split("\n").map((line) => JSON.parse(line) as EventView);
    assert.ok(lines.length >= 6);
    assert.ok(lines.every((line) => line.type === "profile_changed"));
    assert.deepEqual(lines.map((line) => Number(line.id)), [...lines.map((line) => Number(line.id))].sort((left, right) => left - right));
    const bad = await run("audit", "export", "--type", "nonsense");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /CF_VALIDATION_FAILED/);
  });
});
