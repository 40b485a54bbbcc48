/**
 * Real requests OpenClaw (2026.9.6) sent to a model gateway, recorded in `/work/shared/openclaw/captures/` and kept
 * as `test/fixtures/openclaw/<capture>.request.json` (`{method, url, body}`; headers, which held keys, dropped).
 * `body` is the request body exactly as OpenClaw sent it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const OPENCLAW_FIXTURE_DIRECTORY = fileURLToPath(new URL("../fixtures/openclaw/", import.meta.url));

export interface OpenClawRequest {
  method: string;
  url: string;
  body: unknown;
}

/** Loads one recorded request by capture name, e.g. `30-anthropic-messages-first-turn`. */
export function loadOpenClawRequest(captureName: string): OpenClawRequest {
  return JSON.parse(readFileSync(`${OPENCLAW_FIXTURE_DIRECTORY}${captureName}.request.json`, "utf8")) as OpenClawRequest;
}
