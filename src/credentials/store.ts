/**
 * The provider credential store: every provider's secret, loaded once at start and kept fresh in memory, so the
 * hot path reads it synchronously (`get`) and a rotated secret is used without a restart.
 *
 * - `start()` loads every source (in parallel) and fails as a whole with ONE `ClawfleetError`
 *   `CF_CONFIG_INVALID` listing every provider whose source could not be read (`details.failures:
 *   [{provider, source, reason}]`); messages and details name the provider and the source, never a secret.
 * - Afterwards, env and AWS sources (Secrets Manager, SSM) are re-read every `refreshMs` (default 300_000 ms,
 *   AWS's own caching guidance for secrets), and file sources whenever their mtime, inode or size changes
 *   (checked every `fileCheckMs`, default 1_000 ms; this also catches Kubernetes' atomic symlink swaps).
 * - A failed refresh keeps the last good value and logs a warning; a changed value is logged as a rotation.
 *   Log entries carry `{provider, source, reason}` only.
 * - `stop()` ends the timers and releases AWS clients.
 */
import { ClawfleetError } from "../contracts/errors.js";
import { AwsSecretReader, readEnvSecret, readFileSecret, stampOf, type FileStamp, type ReadResult } from "./readers.js";
import { describeCredentialSource, type CredentialSource } from "./schema.js";

/** The slice of a pino logger the store uses. */
export interface CredentialLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export interface CredentialStoreOptions {
  /** Period of env and AWS re-reads, ms (default 300_000). */
  refreshMs?: number;
  /** Period of file change checks, ms (default 1_000). */
  fileCheckMs?: number;
  logger?: CredentialLogger;
  /** Environment to read env sources from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** One provider whose source could not be read at start. */
export interface CredentialFailure {
  provider: string;
  source: string;
  reason: string;
}

interface Entry {
  provider: string;
  source: CredentialSource;
  description: string;
  value: string | undefined;
  /** File sources: the stamp of the version `value` came from. */
  stamp: FileStamp | undefined;
}

const SILENT_LOGGER: CredentialLogger = { info: () => undefined, warn: () => undefined };

export class CredentialStore {
  private readonly entries = new Map<string, Entry>();
  private readonly aws = new AwsSecretReader();
  private readonly refreshMs: number;
  private readonly fileCheckMs: number;
  private readonly logger: CredentialLogger;
  private readonly env: NodeJS.ProcessEnv;
  private refreshTimer: NodeJS.Timeout | undefined;
  private fileTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private checkingFiles: Promise<void> | undefined;

  /** `sources` maps provider ids to where their secret comes from (validated config). */
  constructor(sources: Record<string, CredentialSource>, options: CredentialStoreOptions = {}) {
    this.refreshMs = options.refreshMs ?? 300_000;
    this.fileCheckMs = options.fileCheckMs ?? 1_000;
    this.logger = options.logger ?? SILENT_LOGGER;
    this.env = options.env ?? process.env;
    for (const [provider, source] of Object.entries(sources)) {
      this.entries.set(provider, { provider, source, description: describeCredentialSource(source), value: undefined, stamp: undefined });
    }
  }

  /**
   * Loads every source, then starts the refresh timers.
   * @throws ClawfleetError CF_CONFIG_INVALID naming each provider and source that failed (never a secret).
   */
  async start(): Promise<void> {
    const failures: CredentialFailure[] = [];
    await Promise.all(
      [...this.entries.values()].map(async (entry) => {
        const stamp = entry.source.source === "file" ? await stampOf(entry.source.path) : undefined;
        const result = await this.read(entry.source);
        if (result.ok) {
          entry.value = result.value;
          entry.stamp = stamp;
        } else {
          failures.push({ provider: entry.provider, source: entry.description, reason: result.reason });
        }
      }),
    );
    if (failures.length > 0) {
      this.aws.destroy();
      const list = failures.map((failure) => `provider ${failure.provider} (${failure.source}): ${failure.reason}`).join("; ");
      throw new ClawfleetError("CF_CONFIG_INVALID", `provider credentials could not be loaded: ${list}`, { details: { failures } });
    }
    this.clearTimers();
    this.refreshTimer = setInterval(() => void this.refresh(), this.refreshMs);
    this.refreshTimer.unref();
    if ([...this.entries.values()].some((entry) => entry.source.source === "file")) {
      this.fileTimer = setInterval(() => void this.checkFiles(), this.fileCheckMs);
      this.fileTimer.unref();
    }
  }

