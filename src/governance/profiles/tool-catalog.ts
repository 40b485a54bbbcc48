/**
 * OpenClaw's tool vocabulary as Clawfleet's profiles use it: groups, aliases, meta-tools and the tools no
 * profile may allow. Source: OpenClaw 2026.9.6 `docs/gateway/config-tools/tool-policy.md` ("Tool groups") and
 * ../shared/openclaw/FACTS.md (the default direct tools and the `tool_call` meta-tool).
 */

/** `group:<name>` → member tools (OpenClaw's own groups, same names, so profiles render 1:1 into `tools.deny`). */
export const TOOL_GROUPS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  "group:runtime": ["exec", "process", "code_execution"],
  "group:fs": ["read", "write", "edit", "apply_patch", "ls"],
  "group:sessions": [
    "sessions",
    "sessions_list",
    "sessions_history",
    "sessions_search",
    "conversations_list",
    "conversations_send",
    "conversations_turn",
    "sessions_send",
    "sessions_spawn",
    "sessions_yield",
    "subagents",
    "session_status",
    "suggest_task",
    "dismiss_task",
  ],
  "group:memory": ["memory_search", "memory_get"],
  "group:web": ["web_search", "x_search", "web_fetch"],
  "group:ui": ["browser", "screen", "theme", "dashboard", "terminal", "portal", "canvas", "show_widget"],
  "group:automation": ["heartbeat_respond", "automations", "gateway", "plugins", "openclaw"],
  "group:messaging": ["message"],
  "group:nodes": ["nodes", "computer"],
  "group:agents": ["agents_list", "get_goal", "create_goal", "update_goal", "progress_card", "ask_user", "skill_workshop"],
  "group:media": ["view_image", "image_generate", "music_generate", "video_generate", "tts", "pdf"],
});

/** Alternative names OpenClaw accepts for a tool (`bash` runs `exec`, `cron` is `automations`). */
export const TOOL_ALIASES: Readonly<Record<string, string>> = Object.freeze({ bash: "exec", cron: "automations" });

/**
 * Meta-tools: `tool_call {id, args}` calls the tool named by `id` (FACTS.md: a policy on names alone is bypassed
 * through it). `tool_search` and `tool_describe` only list and describe tools; they run nothing.
 */
export const META_TOOL_CALL = "tool_call";
export const DISCOVERY_TOOLS: readonly string[] = Object.freeze(["tool_search", "tool_describe"]);

/**
 * Tools no profile can allow: changing the gateway's own configuration (`gateway` reads and applies config),
 * installing or managing plugins and skills, OpenClaw setup/repair, and secrets.
 */
export const ALWAYS_BLOCKED_TOOLS: readonly string[] = Object.freeze(["gateway", "plugins", "openclaw", "secrets", "skill_workshop", "skills_install"]);

/** Tools whose arguments name files and are checked against `paths.roots`. */
export const FILE_TOOLS: readonly string[] = Object.freeze(["read", "write", "edit", "apply_patch", "ls", "file_write", "pdf", "view_image"]);

/** Tools that run commands and are checked against the `exec` rules. */
export const COMMAND_TOOLS: readonly string[] = Object.freeze(["exec", "process", "code_execution"]);

/** The canonical name of a tool (aliases resolved, lower-cased). */
export function canonicalToolName(name: string): string {
  const lower = name.trim().toLowerCase();
  return TOOL_ALIASES[lower] ?? lower;
}

/** Expands profile entries (names, groups, `*`) into tool names; `*` is kept as is. Unknown groups expand to nothing. */
export function expandToolEntries(entries: readonly string[]): Set<string> {
  const tools = new Set<string>();
  for (const entry of entries) {
    const name = entry.trim().toLowerCase();
    if (name.startsWith("group:")) for (const member of TOOL_GROUPS[name] ?? []) tools.add(member);
    else tools.add(canonicalToolName(name));
  }
  return tools;
}
