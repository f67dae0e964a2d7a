/**
 * Checks new TLS files before a running server takes them (SIGHUP): a bad
 * file must leave the old configuration in force, never drop the server's
 * connections (grpc-js refuses every connection when a new secure context
 * fails, and Deno's tls does not check that a key belongs to its cert).
 *
 * @module
 */
// tsyringe, used inside @peculiar/x509, needs the Reflect metadata polyfill.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { readRevocationList } from "./revocation.ts";
import type { TlsPem } from "./tls.ts";

/**
 * Throws with the reason when `pem` cannot serve: a CA or certificate that
 * does not parse, a certificate outside its validity, a key that is not
 * the certificate's, or a CRL that is not the CA's.
 */
export async function checkTlsFiles(
  pem: TlsPem,
  now: Date = new Date(),
): Promise<void> {
  new x509.X509Certificate(pem.ca);
  if (pem.crl) await readRevocationList(pem.crl, pem.ca);
  const cert = new x509.X509Certificate(pem.cert);
  if (now < cert.notBefore || now > cert.notAfter) {
    throw new Error(
      `the server certificate is valid from ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}`,
    );
  }
  const algorithm = cert.publicKey.algorithm as EcKeyImportParams;
  const der = decodePem(pem.key);
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("pkcs8", der, algorithm, true, [
      "sign",
    ]);
  } catch (err) {
    throw new Error(
      `the key is not a ${algorithm.name} private key: ${
        (err as Error).message
      }`,
    );
  }
  const { d: _private, ...jwk } = await crypto.subtle.exportKey("jwk", key);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    {
      ...jwk,
      key_ops: ["verify"],
    },
    algorithm,
    true,
    ["verify"],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  const certSpki = new Uint8Array(cert.publicKey.rawData);
  if (
    spki.length !== certSpki.length || spki.some((b, i) => b !== certSpki[i])
  ) {
    throw new Error("the key does not belong to the server certificate");
  }
}

function decodePem(text: string): Uint8Array<ArrayBuffer> {
  const body = text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}
