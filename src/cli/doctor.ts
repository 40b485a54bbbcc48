/**
 * `clawfleet doctor [--config F] [--json]`: checks the deployment described by the configuration (file,
 * `CLAWFLEET_*`, `--data-dir`) and prints a fix for each problem. Exit code 0 when nothing failed (warnings
 * allowed), 1 when a check failed. Works without the server running.
 */
import { ConfigError, loadConfig } from "../config/load.js";
import { isLoopbackHost } from "../http/bind-safety.js";
import { runDoctor } from "../doctor/run.js";
import { formatReport, summarize, type DoctorReport } from "../doctor/report.js";
import { resolveCliAdminToken } from "./admin-client.js";

export interface DoctorFlags {
  config?: string;
  dataDir?: string;
  url?: string;
  adminToken?: string;
  json?: boolean;
}

/** Runs doctor and returns the exit code (0 ok, 1 a check failed); writes the report to `out`. */
export async function doctorCommand(flags: DoctorFlags, env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): Promise<number> {
  let report: DoctorReport;
  try {
    const { config } = loadConfig({ flags: { config: flags.config, dataDir: flags.dataDir }, env });
    const host = isLoopbackHost(config.server.host) || config.server.host === "0.0.0.0" || config.server.host === "::" ? "127.0.0.1" : config.server.host;
    const serverUrl = flags.url ?? env.CLAWFLEET_URL ?? `${config.server.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${config.server.port}`;
    let adminToken: string | null = null;
    try {
      adminToken = resolveCliAdminToken(flags.adminToken ?? config.adminToken, config.dataDir);
    } catch {
      adminToken = null;
    }
    report = await runDoctor({ config, env, serverUrl, adminToken });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    report = summarize(flags.dataDir ?? env.CLAWFLEET_DATA_DIR ?? "./.clawfleet", [{ id: "config", status: "fail", detail: error.problems.join("; "), fix: "correct the configuration (clawfleet.yaml, CLAWFLEET_* variables); the JSON Schema is clawfleet.schema.json" }]);
  }
  out.write(`${flags.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
  return report.ok ? 0 : 1;
}
