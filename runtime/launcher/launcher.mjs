#!/usr/bin/env node
// Clawfleet runtime launcher: the first process of a tenant runtime (pid 2 inside its bubblewrap sandbox, or a
// plain child of the platform in the unsandboxed fallback). Plain JavaScript for Node 24, node builtins only.
//
// Usage:
//   node launcher.mjs [--map LISTEN=TARGET]... [--socket-mode 0660] -- <command> [args...]
//
//   --map unix:/run/oc/gw/gw.sock=tcp:127.0.0.1:18789     listen on a Unix socket, forward to a TCP port
//   --map tcp:127.0.0.1:19100=unix:/run/oc/model/model.sock listen on a TCP port, forward to a Unix socket
//   --socket-mode MODE   octal mode of the Unix sockets it listens on (default 0660)
//
// Bridges are byte-level (no protocol knowledge): HTTP, SSE and WebSocket pass through untouched, half-closes
// are propagated. Once every listener is up, the command is spawned with inherited stdio; SIGTERM, SIGINT and
// SIGHUP are forwarded to it and the launcher exits with its status (128 + signal number when it was killed by
// a signal). If the launcher's own parent goes away (it is re-parented), the command gets SIGTERM.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";

const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"];
const DEFAULT_SOCKET_MODE = 0o660;
const PARENT_CHECK_INTERVAL_MS = 1000;
const KILL_AFTER_PARENT_LOSS_MS = 15_000;

function log(message) {
  process.stderr.write(`[clawfleet-launcher] ${new Date().toISOString()} ${message}\n`);
}

function fail(message) {
  log(`error: ${message}`);
  process.exit(2);
}

/** Parses `unix:/path` or `tcp:HOST:PORT` (HOST may be `[::1]`). */
function parseAddress(text) {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (!path.startsWith("/")) fail(`unix socket path must be absolute: ${text}`);
    return { kind: "unix", path };
  }
  if (text.startsWith("tcp:")) {
    const rest = text.slice("tcp:".length);
    const separator = rest.lastIndexOf(":");
    const host = rest.slice(0, separator).replace(/^\[(.*)\]$/, "$1");
    const port = Number(rest.slice(separator + 1));
    if (separator <= 0 || !host || !Number.isInteger(port) || port < 1 || port > 65535) fail(`bad tcp address: ${text}`);
    return { kind: "tcp", host, port };
  }
  return fail(`address must start with unix: or tcp: (${text})`);
}

function parseArguments(argv) {
  const maps = [];
  let socketMode = DEFAULT_SOCKET_MODE;
  let index = 0;
  while (index < argv.length) {
    const argument = argv[index];
    if (argument === "--") {
      index += 1;
      break;
    }
    if (argument === "--map") {
      const value = argv[index + 1] ?? fail("--map needs a value");
      const separator = value.indexOf("=");
      if (separator < 0) fail(`--map expects LISTEN=TARGET, got ${value}`);
      maps.push({ listen: parseAddress(value.slice(0, separator)), target: parseAddress(value.slice(separator + 1)) });
      index += 2;
      continue;
    }
    if (argument === "--socket-mode") {
      const value = argv[index + 1] ?? fail("--socket-mode needs a value");
      socketMode = Number.parseInt(value, 8);
      if (!Number.isInteger(socketMode) || socketMode < 0 || socketMode > 0o777) fail(`bad --socket-mode ${value}`);
      index += 2;
      continue;
    }
    fail(`unknown argument ${argument}`);
  }
  const command = argv.slice(index);
  if (command.length === 0) fail("missing `-- <command…>`");
  return { maps, socketMode, command };
}

function connectOptions(address) {
  return address.kind === "unix" ? { path: address.path, allowHalfOpen: true } : { host: address.host, port: address.port, allowHalfOpen: true };
}

/** Pipes two sockets both ways; half-closes propagate, an error on either side tears both down. */
function joinSockets(inbound, outbound) {
  const destroyBoth = () => {
    inbound.destroy();
    outbound.destroy();
  };
  inbound.on("error", destroyBoth);
  outbound.on("error", destroyBoth);
  inbound.on("close", (hadError) => hadError && outbound.destroy());
  outbound.on("close", (hadError) => hadError && inbound.destroy());
  inbound.pipe(outbound);
  outbound.pipe(inbound);
}

function removeStaleSocket(path) {
  try {
    const stat = fs.lstatSync(path);
    if (!stat.isSocket()) fail(`${path} exists and is not a socket`);
    fs.unlinkSync(path);
  } catch (error) {
    if (error && error.code !== "ENOENT") fail(`cannot remove stale socket ${path}: ${error.message}`);
  }
}

/** Starts one bridge; resolves with its server once listening. */
function startBridge({ listen, target }, socketMode) {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (inbound) => {
    if (listen.kind === "tcp") inbound.setNoDelay(true);
    const outbound = net.connect(connectOptions(target));
    if (target.kind === "tcp") outbound.setNoDelay(true);
    joinSockets(inbound, outbound);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const onListening = () => {
      server.off("error", reject);
      server.on("error", (error) => log(`bridge ${describe(listen)} error: ${error.message}`));
      if (listen.kind === "unix") fs.chmodSync(listen.path, socketMode);
      resolve(server);
    };
    if (listen.kind === "unix") {
      removeStaleSocket(listen.path);
      server.listen(listen.path, onListening);
    } else {
      server.listen({ host: listen.host, port: listen.port, exclusive: true }, onListening);
    }
  });
}

function describe(address) {
  return address.kind === "unix" ? `unix:${address.path}` : `tcp:${address.host}:${address.port}`;
}

function closeBridges(servers, maps) {
  for (const server of servers) server.close();
  for (const { listen } of maps) {
    if (listen.kind !== "unix") continue;
    try {
      fs.unlinkSync(listen.path);
    } catch {
      // already gone
    }
  }
}

async function main() {
  const { maps, socketMode, command } = parseArguments(process.argv.slice(2));
  const servers = [];
  for (const map of maps) {
    try {
      servers.push(await startBridge(map, socketMode));
    } catch (error) {
      closeBridges(servers, maps);
      fail(`cannot listen on ${describe(map.listen)}: ${error.message}`);
    }
    log(`bridge ${describe(map.listen)} -> ${describe(map.target)}`);
  }

  const [file, ...args] = command;
  const child = spawn(file, args, { stdio: "inherit" });
  let exiting = false;
  child.on("error", (error) => {
    log(`cannot start ${file}: ${error.message}`);
    closeBridges(servers, maps);
    process.exit(127);
  });
  child.on("exit", (code, signal) => {
    exiting = true;
    closeBridges(servers, maps);
    const status = code ?? 128 + (os.constants.signals[signal] ?? 0);
    log(`command exited (${signal ? `signal ${signal}` : `code ${code}`}); exiting ${status}`);
    process.exit(status);
  });
  for (const signal of FORWARDED_SIGNALS) {
    process.on(signal, () => {
      if (exiting) return;
      log(`forwarding ${signal} to pid ${child.pid}`);
      child.kill(signal);
    });
  }

  const originalParent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid === originalParent || exiting) return;
    clearInterval(parentWatch);
    log("parent process is gone; stopping the command");
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_PARENT_LOSS_MS).unref();
  }, PARENT_CHECK_INTERVAL_MS);
  parentWatch.unref();
}

main().catch((error) => fail(error instanceof Error ? error.stack ?? error.message : String(error)));
