/**
 * TLS termination by Clawfleet itself (issue 5, "Hardening"): the certificate chain and private key come from
 * two PEM files (`server.tls.certFile`, `server.tls.keyFile`) and are re-read when either changes, without a
 * restart, through `tls.Server#setSecureContext` (https://nodejs.org/api/tls.html#serversetsecurecontextoptions).
 * A new pair that does not load (unreadable, not PEM, key not matching the certificate, expired or not yet
 * valid) is refused and logged; the server keeps serving the pair it has.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync, unwatchFile, watchFile, type Stats } from "node:fs";
import { createSecureContext } from "node:tls";
import type { Logger } from "../observability/logger.js";

/** Where the PEM files are. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** A loaded, checked certificate and key. */
export interface TlsMaterial {
  /** PEM chain, leaf first. */
  cert: Buffer;
  /** PEM private key of the leaf. */
  key: Buffer;
  /** SHA-256 fingerprint of the leaf (`AA:BB:…`), as `tls.TLSSocket#getPeerCertificate().fingerprint256`. */
  fingerprint256: string;
  subject: string;
  validFrom: Date;
  validTo: Date;
}

/** Why a pair of files cannot be served. `problem` is one sentence naming the file. */
export class TlsMaterialError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = "TlsMaterialError";
  }
}

function readPem(filePath: string, what: string): Buffer {
  try {
    return readFileSync(filePath);
  } catch (error) {
    throw new TlsMaterialError(`${what} ${filePath} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/**
 * Reads and checks a certificate/key pair: both readable, the certificate parses (first PEM block = leaf), the
 * key parses and is the certificate's key, the certificate is valid at `nowMs`, and OpenSSL accepts the pair.
 * @throws TlsMaterialError with the reason.
 */
export function loadTlsMaterial(files: TlsFiles, nowMs: number = Date.now()): TlsMaterial {
  const cert = readPem(files.certFile, "certificate file");
  const key = readPem(files.keyFile, "key file");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new TlsMaterialError(`certificate file ${files.certFile} is not a PEM certificate (${(error as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new TlsMaterialError(`key file ${files.keyFile} is not a PEM private key (${(error as Error).message})`);
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new TlsMaterialError(`key file ${files.keyFile} does not match the certificate in ${files.certFile}`);
  const validFrom = new Date(certificate.validFrom);
  const validTo = new Date(certificate.validTo);
  if (validTo.getTime() <= nowMs) throw new TlsMaterialError(`certificate ${files.certFile} expired on ${validTo.toISOString()}`);
  if (validFrom.getTime() > nowMs) throw new TlsMaterialError(`certificate ${files.certFile} is not valid before ${validFrom.toISOString()}`);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new TlsMaterialError(`OpenSSL refuses the pair ${files.certFile} / ${files.keyFile} (${(error as Error).message})`);
  }
  return { cert, key, fingerprint256: certificate.fingerprint256, subject: certificate.subject, validFrom, validTo };
}

/** The part of `tls.Server` the watcher needs. */
export interface SecureContextTarget {
  setSecureContext(options: { cert: Buffer; key: Buffer }): void;
}

/**
 * Polls the two files (`fs.watchFile`, so renames, symlink swaps as certbot makes, and editors that replace the
 * file are all seen) and swaps the served pair when a changed pair loads. Changes of both files within
 * {@link SETTLE_MS} are taken together (cert and key are rarely replaced atomically).
 */
export class TlsCertificateWatcher {
  private timer: NodeJS.Timeout | null = null;
  private readonly listener = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reload(), SETTLE_MS);
    this.timer.unref();
  };

  constructor(
    private readonly target: SecureContextTarget,
    private readonly files: TlsFiles & { reloadCheckMs: number },
    private current: TlsMaterial,
    private readonly logger: Logger,
  ) {}

  /** The pair being served. */
  get served(): TlsMaterial {
    return this.current;
  }

  start(): void {
    for (const file of [this.files.certFile, this.files.keyFile]) watchFile(file, { interval: this.files.reloadCheckMs, persistent: false }, this.listener);
  }

  /** Re-reads the files now; true when a new pair is served. Never throws (a bad pair is logged). */
  reload(): boolean {
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(this.files);
    } catch (error) {
      const problem = error instanceof TlsMaterialError ? error.problem : String(error);
      this.logger.error({ problem, servedFingerprint: this.current.fingerprint256 }, "TLS certificate reload refused; still serving the previous certificate");
      return false;
    }
    if (next.fingerprint256 === this.current.fingerprint256 && next.key.equals(this.current.key)) return false;
    this.target.setSecureContext({ cert: next.cert, key: next.key });
    this.logger.info({ fingerprint: next.fingerprint256, previous: this.current.fingerprint256, validTo: next.validTo.toISOString() }, "TLS certificate reloaded");
    this.current = next;
    return true;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const file of [this.files.certFile, this.files.keyFile]) unwatchFile(file, this.listener);
  }
}

/** Wait after a file change before reading, so a cert + key pair replaced one after the other is read together (ms). */
export const SETTLE_MS = 250;
