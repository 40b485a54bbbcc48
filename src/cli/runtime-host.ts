/**
 * `clawfleet runtime-host [--config F] [--socket S]`: the process that launches sandboxed runtimes for
 * `clawfleet serve` when the two run apart (deploy/systemd/clawfleet-runtimes.service). It reads the same
 * configuration and data dir as `serve`, listens on `--socket` (default `runtime.process.launcherSocket`) and
 * needs no network. SIGTERM/SIGINT stop every runtime it runs, then it exits 0.
 * Exit codes: 0 stopped cleanly, 1 failure, 2 configuration error (e.g. bubblewrap unusable here).
 */
import type { Command } from "commander";
import { loadConfig } from "../config/load.js";
import { isClawfleetError } from "../contracts/errors.js";
import { createRuntimeHost } from "../deps.js";
import { createLogger } from "../observability/logger.js";
import { closeOnSignals } from "./shutdown.js";
import type { ClientFlags } from "./admin-client.js";

/** Registers `runtime-host` on the program. */
export function registerRuntimeHostCommand(program: Command): void {
  program
    .command("runtime-host")
    .description("launch sandboxed runtimes for `clawfleet serve` over a Unix socket (no network needed; see docs/security.md, systemd units)")
    .option("-c, --config <file>", "config file (default ./clawfleet.yaml if present; env CLAWFLEET_CONFIG)")
    .option("--socket <path>", "Unix socket to listen on (default runtime.process.launcherSocket; env CLAWFLEET_RUNTIME_LAUNCHER_SOCKET)")
    .action(async (options: { config?: string; socket?: string }, command: Command) => {
      const { config } = loadConfig({ flags: { config: options.config, dataDir: command.optsWithGlobals<ClientFlags>().dataDir } });
      const logger = createLogger(config.logLevel).child({ process: "runtime-host" });
      const host = createRuntimeHost(config, logger, options.socket);
      try {
        await host.start();
      } catch (error) {
        if (!isClawfleetError(error) || error.code !== "CF_CONFIG_INVALID") throw error;
        process.stderr.write(`clawfleet runtime-host: ${error.code}: ${error.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`Clawfleet runtime host listening on ${options.socket ?? config.runtime.process.launcherSocket ?? ""} (data dir ${config.dataDir})\n`);
      // Stopping the host stops every runtime it launched (each gets runtime.stopGraceMs).
      closeOnSignals(() => host.close(), { logger, what: "runtime host shutdown", forceExitMs: config.runtime.stopGraceMs + 20_000 });
    });
}
