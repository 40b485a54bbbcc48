import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isClawfleetError } from "../../src/contracts/errors.js";
import { tenantLayout } from "../../src/runtime/drivers/process/layout.js";
import {
  buildSandboxCommand,
  sandboxGroup,
  sandboxHostname,
  sandboxPasswd,
  type SandboxPlan,
} from "../../src/runtime/drivers/process/sandbox.js";

const basePlan: SandboxPlan = {
  tenantId: "alpha",
  bwrapPath: "/usr/bin/bwrap",
  setprivPath: "/usr/bin/setpriv",
  nodeDir: "/opt/clawfleet/runtime/node",
  openclawDir: "/opt/clawfleet/runtime/openclaw",
  launcherPath: "/opt/clawfleet/runtime/launcher/launcher.mjs",
  tenantRoot: "/var/lib/clawfleet/tenants/alpha",
  gatewaySocketDir: "/var/lib/clawfleet/run/alpha/gw",
  modelSocketDir: "/var/lib/clawfleet/run/alpha/model",
  passwdPath: "/var/lib/clawfleet/run/alpha/etc/passwd",
  groupPath: "/var/lib/clawfleet/run/alpha/etc/group",
  readOnlySystemPaths: ["/etc/hosts", "/etc/ssl"],
  usrSymlinks: [{ link: "/bin", target: "usr/bin" }],
  uid: null,
  unprivileged: false,
  infoFd: 3,
  extraEnvironment: {},
};

/** The bwrap part of the argv (after setpriv when present). */
function bwrapArgs(plan: SandboxPlan): string[] {
  const { command, args } = buildSandboxCommand(plan);
  if (command === plan.bwrapPath) return args;
  const index = args.indexOf(plan.bwrapPath);
  assert.ok(index >= 0, "setpriv must exec bwrap");
  return args.slice(index + 1);
}

/** The sandbox options only (before the `--` that starts the launcher command). */
function sandboxOptions(plan: SandboxPlan): string[] {
  const args = bwrapArgs(plan);
  return args.slice(0, args.indexOf("--"));
}

/** All (source, destination) pairs of a given bind flag. */
function binds(options: string[], flag: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  options.forEach((value, index) => {
    if (value === flag) pairs.push([options[index + 1] ?? "", options[index + 2] ?? ""]);
  });
  return pairs;
}

