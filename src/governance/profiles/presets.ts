/**
 * Built-in permission profiles (version 0, not stored; a stored profile may not take their names).
 * `readonly-agent` is also the fail-closed fallback for a tenant whose profile is unknown.
 */
import type { PermissionProfile } from "../../contracts/governance.js";
import { DISCOVERY_TOOLS, META_TOOL_CALL } from "./tool-catalog.js";

/** Tools every agent needs to function: the meta-tools (their targets are checked), status and yielding. */
const BASE_TOOLS = [META_TOOL_CALL, ...DISCOVERY_TOOLS, "sessions_yield", "session_status"];

function preset(name: string, description: string, body: Omit<PermissionProfile, "name" | "version" | "description">): PermissionProfile {
  return Object.freeze({ name, version: 0, description, ...body });
}

/** Every built-in profile by name. */
export const PRESET_PROFILES: ReadonlyMap<string, PermissionProfile> = new Map(
  [
    preset("readonly-agent", "Web search and fetch, reading files in the workspace, memory lookups. Nothing that writes or runs.", {
      tools: { allow: [...BASE_TOOLS, "group:web", "read", "ls", "group:memory"], deny: ["group:runtime", "write", "edit", "apply_patch"], approval: [] },
      paths: { roots: ["~workspace"] },
      exec: { allow: [], deny: [], defaultAction: "deny" },
      injection: { action: "block" },
    }),
    preset("finance-agent", "Reads and writes documents in the workspace, reads PDFs, searches the web; commands and messages need approval.", {
      tools: { allow: [...BASE_TOOLS, "group:fs", "group:web", "group:memory", "pdf"], deny: ["group:ui", "group:nodes"], approval: ["exec", "message"] },
      paths: { roots: ["~workspace"] },
      exec: { allow: [], deny: ["rm *", "curl *", "wget *", "ssh *", "scp *", "nc *"], defaultAction: "approval" },
      injection: { action: "block" },
    }),
    preset("erp-agent", "Files in the workspace, memory, web lookups and a small set of read-only commands; other commands need approval.", {
      tools: { allow: [...BASE_TOOLS, "group:fs", "group:web", "group:memory", "exec"], deny: ["group:ui", "group:nodes"], approval: ["message", "sessions_send", "sessions_spawn"] },
      paths: { roots: ["~workspace"] },
      exec: { allow: ["ls *", "cat *", "head *", "tail *", "wc *", "grep *", "jq *", "sort *", "date"], deny: ["rm *", "curl *", "wget *", "ssh *", "scp *", "nc *", "sudo *"], defaultAction: "approval" },
      injection: { action: "block" },
    }),
    preset("web-agent", "Browses and fetches the web, reads the workspace; writing files needs approval.", {
      tools: { allow: [...BASE_TOOLS, "group:web", "browser", "read", "ls", "group:memory"], deny: ["group:runtime"], approval: ["write", "edit", "apply_patch"] },
      paths: { roots: ["~workspace"] },
      exec: { allow: [], deny: [], defaultAction: "deny" },
      injection: { action: "block" },
    }),
    preset("full", "Every tool except the always-blocked ones (gateway config, plugins, skills installation, secrets).", {
      tools: { allow: ["*"], deny: [], approval: [] },
      paths: { roots: ["~workspace", "/"] },
      exec: { allow: [], deny: [], defaultAction: "allow" },
      injection: { action: "audit" },
    }),
  ].map((profile) => [profile.name, profile]),
);

/** The profile used when a tenant names an unknown profile (fail closed). */
export const FALLBACK_PROFILE_NAME = "readonly-agent";
