/**
 * Test certificates made with the openssl CLI: a self-signed EC P-256 certificate for `localhost` and
 * 127.0.0.1, optionally with explicit validity dates (through `openssl ca -selfsign`, as OpenSSL 3.0's
 * `req -x509` cannot back-date).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TestCertificate {
  cert: string;
  key: string;
}

/** A fresh pair valid for `days` from now, or between two `YYYYMMDDHHMMSSZ` dates. */
export function makeCertificate(options: { days?: number; startDate?: string; endDate?: string; commonName?: string } = {}): TestCertificate {
  const directory = mkdtempSync(path.join(tmpdir(), "cf-cert-"));
  try {
    const keyPath = path.join(directory, "key.pem");
    const certPath = path.join(directory, "cert.pem");
    const subject = `/CN=${options.commonName ?? "localhost"}`;
    const run = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
    if (options.startDate === undefined) {
      run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", String(options.days ?? 2), "-subj", subject, "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]);
    } else {
      const config = path.join(directory, "ca.cnf");
      writeFileSync(config, `[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\ndir = ${directory}\ndatabase = ${directory}/index.txt\nnew_certs_dir = ${directory}\nserial = ${directory}/serial\ndefault_md = sha256\npolicy = policy_any\n[ policy_any ]\ncommonName = supplied\n`);
      writeFileSync(path.join(directory, "index.txt"), "");
      writeFileSync(path.join(directory, "serial"), "01\n");
      const csr = path.join(directory, "csr.pem");
      run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath, "-out", csr, "-subj", subject]);
      run(["ca", "-batch", "-config", config, "-selfsign", "-keyfile", keyPath, "-in", csr, "-out", certPath, "-startdate", options.startDate, "-enddate", options.endDate ?? options.startDate, "-notext"]);
    }
    return { cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8") };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
