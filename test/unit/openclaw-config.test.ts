import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildPlatformKeys,
  deepMerge,
  LEAN_TEMPLATE,
  renderOpenClawConfig,
  type ConfigObject,
  type PlatformBindings,
} from "../../src/runtime/openclaw-config.js";

const platform: PlatformBindings = {
  tenantId: "alpha",
  gatewayPort: 18789,
  gatewayToken: "gateway-token-alpha",
  modelBaseUrl: "http://127.0.0.1:19100/v1",
  virtualKey: "vk-alpha",
  modelIds: ["gpt-fast", "gpt-smart"],
  workspaceDir: "/srv/tenant/workspace",
  logFile: "/srv/tenant/logs/openclaw.log",
  overrides: {},
};

/** Reads a nested value by path (test helper). */
function at(object: unknown, ...path: string[]): unknown {
  let cursor: unknown = object;
  for (const key of path) {
    if (cursor === null || typeof cursor !== "object") return undefined;
    cursor = (cursor as Record<string, unknown>)[key];
  }
  return cursor;
}

describe("deepMerge", () => {
  it("merges plain objects deeply; arrays and scalars replace", () => {
    const merged = deepMerge({ a: { b: 1, c: [1, 2] }, d: "x" }, { a: { c: [3], e: true }, d: null });
    assert.deepEqual(merged, { a: { b: 1, c: [3], e: true }, d: null });
  });

  it("never mutates or aliases its inputs", () => {
    const base = { a: { b: [1] } };
    const override = { a: { c: { d: 1 } } };
    const baseCopy = structuredClone(base);
    const overrideCopy = structuredClone(override);
    const merged = deepMerge(base, override);
    assert.deepEqual(base, baseCopy);
    assert.deepEqual(override, overrideCopy);
    (at(merged, "a", "b") as number[]).push(2);
    (at(merged, "a", "c") as Record<string, number>)["d"] = 2;
    assert.deepEqual(base, baseCopy);
    assert.deepEqual(override, overrideCopy);
  });

  it("ignores __proto__, constructor and prototype keys", () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "nested": {"__proto__": {"polluted": true}, "ok": 1}}') as ConfigObject;
    const merged = deepMerge({ nested: { prototype: { x: 1 } } }, hostile);
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(merged, "__proto__"), false);
    assert.equal(Object.prototype.hasOwnProperty.call(merged, "constructor"), false);
    assert.deepEqual(merged["nested"], { ok: 1 });
    assert.equal(Object.getPrototypeOf(merged), Object.prototype);
  });
});

