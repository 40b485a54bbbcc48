/**
 * The bootstrap admin token: `CLAWFLEET_ADMIN_TOKEN` (config `adminToken`) when set, else the one stored in
 * `<dataDir>/admin-token` (mode 0600), else a new random one written there on first start.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generateToken } from "../auth/api-keys.js";

export interface AdminTokenResult {
  token: string;
  /** Where it came from: config/env, the data-dir file, or freshly generated (print it once). */
  source: "config" | "file" | "generated";
  filePath: string;
}

/** Resolves the admin token, creating `<dataDir>/admin-token` when needed. */
export function resolveAdminToken(dataDir: string, configured: string | undefined): AdminTokenResult {
  const filePath = path.join(dataDir, "admin-token");
  if (configured) return { token: configured, source: "config", filePath };
  try {
    const token = readFileSync(filePath, "utf8").trim();
    if (token.length >= 24) {
      if ((statSync(filePath).mode & 0o077) !== 0) chmodSync(filePath, 0o600);
      return { token, source: "file", filePath };
    }
  } catch {
    // not there yet: generate below
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = `cfa_${generateToken()}`;
  writeFileSync(filePath, `${token}\n`, { mode: 0o600 });
  return { token, source: "generated", filePath };
}
