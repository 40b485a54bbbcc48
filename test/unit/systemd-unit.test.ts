/**
 * The shipped systemd unit stays hardened: `systemd-analyze security --offline=true` must rate its overall
 * exposure at most 2.0 (issue 5, "Hardening"). The sandbox drop-in's effect is measured and printed too.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { promisify } from "node:util";

const run = promisify(execFile);
const SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze";
const UNIT_PATH = path.resolve("deploy/systemd/clawfleet.service");
const SANDBOX_DROP_IN_PATH = path.resolve("deploy/systemd/clawfleet-sandbox.conf");
const MAXIMUM_EXPOSURE = 2.0;
const skip = existsSync(SYSTEMD_ANALYZE) ? false : `${SYSTEMD_ANALYZE} is not installed: cannot score the systemd unit`;

/** Runs `systemd-analyze security --offline=true` on a unit file and returns its overall exposure (0–10). */
async function exposureOf(unitPath: string): Promise<number> {
  // systemd-analyze exits non-zero when the score exceeds its own threshold; the output is still complete.
  const result = await run(SYSTEMD_ANALYZE, ["security", "--offline=true", "--no-pager", unitPath]).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? "", stderr: error.stderr ?? "" }));
  const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(`${result.stdout}\n${result.stderr}`);
  assert.ok(match, `no "Overall exposure level" line in:\n${result.stdout}\n${result.stderr}`);
  return Number(match[1]);
}

test("deploy/systemd/clawfleet.service scores at most 2.0 in systemd-analyze security", { skip }, async () => {
  const exposure = await exposureOf(UNIT_PATH);
  process.stdout.write(`# systemd-analyze security: clawfleet.service overall exposure ${exposure}\n`);
  assert.ok(exposure <= MAXIMUM_EXPOSURE, `exposure ${exposure} > ${MAXIMUM_EXPOSURE}`);
});

test("the unit keeps its load-bearing settings (no capabilities, no W^X, namespaces bubblewrap needs)", () => {
  const unit = readFileSync(UNIT_PATH, "utf8");
  const settings = unit.split("\n").filter((line) => !line.startsWith("#"));
  const has = (line: string) => settings.includes(line);
  for (const line of ["NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/clawfleet", "PrivateTmp=yes", "ProtectHome=yes", "ProtectControlGroups=yes", "CapabilityBoundingSet=", "LockPersonality=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK", "RestrictNamespaces=user pid net ipc uts mnt", "Environment=CLAWFLEET_RUNTIME_SANDBOX=bwrap"]) {
    assert.ok(has(line), `missing ${line}`);
  }
  assert.ok(!settings.some((line) => line.startsWith("MemoryDenyWriteExecute=")), "MemoryDenyWriteExecute breaks V8's JIT");
});

test("with the sandbox drop-in the exposure is measured and stays below 2.5", { skip }, async () => {
  const directory = mkdtempSync(path.join(tmpdir(), "cf-unit-"));
  try {
    // Offline analysis reads `<unit>.d/*.conf` next to the unit file: lay the drop-in out that way.
    const unitCopy = path.join(directory, "clawfleet.service");
    writeFileSync(unitCopy, readFileSync(UNIT_PATH));
    mkdirSync(path.join(directory, "clawfleet.service.d"));
    writeFileSync(path.join(directory, "clawfleet.service.d", "sandbox.conf"), readFileSync(SANDBOX_DROP_IN_PATH));
    const exposure = await exposureOf(unitCopy);
    process.stdout.write(`# systemd-analyze security: clawfleet.service + sandbox drop-in overall exposure ${exposure}\n`);
    assert.ok(exposure > MAXIMUM_EXPOSURE - 1 && exposure < 2.5, `exposure ${exposure}`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
