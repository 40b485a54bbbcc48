/** The `process` runtime driver: one OpenClaw gateway per tenant as a local (bubblewrap-sandboxed) process. */
export { ProcessRuntimeDriver, type ProcessRuntimeDriverOptions } from "./driver.js";
export { tenantLayout, SANDBOX_PATHS, type TenantLayout } from "./layout.js";
export { buildSandboxCommand, type SandboxPlan, type SandboxCommand } from "./sandbox.js";
export { detectSandboxSupport, type SandboxSupport } from "./sandbox-support.js";