describe("renderOpenClawConfig", () => {
  it("starts from the lean template", () => {
    const config = renderOpenClawConfig({ existing: {}, tenantSettings: {}, platform });
    assert.equal(at(config, "gateway", "mode"), "local");
    assert.equal(at(config, "gateway", "controlUi", "enabled"), false);
    assert.equal(at(config, "agents", "defaults", "heartbeat", "every"), "0m");
    assert.equal(at(config, "skills", "workshop", "autonomous", "mode"), "off");
    assert.equal(at(config, "plugins", "entries", "memory-core", "config", "dreaming", "enabled"), false);
    assert.equal(at(config, "browser", "enabled"), false);
  });

  it("platform keys win over tenant settings and over the existing file", () => {
    const hostile: ConfigObject = {
      gateway: { port: 1, bind: "lan", auth: { mode: "none", password: "p" }, http: { endpoints: { chatCompletions: { enabled: false } } } },
      logging: { file: "/etc/evil.log" },
      update: { checkOnStart: true },
      models: { catalogRefresh: { enabled: true } },
      agents: { defaults: { workspace: "/", model: { primary: "openai/gpt-4o" } } },
    };
    const config = renderOpenClawConfig({ existing: hostile, tenantSettings: hostile, platform });
    assert.equal(at(config, "gateway", "port"), 18789);
    assert.equal(at(config, "gateway", "bind"), "loopback");
    assert.deepEqual(at(config, "gateway", "auth"), { mode: "token", token: "gateway-token-alpha" });
    assert.equal(at(config, "gateway", "http", "endpoints", "chatCompletions", "enabled"), true);
    assert.equal(at(config, "logging", "file"), "/srv/tenant/logs/openclaw.log");
    assert.equal(at(config, "update", "checkOnStart"), false);
    assert.equal(at(config, "models", "catalogRefresh", "enabled"), false);
    assert.equal(at(config, "agents", "defaults", "workspace"), "/srv/tenant/workspace");
    assert.equal(at(config, "agents", "defaults", "model", "primary"), "clawfleet/gpt-fast");
  });

  it("keeps the tenant's operational keys, tenant settings over the existing file", () => {
    const config = renderOpenClawConfig({
      existing: { agents: { defaults: { heartbeat: { every: "30m" } } }, tools: { profile: "coding" }, ui: { seamColor: "#123456" } },
      tenantSettings: { tools: { profile: "minimal" }, skills: { workshop: { autonomous: { mode: "suggest" } } } },
      platform,
    });
    assert.equal(at(config, "agents", "defaults", "heartbeat", "every"), "30m");
    assert.equal(at(config, "tools", "profile"), "minimal");
    assert.equal(at(config, "ui", "seamColor"), "#123456");
    assert.equal(at(config, "skills", "workshop", "autonomous", "mode"), "suggest");
    assert.equal(at(config, "gateway", "controlUi", "enabled"), false);
  });

  it("removes every provider but the platform's", () => {
    const tenantProvider = { openai: { baseUrl: "https://api.openai.com/v1", apiKey: "sk-tenant", api: "openai-completions", models: [] } };
    const config = renderOpenClawConfig({
      existing: { models: { providers: { old: { baseUrl: "http://x" } } } },
      tenantSettings: { models: { mode: "replace", providers: tenantProvider } },
      platform,
    });
    const providers = at(config, "models", "providers") as Record<string, unknown>;
    assert.deepEqual(Object.keys(providers), ["clawfleet"]);
    assert.deepEqual(providers["clawfleet"], {
      baseUrl: "http://127.0.0.1:19100/v1",
      apiKey: "vk-alpha",
      api: "openai-completions",
      models: [
        { id: "gpt-fast", name: "gpt-fast", contextWindow: 128000, maxTokens: 4096 },
        { id: "gpt-smart", name: "gpt-smart", contextWindow: 128000, maxTokens: 4096 },
      ],
    });
    assert.equal(at(config, "models", "mode"), "replace");
  });

  it("merges platform overrides last", () => {
    const config = renderOpenClawConfig({
      existing: {},
      tenantSettings: { tools: { exec: { mode: "full" } } },
      platform: { ...platform, overrides: { tools: { exec: { mode: "ask" }, deny: ["group:automation"] } } },
    });
    assert.equal(at(config, "tools", "exec", "mode"), "ask");
    assert.deepEqual(at(config, "tools", "deny"), ["group:automation"]);
  });

  it("does not mutate its inputs or the template", () => {
    const existing: ConfigObject = { gateway: { port: 1 }, models: { providers: { a: {} } } };
    const tenantSettings: ConfigObject = { agents: { defaults: { heartbeat: { every: "5m" } } } };
    const overrides: ConfigObject = { tools: { deny: ["x"] } };
    const snapshot = structuredClone({ existing, tenantSettings, overrides, template: LEAN_TEMPLATE });
    const config = renderOpenClawConfig({ existing, tenantSettings, platform: { ...platform, overrides } });
    (at(config, "tools", "deny") as string[]).push("y");
    (at(config, "plugins", "allow") as string[]).push("evil");
    assert.deepEqual({ existing, tenantSettings, overrides, template: LEAN_TEMPLATE }, snapshot);
  });

  it("ignores prototype-pollution keys in tenant settings and the existing file", () => {
    const hostile = JSON.parse('{"__proto__": {"isAdmin": true}, "gateway": {"__proto__": {"auth": {"mode": "none"}}, "constructor": {"x": 1}}}') as ConfigObject;
    const config = renderOpenClawConfig({ existing: hostile, tenantSettings: hostile, platform });
    assert.equal(({} as Record<string, unknown>)["isAdmin"], undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(config, "__proto__"), false);
    assert.equal(Object.prototype.hasOwnProperty.call(at(config, "gateway"), "constructor"), false);
    assert.deepEqual(at(config, "gateway", "auth"), { mode: "token", token: "gateway-token-alpha" });
  });

  it("refuses an empty model list", () => {
    assert.throws(() => buildPlatformKeys({ ...platform, modelIds: [] }), /modelIds must not be empty/);
  });
});

it("model API: anthropic-messages drops /v1 from the base URL and allows the anthropic transport plugin", async () => {
  const { renderOpenClawConfig } = await import("../../src/runtime/openclaw-config.js");
  const platform = {
    tenantId: "acme",
    gatewayPort: 18789,
    gatewayToken: "token",
    modelBaseUrl: "http://127.0.0.1:19100/v1",
    virtualKey: "cfv_x",
    modelIds: ["default"],
    workspaceDir: "/srv/tenant/workspace",
    logFile: "/srv/tenant/logs/openclaw.log",
    overrides: {},
  };
  const anthropic = renderOpenClawConfig({ existing: {}, tenantSettings: { plugins: { allow: ["memory-core"] } }, platform: { ...platform, modelApi: "anthropic-messages" } }) as {
    models: { providers: { clawfleet: { baseUrl: string; api: string } } };
    plugins: { allow: string[] };
  };
  assert.equal(anthropic.models.providers.clawfleet.baseUrl, "http://127.0.0.1:19100");
  assert.equal(anthropic.models.providers.clawfleet.api, "anthropic-messages");
  assert.deepEqual(anthropic.plugins.allow, ["memory-core", "anthropic"], "the transport plugin is added to the tenant's allow-list");
  const responses = renderOpenClawConfig({ existing: {}, tenantSettings: {}, platform: { ...platform, modelApi: "openai-responses" } }) as typeof anthropic;
  assert.equal(responses.models.providers.clawfleet.baseUrl, "http://127.0.0.1:19100/v1");
  assert.equal(responses.models.providers.clawfleet.api, "openai-responses");
  assert.deepEqual(responses.plugins.allow, ["memory-core", "openai"]);
});