  /**
   * The current secret of `providerId`. Synchronous, from memory.
   * @throws ClawfleetError CF_CONFIG_INVALID when the provider has no credential source; CF_INTERNAL when
   * `start()` has not loaded it.
   */
  get(providerId: string): string {
    const entry = this.entries.get(providerId);
    if (!entry) throw new ClawfleetError("CF_CONFIG_INVALID", `provider ${providerId} has no credential source`, { details: { provider: providerId } });
    if (entry.value === undefined) throw new ClawfleetError("CF_INTERNAL", `the credential of provider ${providerId} is not loaded (CredentialStore.start() was not awaited)`, { details: { provider: providerId } });
    return entry.value;
  }

  /** True when `providerId` has a credential source. */
  has(providerId: string): boolean {
    return this.entries.has(providerId);
  }

  /** Re-reads env and AWS sources now (what the timer does); concurrent calls share one pass. */
  refresh(): Promise<void> {
    this.refreshing ??= this.reloadWhere((entry) => entry.source.source !== "file").finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Re-reads the file sources whose file changed (what the file timer does). */
  checkFiles(): Promise<void> {
    this.checkingFiles ??= this.reloadChangedFiles().finally(() => {
      this.checkingFiles = undefined;
    });
    return this.checkingFiles;
  }

  /** Stops the timers and releases the AWS clients. Values stay readable. */
  stop(): void {
    this.clearTimers();
    this.aws.destroy();
  }

  private clearTimers(): void {
    clearInterval(this.refreshTimer);
    clearInterval(this.fileTimer);
    this.refreshTimer = undefined;
    this.fileTimer = undefined;
  }

  private read(source: CredentialSource): Promise<ReadResult> {
    switch (source.source) {
      case "env":
        return Promise.resolve(readEnvSecret(this.env, source.name));
      case "file":
        return readFileSecret(source.path);
      case "aws-secrets-manager":
        return this.aws.readSecretsManager(source);
      case "aws-ssm":
        return this.aws.readSsm(source);
    }
  }

  private async reloadWhere(selected: (entry: Entry) => boolean): Promise<void> {
    await Promise.all([...this.entries.values()].filter(selected).map((entry) => this.reload(entry, undefined)));
  }

  private async reloadChangedFiles(): Promise<void> {
    await Promise.all(
      [...this.entries.values()].map(async (entry) => {
        if (entry.source.source !== "file") return;
        const stamp = await stampOf(entry.source.path);
        if (stamp === undefined || sameStamp(stamp, entry.stamp)) return;
        await this.reload(entry, stamp);
      }),
    );
  }

  private async reload(entry: Entry, stamp: FileStamp | undefined): Promise<void> {
    const result = await this.read(entry.source);
    if (!result.ok) {
      this.logger.warn({ provider: entry.provider, source: entry.description, reason: result.reason }, "provider credential refresh failed; keeping the last value");
      return;
    }
    if (stamp !== undefined) entry.stamp = stamp;
    if (result.value === entry.value) return;
    entry.value = result.value;
    this.logger.info({ provider: entry.provider, source: entry.description }, "provider credential rotated");
  }
}

function sameStamp(left: FileStamp, right: FileStamp | undefined): boolean {
  return right !== undefined && left.mtimeMs === right.mtimeMs && left.inode === right.inode && left.size === right.size;
}
