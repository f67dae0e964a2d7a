/**
 * A tiny certificate authority for development and tests: one CA, leaf
 * certificates for servers and clients. Built on `@peculiar/x509` over
 * WebCrypto so no ASN.1 is written by hand and no `openssl` binary is needed.
 *
 * @module
 */
// tsyringe, used inside @peculiar/x509, needs the Reflect metadata polyfill
// loaded before it.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isIP } from "node:net";

x509.cryptoProvider.set(crypto);

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface Pem {
  cert: string;
  key: string;
}

/** Key algorithms a certificate may carry. */
export type KeyAlgorithm = "ecdsa-p256" | "ed25519";

/** Options of {@link issueCert}. */
export interface IssueOptions {
  /** Subject common name: the user name for clients, the host for servers. */
  cn: string;
  /** Subject organisational unit: the role for clients ("admin", "user"). */
  ou?: string;
  /** Selects the extended key usage: serverAuth or clientAuth. */
  usage: "server" | "client";
  /** DNS names and IP addresses; servers default to localhost and 127.0.0.1. */
  sans?: string[];
  /** Start of validity; default five minutes ago (clock skew). */
  notBefore?: Date;
  /** End of validity; default 90 days on, never past the CA's own end. */
  notAfter?: Date;
  /** Leave out the extended key usage extension (tests of the server's checks). */
  noEku?: boolean;
  /** Key algorithm of the leaf; default ECDSA P-256. */
  algorithm?: KeyAlgorithm;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Longest validity of a CA, in days. */
export const MAX_CA_DAYS = 365;
/** Longest validity of a leaf certificate, in days. */
export const MAX_LEAF_DAYS = 90;
const SKEW_MS = 5 * 60 * 1000;

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING: Record<KeyAlgorithm, Algorithm | EcdsaParams> = {
  "ecdsa-p256": { ...ECDSA_P256, hash: "SHA-256" } as EcdsaParams,
  "ed25519": { name: "Ed25519" },
};
const IMPORT: Record<KeyAlgorithm, Algorithm | EcKeyImportParams> = {
  "ecdsa-p256": ECDSA_P256,
  "ed25519": { name: "Ed25519" },
};

/**
 * Creates a self-signed CA (at most one year) able to sign certificates.
 *
 * @example
 * ```ts
 * const ca = await createCa({ cn: "jobworker dev CA" });
 * ```
 */
export async function createCa(
  opts: { cn: string; days?: number; algorithm?: KeyAlgorithm },
): Promise<Pem> {
  const days = opts.days ?? MAX_CA_DAYS;
  if (!(days > 0 && days <= MAX_CA_DAYS)) {
    throw new RangeError(
      `CA validity must be 1..${MAX_CA_DAYS} days, got ${days}`,
    );
  }
  const algorithm = opts.algorithm ?? "ecdsa-p256";
  const keys = await generateKeys(algorithm);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [opts.cn] }],
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(now + days * DAY_MS),
    signingAlgorithm: SIGNING[algorithm],
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    cert: cert.toString("pem") + "\n",
    key: await exportKey(keys.privateKey),
  };
}

/**
 * Issues a server or client certificate signed by `ca` (at most 90 days),
 * with a fresh key pair and a random serial.
 *
 * @example
 * ```ts
 * const ca = await createCa({ cn: "test CA" });
 * const alice = await issueCert(ca, { cn: "alice", ou: "user", usage: "client" });
 * ```
 */
export async function issueCert(ca: Pem, opts: IssueOptions): Promise<Pem> {
  const algorithm = opts.algorithm ?? "ecdsa-p256";
  const keys = await generateKeys(algorithm);
  return {
    cert: await signPublicKey(ca, keys.publicKey, algorithm, opts),
    key: await exportKey(keys.privateKey),
  };
}

/**
 * A key and a certificate signing request for `cn`, made on the user's
 * side: the private key never leaves it; the CA signs the request
 * ({@link signRequest}) and decides the role.
 */
export async function createRequest(
  cn: string,
  algorithm: KeyAlgorithm = "ecdsa-p256",
): Promise<{ csr: string; key: string }> {
  const keys = await generateKeys(algorithm);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [cn] }],
    keys,
    signingAlgorithm: SIGNING[algorithm],
  });
  return {
    csr: csr.toString("pem") + "\n",
    key: await exportKey(keys.privateKey),
  };
}

/**
 * A client certificate for the key of `csrPem` (its signature checked: the
 * requester holds the key), with the request's CN and the role `ou` the CA
 * gives; whatever else the request asks for is ignored.
 */
