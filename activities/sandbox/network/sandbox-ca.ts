import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import forge from 'node-forge';

/** A certificate and its private key, both PEM. */
export interface KeyAndCertificate {
  key: string;
  cert: string;
}

/** Where a sandbox finds the CA bundle that trusts Keel's CA (mounted read-only). */
export const SANDBOX_CA_BUNDLE_PATH = '/etc/keel/ca-bundle.pem';

/** The variables that point common tools (OpenSSL, Python, curl, pip, Node) at `SANDBOX_CA_BUNDLE_PATH`. */
export const SANDBOX_CA_VARIABLES: readonly string[] = [
  'SSL_CERT_FILE',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'PIP_CERT',
  'NODE_EXTRA_CA_CERTS',
].map((name) => `${name}=${SANDBOX_CA_BUNDLE_PATH}`);

const LEAF_DAYS = 30;
const CA_YEARS = 10;

/**
 * Keel's sandbox CA: the certificate authority the egress proxy signs a host's certificate with when it opens an https
 * request to substitute vault secrets. It lives in `<dataDir>/sandbox-ca/` (key mode 0600), made once and shared by the
 * workers of that data folder; `bundlePath` is the system's trusted CAs plus this one, which sandboxes with vault
 * secrets trust. Host certificates are made on first use and kept in memory.
 */
export class SandboxCa {
  readonly bundlePath: string;
  readonly #ca: KeyAndCertificate;
  readonly #leafKey: forge.pki.rsa.PrivateKey;
  readonly #leafPublicKey: forge.pki.rsa.PublicKey;
  readonly #leaves = new Map<string, KeyAndCertificate>();

  /** Loads (or makes) the CA of `dataDir`; `systemBundlePath` is the CA bundle the sandbox otherwise trusts. */
  constructor(dataDir: string, systemBundlePath: string | undefined) {
    const folder = path.join(dataDir, 'sandbox-ca');
    this.#ca = loadOrCreateCa(folder);
    const system = systemBundlePath !== undefined && existsSync(systemBundlePath) ? readFileSync(systemBundlePath) : '';
    this.bundlePath = path.join(folder, 'bundle.pem');
    const bundle = `${String(system).trimEnd()}\n${this.#ca.cert}`;
    if (!existsSync(this.bundlePath) || readFileSync(this.bundlePath, 'utf8') !== bundle) {
      const temporary = `${this.bundlePath}.${randomBytes(6).toString('hex')}`;
      writeFileSync(temporary, bundle, { mode: 0o644 });
      renameSync(temporary, this.bundlePath);
    }
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#leafKey = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    this.#leafPublicKey = forge.pki.setRsaPublicKey(this.#leafKey.n, this.#leafKey.e);
  }

  /** The CA certificate, PEM. */
  get certificate(): string {
    return this.#ca.cert;
  }

  /** A certificate for `host` (a name or an IP address), signed by the CA. */
  leafFor(host: string): KeyAndCertificate {
    const known = this.#leaves.get(host);
    if (known !== undefined) return known;
    const certificate = forge.pki.createCertificate();
    certificate.publicKey = this.#leafPublicKey;
    certificate.serialNumber = serialNumber();
    certificate.validity.notBefore = new Date(Date.now() - 3_600_000);
    certificate.validity.notAfter = new Date(Date.now() + LEAF_DAYS * 86_400_000);
    const caCertificate = forge.pki.certificateFromPem(this.#ca.cert);
    certificate.setSubject([{ name: 'commonName', value: host.slice(0, 64) }]);
    certificate.setIssuer(caCertificate.subject.attributes);
    const altName = net.isIP(host) === 0 ? { type: 2, value: host } : { type: 7, ip: host };
    certificate.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [altName] },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: caCertificate.generateSubjectKeyIdentifier().getBytes() },
    ]);
    certificate.sign(forge.pki.privateKeyFromPem(this.#ca.key), forge.md.sha256.create());
    const leaf = { key: forge.pki.privateKeyToPem(this.#leafKey), cert: forge.pki.certificateToPem(certificate) };
    this.#leaves.set(host, leaf);
    return leaf;
  }
}

/** The CA in `folder`, made there first when missing; two processes racing agree on the first one written. */
function loadOrCreateCa(folder: string): KeyAndCertificate {
  const read = (): KeyAndCertificate => ({
    key: readFileSync(path.join(folder, 'ca.key'), 'utf8'),
    cert: readFileSync(path.join(folder, 'ca.pem'), 'utf8'),
  });
  if (existsSync(path.join(folder, 'ca.pem'))) return read();
  mkdirSync(path.dirname(folder), { recursive: true });
  const staging = mkdtempSync(`${folder}.`);
  const made = createCa();
  writeFileSync(path.join(staging, 'ca.key'), made.key, { mode: 0o600 });
  writeFileSync(path.join(staging, 'ca.pem'), made.cert, { mode: 0o644 });
  try {
    renameSync(staging, folder);
  } catch {
    // Another process made it first: its CA is the one.
    rmSync(staging, { recursive: true, force: true });
  }
  return read();
}

function createCa(): KeyAndCertificate {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  certificate.serialNumber = serialNumber();
  certificate.validity.notBefore = new Date(Date.now() - 3_600_000);
  certificate.validity.notAfter = new Date(Date.now() + CA_YEARS * 365 * 86_400_000);
  const name = [
    { name: 'commonName', value: `Keel sandbox egress CA ${randomBytes(4).toString('hex')}` },
    { name: 'organizationName', value: 'Keel' },
  ];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  certificate.sign(key, forge.md.sha256.create());
  return { key: forge.pki.privateKeyToPem(key), cert: forge.pki.certificateToPem(certificate) };
}

/** A positive random serial number, as hex. */
function serialNumber(): string {
  return `01${randomBytes(15).toString('hex')}`;
}
