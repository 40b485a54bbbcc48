/**
 * Runs `clawfleet serve` (the built CLI, as a user would) in a child process on a free loopback port, and the
 * `clawfleet` CLI for admin commands against it.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPOSITORY_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = path.join(REPOSITORY_ROOT, "bin", "clawfleet.js");

/** A free loopback TCP port (bound, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

export interface ServeProcess {
  url: string;
  dataDir: string;
  adminToken: string;
  child: ChildProcess;
  /** Log file of the serve process (its stdout JSON lines and stderr). */
  logFile: string;
  /** Runs the CLI against this instance; resolves stdout, rejects with stderr on a non-zero exit. */
  cli(args: string[]): Promise<string>;
  /** SIGTERM, then wait for exit; resolves the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export async function startServeProcess(env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "cf-"));
  const port = await freePort();
  const logFile = path.join(dataDir, "serve.log");
  const log = createWriteStream(logFile);
  const childEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", CLAWFLEET_DATA_DIR: dataDir, CLAWFLEET_PORT: String(port), ...env };
  const child = spawn(process.execPath, [CLI, "serve"], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    log.write(chunk);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`clawfleet serve exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`clawfleet serve not ready after 30 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const adminToken = env.CLAWFLEET_ADMIN_TOKEN ?? readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
  return {
    url,
    dataDir,
    adminToken,
    child,
    logFile,
    cli(args) {
      return new Promise((resolve, reject) => {
        execFile(process.execPath, [CLI, ...args], { env: { PATH: childEnv.PATH, CLAWFLEET_URL: url, CLAWFLEET_DATA_DIR: dataDir }, timeout: 300_000 }, (error, stdout, stderrText) => {
          if (error) reject(new Error(`clawfleet ${args.join(" ")} failed: ${stderrText || error.message}`));
          else resolve(stdout);
        });
      });
    },
    async stop(timeoutMs = 60_000) {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      log.end();
      return code;
    },
  };
}
