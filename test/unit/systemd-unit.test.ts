/**
 * The shipped systemd units stay hardened: `systemd-analyze security --offline=true` must rate the overall
 * exposure of each at most 2.0 (issue 5, "Hardening"). Both figures are printed on every run. The settings that
 * carry the privilege separation (docs/security.md, "systemd units") are checked line by line.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { promisify } from "node:util";

const run = promisify(execFile);
const SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze";
const MAIN_UNIT = path.resolve("deploy/systemd/clawfleet.service");
const RUNTIMES_UNIT = path.resolve("deploy/systemd/clawfleet-runtimes.service");
const MAXIMUM_EXPOSURE = 2.0;
const SOCKET = "/run/clawfleet-runtimes/launcher.sock";
const skip = existsSync(SYSTEMD_ANALYZE) ? false : `${SYSTEMD_ANALYZE} is not installed: cannot score the systemd units`;

/** Runs `systemd-analyze security --offline=true` on a unit file and returns its overall exposure (0–10). */
async function exposureOf(unitPath: string): Promise<number> {
  // systemd-analyze exits non-zero when the score exceeds its own threshold; the output is still complete.
  const result = await run(SYSTEMD_ANALYZE, ["security", "--offline=true", "--no-pager", unitPath]).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? "", stderr: error.stderr ?? "" }));
  const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(`${result.stdout}\n${result.stderr}`);
  assert.ok(match, `no "Overall exposure level" line in:\n${result.stdout}\n${result.stderr}`);
  return Number(match[1]);
}

/** The unit's setting lines (comments dropped). */
function settingsOf(unitPath: string): string[] {
  return readFileSync(unitPath, "utf8")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"));
}

for (const unitPath of [MAIN_UNIT, RUNTIMES_UNIT]) {
  test(`deploy/systemd/${path.basename(unitPath)} scores at most 2.0 in systemd-analyze security`, { skip }, async () => {
    const exposure = await exposureOf(unitPath);
    process.stdout.write(`# systemd-analyze security: ${path.basename(unitPath)} overall exposure ${exposure}\n`);
    assert.ok(exposure <= MAXIMUM_EXPOSURE, `exposure ${exposure} > ${MAXIMUM_EXPOSURE}`);
  });
}

test("systemd parses both units without a warning about a key or value", { skip }, async () => {
  const result = await run(SYSTEMD_ANALYZE, ["verify", "--man=no", MAIN_UNIT, RUNTIMES_UNIT]).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? "", stderr: error.stderr ?? "" }));
  const problems = `${result.stdout}\n${result.stderr}`.split("\n").filter((line) => /Unknown key|Unknown section|Failed to parse|Invalid|ignoring/i.test(line));
  assert.deepEqual(problems, []);
});

test("both units keep the shared load-bearing settings (same user, no capabilities, no W^X, read-only system)", () => {
  for (const unitPath of [MAIN_UNIT, RUNTIMES_UNIT]) {
    const settings = settingsOf(unitPath);
    for (const line of ["User=clawfleet", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/clawfleet", "PrivateTmp=yes", "ProtectHome=yes", "ProtectControlGroups=yes", "CapabilityBoundingSet=", "LockPersonality=yes", "ProtectProc=invisible", "Environment=CLAWFLEET_RUNTIME_SANDBOX=bwrap", `Environment=CLAWFLEET_RUNTIME_LAUNCHER_SOCKET=${SOCKET}`]) {
      assert.ok(settings.includes(line), `${path.basename(unitPath)}: missing ${line}`);
    }
    assert.ok(!settings.some((line) => line.startsWith("MemoryDenyWriteExecute=")), "MemoryDenyWriteExecute breaks V8's JIT");
  }
});

test("clawfleet.service faces the network but may not create namespaces or mount (it never runs bubblewrap)", () => {
  const settings = settingsOf(MAIN_UNIT);
  for (const line of ["RestrictNamespaces=yes", "SystemCallFilter=@system-service", "ProcSubset=pid", "ProtectKernelTunables=yes", "ProtectKernelLogs=yes", "ProtectHostname=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK", "Wants=network-online.target clawfleet-runtimes.service"]) {
    assert.ok(settings.includes(line), `missing ${line}`);
  }
  assert.ok(!settings.some((line) => line.startsWith("SystemCallFilter=") && /@mount|pivot_root|sethostname/.test(line)), "no mount syscalls in the network-facing unit");
  assert.ok(!settings.some((line) => line.startsWith("PrivateNetwork=")), "clients and providers must be reachable");
});

test("clawfleet-runtimes.service has no network, the socket directory, and exactly what bubblewrap needs", () => {
  const settings = settingsOf(RUNTIMES_UNIT);
  for (const line of [
    "PrivateNetwork=yes",
    "IPAddressDeny=any",
    "IPAddressAllow=localhost",
    "RuntimeDirectory=clawfleet-runtimes",
    "RuntimeDirectoryMode=0700",
    "RestrictNamespaces=user pid net ipc uts mnt",
    "SystemCallFilter=@system-service @mount",
    "SystemCallFilter=capset sethostname pivot_root",
    "ExecStart=/usr/bin/node /opt/clawfleet/dist/cli/main.js runtime-host --config /etc/clawfleet/clawfleet.yaml --data-dir /var/lib/clawfleet",
  ]) {
    assert.ok(settings.includes(line), `missing ${line}`);
  }
  // Each of these puts a mount over part of /proc (or blocks sethostname), and bubblewrap's fresh /proc (or
  // --hostname) then fails: see the unit's header.
  for (const setting of ["ProtectKernelTunables=", "ProtectKernelLogs=", "ProcSubset=", "ProtectHostname="]) {
    assert.ok(!settings.some((line) => line.startsWith(setting)), `${setting} breaks bubblewrap`);
  }
  assert.ok(!existsSync(path.resolve("deploy/systemd/clawfleet-sandbox.conf")), "the old sandbox drop-in is gone (it loosened the network-facing unit)");
});