describe("buildSandboxCommand", () => {
  it("unshares the network, pid, ipc and uts namespaces and drops every capability", () => {
    const options = sandboxOptions(basePlan);
    for (const flag of ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session"]) {
      assert.ok(options.includes(flag), `${flag} missing`);
    }
    assert.equal(options[options.indexOf("--cap-drop") + 1], "ALL");
    assert.equal(options[options.indexOf("--hostname") + 1], "oc-alpha");
    assert.ok(!options.includes("--share-net"));
  });

  it("never binds the host root and keeps the sandbox root read-only", () => {
    const options = sandboxOptions(basePlan);
    for (const flag of ["--bind", "--ro-bind", "--dev-bind", "--bind-try", "--ro-bind-try"]) {
      for (const [source] of binds(options, flag)) assert.notEqual(source, "/", `${flag} / found`);
    }
    assert.equal(options[options.indexOf("--remount-ro") + 1], "/");
    assert.ok(options.lastIndexOf("--remount-ro") > options.lastIndexOf("--bind"), "--remount-ro / must come after the binds");
  });

  it("makes only the tenant root and the inbound socket directory writable", () => {
    const options = sandboxOptions(basePlan);
    assert.deepEqual(binds(options, "--bind"), [
      ["/var/lib/clawfleet/tenants/alpha", "/srv/tenant"],
      ["/var/lib/clawfleet/run/alpha/gw", "/run/oc/gw"],
    ]);
    assert.ok(!options.includes("--dev-bind"));
    const readOnly = binds(options, "--ro-bind");
    assert.deepEqual(readOnly.find(([, destination]) => destination === "/run/oc/model"), ["/var/lib/clawfleet/run/alpha/model", "/run/oc/model"]);
    assert.deepEqual(readOnly.find(([, destination]) => destination === "/opt/node"), ["/opt/clawfleet/runtime/node", "/opt/node"]);
    assert.deepEqual(readOnly.find(([, destination]) => destination === "/opt/oc"), ["/opt/clawfleet/runtime/openclaw", "/opt/oc"]);
    assert.deepEqual(readOnly.find(([, destination]) => destination === "/etc/passwd"), ["/var/lib/clawfleet/run/alpha/etc/passwd", "/etc/passwd"]);
    assert.deepEqual(readOnly.find(([, destination]) => destination === "/etc/hosts"), ["/etc/hosts", "/etc/hosts"]);
    assert.equal(options[options.indexOf("--tmpfs") - 1], String(256 * 1024 * 1024));
  });

  it("clears the environment and points OpenClaw at the tenant root", () => {
    const options = sandboxOptions({ ...basePlan, extraEnvironment: { NODE_COMPILE_CACHE: "/srv/tenant/home/.cache/c" } });
    assert.ok(options.indexOf("--clearenv") < options.indexOf("--setenv"));
    const environment = new Map<string, string>();
    options.forEach((value, index) => {
      if (value === "--setenv") environment.set(options[index + 1] ?? "", options[index + 2] ?? "");
    });
    assert.equal(environment.get("HOME"), "/srv/tenant/home");
    assert.equal(environment.get("TMPDIR"), "/tmp");
    assert.equal(environment.get("OPENCLAW_STATE_DIR"), "/srv/tenant/state");
    assert.equal(environment.get("OPENCLAW_CONFIG_PATH"), "/srv/tenant/state/openclaw.json");
    assert.equal(environment.get("OPENCLAW_CONFIG_READONLY"), "1", "the runtime must not rewrite its platform-rendered config");
    assert.equal(environment.get("NODE_COMPILE_CACHE"), "/srv/tenant/home/.cache/c");
    assert.equal(options[options.indexOf("--chdir") + 1], "/srv/tenant");
  });

  it("runs the launcher with both bridges, then the gateway", () => {
    const args = bwrapArgs(basePlan);
    const command = args.slice(args.indexOf("--") + 1);
    assert.deepEqual(command, [
      "/opt/node/bin/node",
      "/opt/clawfleet/launcher.mjs",
      "--map",
      "unix:/run/oc/gw/gw.sock=tcp:127.0.0.1:18789",
      "--map",
      "tcp:127.0.0.1:19100=unix:/run/oc/model/model.sock",
      "--",
      "/opt/node/bin/node",
      "/opt/oc/node_modules/openclaw/openclaw.mjs",
      "gateway",
      "run",
      "--port",
      "18789",
    ]);
  });

  it("runs bwrap directly as the platform user when no uid is given", () => {
    const { command } = buildSandboxCommand(basePlan);
    assert.equal(command, "/usr/bin/bwrap");
    assert.ok(!sandboxOptions(basePlan).includes("--unshare-user"));
  });

  it("switches to the tenant uid with setpriv and an unprivileged user namespace", () => {
    const plan = { ...basePlan, uid: 10001 };
    const { command, args } = buildSandboxCommand(plan);
    assert.equal(command, "/usr/bin/setpriv");
    assert.deepEqual(args.slice(0, 5), ["--reuid=10001", "--regid=10001", "--clear-groups", "--", "/usr/bin/bwrap"]);
    const options = sandboxOptions(plan);
    assert.ok(options.includes("--unshare-user"));
    assert.ok(options.includes("--disable-userns"));
    assert.equal(options[options.indexOf("--cap-drop") + 1], "ALL");
  });

  it("uses its own user namespace when the platform is not root", () => {
    const options = sandboxOptions({ ...basePlan, unprivileged: true });
    assert.ok(options.includes("--unshare-user") && options.includes("--disable-userns"));
  });

  it("rejects relative paths and bad uids", () => {
    assert.throws(() => buildSandboxCommand({ ...basePlan, tenantRoot: "tenants/alpha" }), /absolute/);
    assert.throws(() => buildSandboxCommand({ ...basePlan, uid: -1 }), /invalid sandbox uid/);
  });
});

describe("sandbox helpers", () => {
  it("keeps hostnames within a DNS label", () => {
    const long = "a".repeat(63);
    assert.ok(sandboxHostname(long).length <= 63);
    assert.equal(sandboxHostname("a-b"), "oc-a-b");
  });

  it("generates two-line passwd and group files", () => {
    assert.equal(sandboxPasswd(10001), "root:x:0:0:root:/root:/usr/sbin/nologin\ntenant:x:10001:10001:tenant:/srv/tenant/home:/bin/sh\n");
    assert.equal(sandboxGroup(10001), "root:x:0:\ntenant:x:10001:\n");
  });
});

describe("tenantLayout", () => {
  it("places tenant files and sockets under the data dir", () => {
    const layout = tenantLayout("/var/lib/clawfleet", "alpha");
    assert.equal(layout.tenantRoot, "/var/lib/clawfleet/tenants/alpha");
    assert.equal(layout.configPath, "/var/lib/clawfleet/tenants/alpha/state/openclaw.json");
    assert.equal(layout.runtimeLogPath, "/var/lib/clawfleet/tenants/alpha/logs/runtime.log");
    assert.equal(layout.gatewaySocketPath, "/var/lib/clawfleet/run/alpha/gw/gw.sock");
    assert.equal(layout.endpointSocketPath, "/var/lib/clawfleet/run/alpha/gateway.sock");
    assert.equal(layout.modelSocketPath, "/var/lib/clawfleet/run/alpha/model/model.sock");
  });

  it("rejects bad tenant ids and over-long socket paths", () => {
    assert.throws(() => tenantLayout("/data", "../etc"), (error: unknown) => isClawfleetError(error) && error.code === "CF_VALIDATION_FAILED");
    assert.throws(
      () => tenantLayout(`/${"d".repeat(60)}`, "t".repeat(40)),
      (error: unknown) => isClawfleetError(error) && error.code === "CF_CONFIG_INVALID" && /107/.test(error.message),
    );
  });
});