export async function signRequest(
  ca: Pem,
  csrPem: string,
  ou: string,
): Promise<{ cn: string; cert: string }> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err) {
    throw new RangeError(
      `not a certificate request: ${(err as Error).message}`,
    );
  }
  if (!await csr.verify()) {
    throw new RangeError("the request's signature does not match its key");
  }
  const cn = csr.subjectName.getField("CN")[0];
  if (!cn) throw new RangeError("the request has no CN (user name)");
  const publicKey = await csr.publicKey.export();
  const algorithm = publicKey.algorithm.name === "Ed25519"
    ? "ed25519"
    : "ecdsa-p256";
  const cert = await signPublicKey(ca, publicKey, algorithm, {
    cn,
    ou,
    usage: "client",
  });
  return { cn, cert };
}

/** A certificate for `publicKey` signed by `ca`. */
async function signPublicKey(
  ca: Pem,
  publicKey: CryptoKey,
  algorithm: KeyAlgorithm,
  opts: IssueOptions,
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caAlgorithm = keyAlgorithmOf(caCert);
  const caKey = await importKey(ca.key, caAlgorithm);
  const { notBefore, notAfter } = validity(opts, caCert.notAfter);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      algorithm === "ecdsa-p256"
        ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement
        : x509.KeyUsageFlags.digitalSignature,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (!opts.noEku) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension([
        opts.usage === "server"
          ? x509.ExtendedKeyUsage.serverAuth
          : x509.ExtendedKeyUsage.clientAuth,
      ]),
    );
  }
  const sans = opts.sans ??
    (opts.usage === "server" ? ["localhost", "127.0.0.1"] : []);
  if (sans.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        sans.map((name): x509.JsonGeneralName => ({
          type: isIP(name) ? "ip" : "dns",
          value: name,
        })),
      ),
    );
  }

  const subject: x509.JsonName = [{ CN: [opts.cn] }];
  if (opts.ou !== undefined) subject.push({ OU: [opts.ou] });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: caCert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING[caAlgorithm],
    publicKey,
    signingKey: caKey,
    extensions,
  });
  return cert.toString("pem") + "\n";
}

function validity(
  opts: IssueOptions,
  caNotAfter: Date,
): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - SKEW_MS);
  const notAfter = opts.notAfter ??
    new Date(Math.min(now + MAX_LEAF_DAYS * DAY_MS, caNotAfter.getTime()));
  const span = notAfter.getTime() - notBefore.getTime();
  if (!(span > 0)) {
    throw new RangeError("notAfter must be later than notBefore");
  }
  if (span > MAX_LEAF_DAYS * DAY_MS + SKEW_MS) {
    throw new RangeError(
      `leaf certificates live at most ${MAX_LEAF_DAYS} days`,
    );
  }
  return { notBefore, notAfter };
}

function generateKeys(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(IMPORT[algorithm], true, [
    "sign",
    "verify",
  ]) as Promise<CryptoKeyPair>;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY") + "\n";
}

function importKey(pem: string, algorithm: KeyAlgorithm): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return crypto.subtle.importKey("pkcs8", der, IMPORT[algorithm], false, [
    "sign",
  ]);
}

function keyAlgorithmOf(cert: x509.X509Certificate): KeyAlgorithm {
  const { name } = cert.publicKey.algorithm;
  if (name === "Ed25519") return "ed25519";
  if (name === "ECDSA") return "ecdsa-p256";
  throw new RangeError(`unsupported CA key algorithm ${name}`);
}

/** 128 random bits, top bit clear so the DER INTEGER stays positive. */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A certificate the CA has revoked: its serial (hex) and when. */
export interface Revoked {
  serial: string;
  date: Date;
}

/**
 * A certificate revocation list (PEM) signed by `ca`, listing `revoked`;
 * servers (`--crl`) refuse those certificates. It says when the next one is
 * due (`days`, default 30): issue a new one before then.
 *
 * @example
 * ```ts
 * const crl = await createCrl(ca, [{ serial: "0a1b", date: new Date() }]);
 * ```
 */
export async function createCrl(
  ca: Pem,
  revoked: readonly Revoked[],
  { days = 30, now = new Date() }: { days?: number; now?: Date } = {},
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caAlgorithm = keyAlgorithmOf(caCert);
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subject,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + days * 86_400_000),
    entries: revoked.map((r) => ({
      serialNumber: r.serial,
      revocationDate: r.date,
    })),
    signingKey: await importKey(ca.key, caAlgorithm),
    signingAlgorithm: SIGNING[caAlgorithm],
  });
  return crl.toString("pem") + "\n";
}
