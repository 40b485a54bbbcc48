import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isRuntimeRootPath, RUNTIME_ROOT_PATHS, runtimeTarget, tenantPathPrefix } from "../../../src/ingress/runtime-paths.js";
import { renderOpenClawConfig } from "../../../src/runtime/openclaw-config.js";

describe("ingress path → runtime path", () => {
  test("the runtime's root APIs lose /t/{tenant}; everything else (the Control UI) keeps it", () => {
    const cases: Array<[string, string, "root" | "control-ui"]> = [
      ["/t/acme/v1/chat/completions", "/v1/chat/completions", "root"],
      ["/t/acme/v1/responses", "/v1/responses", "root"],
      ["/t/acme/v1", "/v1", "root"],
      ["/t/acme/api/artifacts/download/a1", "/api/artifacts/download/a1", "root"],
      ["/t/acme/api/users/p1/avatar?v=3", "/api/users/p1/avatar?v=3", "root"],
      ["/t/acme/sessions/agent%3Amain%3Amain/history", "/sessions/agent%3Amain%3Amain/history", "root"],
      ["/t/acme/hooks/wake", "/hooks/wake", "root"],
      ["/t/acme/healthz", "/healthz", "root"],
      ["/t/acme/readyz", "/readyz", "root"],
      ["/t/acme/", "/t/acme/", "control-ui"],
      ["/t/acme", "/t/acme", "control-ui"],
      ["/t/acme/chat/main", "/t/acme/chat/main", "control-ui"],
      ["/t/acme/assets/index-DsEuFQRE.js", "/t/acme/assets/index-DsEuFQRE.js", "control-ui"],
      ["/t/acme/control-ui-config.json", "/t/acme/control-ui-config.json", "control-ui"],
      ["/t/acme/__openclaw__/workspace-icon/agent%3Amain%3Amain", "/t/acme/__openclaw__/workspace-icon/agent%3Amain%3Amain", "control-ui"],
      ["/t/acme/fonts/x.css?v=1", "/t/acme/fonts/x.css?v=1", "control-ui"],
      // Neighbours of root paths are UI paths; OpenClaw matches its API paths case-sensitively.
      ["/t/acme/v10/x", "/t/acme/v10/x", "control-ui"],
      ["/t/acme/apis", "/t/acme/apis", "control-ui"],
      ["/t/acme/V1/models", "/t/acme/V1/models", "control-ui"],
      ["/t/acme/healthzz", "/t/acme/healthzz", "control-ui"],
    ];
    for (const [url, path, kind] of cases) {
      const target = runtimeTarget(url, "acme");
      assert.equal(target?.path, path, url);
      assert.equal(target?.kind, kind, url);
    }
  });

  test("the root list is OpenClaw's HTTP API surface, never a UI namespace", () => {
    assert.deepEqual([...RUNTIME_ROOT_PATHS], ["/v1", "/api", "/sessions", "/hooks", "/health", "/healthz", "/ready", "/readyz", "/startup", "/startupz"]);
    assert.equal(isRuntimeRootPath("/"), false);
    assert.equal(isRuntimeRootPath("/tools/invoke"), false, "refused before mapping; never sent to the root");
    assert.equal(isRuntimeRootPath("/__openclaw__/cap/x/tools/invoke"), false);
  });

  test("paths are normalized as OpenClaw reads them before they are mapped", () => {
    assert.equal(runtimeTarget("/t/acme/x/../v1/models", "acme")?.path, "/v1/models");
    assert.equal(runtimeTarget("/t/acme/%2e%2e/acme/chat", "acme")?.path, "/t/acme/chat");
    assert.equal(runtimeTarget("/t/acme/chat\\..\\v1\\models", "acme")?.path, "/v1/models");
    assert.equal(runtimeTarget("/t/acme/v1/models?x=/../..", "acme")?.path, "/v1/models?x=/../..", "the query is not a path");
    assert.equal(runtimeTarget("/t/acme/v1/./models", "acme")?.tenantPath, "/v1/models");
  });

  test("a path that normalizes out of the tenant's prefix maps to nothing", () => {
    for (const url of ["/t/acme/../globex/chat", "/t/acme/..", "/t/acme/%2e%2e/%2e%2e/tools/invoke", "/t/acme/..\\..\\admin/v1/tenants", "/t/acmex/", "/t/globex/", "//evil.example/t/acme/"]) {
      assert.equal(runtimeTarget(url, "acme"), null, url);
    }
  });

  test("the runtime's Control UI base path is the tenant's ingress prefix, in every auth mode", () => {
    const platform = { tenantId: "acme-2", gatewayPort: 18789, gatewayToken: "t", modelBaseUrl: "http://127.0.0.1:1/v1", virtualKey: "v", modelIds: ["m"], workspaceDir: "/w", logFile: "/l", overrides: {} };
    const tokenMode = renderOpenClawConfig({ existing: {}, tenantSettings: { gateway: { controlUi: { basePath: "/elsewhere" } } }, platform }) as { gateway: { controlUi: Record<string, unknown>; publicOrigin?: string } };
    assert.equal(tokenMode.gateway.controlUi.enabled, false, "token mode: no UI (a browser would need the runtime token)");
    assert.equal(tokenMode.gateway.controlUi.basePath, "/t/acme-2");
    assert.equal(tokenMode.gateway.publicOrigin, undefined);

    const trustedProxy = { userHeader: "x-clawfleet-user", allowedOrigins: ["https://fleet.example.com"], identityScopes: {} };
    const trusted = renderOpenClawConfig({ existing: {}, tenantSettings: { gateway: { controlUi: { enabled: false, basePath: "/" }, publicOrigin: "https://evil.example" } }, platform: { ...platform, trustedProxy } }) as { gateway: { controlUi: Record<string, unknown>; publicOrigin?: string } };
    assert.deepEqual([trusted.gateway.controlUi.enabled, trusted.gateway.controlUi.basePath, trusted.gateway.controlUi.allowedOrigins], [true, tenantPathPrefix("acme-2"), ["https://fleet.example.com"]]);
    assert.equal(trusted.gateway.publicOrigin, "https://fleet.example.com");

    // OpenClaw takes HTTP public origins only on loopback; a cleartext non-loopback origin is left out.
    const loopback = renderOpenClawConfig({ existing: {}, tenantSettings: {}, platform: { ...platform, trustedProxy: { ...trustedProxy, allowedOrigins: ["http://127.0.0.1:8420"] } } }) as { gateway: { publicOrigin?: string } };
    assert.equal(loopback.gateway.publicOrigin, "http://127.0.0.1:8420");
    const cleartext = renderOpenClawConfig({ existing: {}, tenantSettings: {}, platform: { ...platform, trustedProxy: { ...trustedProxy, allowedOrigins: ["http://fleet.internal:8420"] } } }) as { gateway: { publicOrigin?: string } };
    assert.equal(cleartext.gateway.publicOrigin, undefined);
  });

  test("no tenant setting lets tenant-chosen code run in the shared origin through the Control UI", () => {
    const platform = { tenantId: "acme", gatewayPort: 18789, gatewayToken: "t", modelBaseUrl: "http://127.0.0.1:1/v1", virtualKey: "v", modelIds: ["m"], workspaceDir: "/w", logFile: "/l", overrides: {}, trustedProxy: { userHeader: "x-clawfleet-user", allowedOrigins: ["https://fleet.example.com"], identityScopes: {} } };
    const hostile = { gateway: { controlUi: { root: "/srv/tenant/workspace/evil", embedSandbox: "trusted", allowExternalEmbedUrls: true, dangerouslyAllowHostHeaderOriginFallback: true, experimental: { customPlugins: true }, environment: { label: "edge", color: "amber" } } } };
    const config = renderOpenClawConfig({ existing: hostile, tenantSettings: hostile, platform }) as { gateway: { controlUi: Record<string, unknown> } };
    assert.deepEqual(config.gateway.controlUi, {
      environment: { label: "edge", color: "amber" },
      embedSandbox: "scripts",
      allowExternalEmbedUrls: false,
      experimental: { customPlugins: false },
      enabled: true,
      basePath: "/t/acme",
      allowedOrigins: ["https://fleet.example.com"],
    });
    const strict = renderOpenClawConfig({ existing: {}, tenantSettings: { gateway: { controlUi: { embedSandbox: "strict" } } }, platform }) as { gateway: { controlUi: Record<string, unknown> } };
    assert.equal(strict.gateway.controlUi.embedSandbox, "strict", "the stricter choice is the tenant's to make");
  });
});
