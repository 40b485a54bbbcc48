/**
 * Graceful shutdown of a long-running CLI command (`serve`, `runtime-host`) on SIGINT/SIGTERM: `close()` once, exit
 * 0 when it resolves, 1 when it rejects or has not finished after `forceExitMs` (so a hung close never keeps the
 * process alive past systemd's stop timeout).
 */
import type { Logger } from "../observability/logger.js";

/**
 * Installs the SIGINT/SIGTERM handlers.
 * @param what names the process in log lines (`shutdown`, `runtime host shutdown`)
 * @param forceExitMs how long `close()` may take before the process exits 1 (ms)
 */
export function closeOnSignals(close: () => Promise<void>, options: { logger: Logger; what: string; forceExitMs: number }): void {
  const { logger, what, forceExitMs } = options;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "signal received");
    setTimeout(() => {
      logger.error({ forceExitMs }, `${what} did not finish in time; exiting`);
      process.exit(1);
    }, forceExitMs).unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, `${what} failed`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}
