/**
 * Certificate revocation: a CRL from the clients' CA (`--crl FILE`),
 * checked when a connection's handshake is done and at every call, and
 * replaced on SIGHUP. Deno's TLS has no CRL support, so the server checks
 * it itself, after the TLS layer has verified the chain.
 *
 * @module
 */
// tsyringe, used inside @peculiar/x509, needs the Reflect metadata polyfill.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { JobError } from "../lib/errors.ts";

x509.cryptoProvider.set(crypto);

/** A verified CRL: the revoked serials, and when it is due to be replaced. */
export interface RevocationList {
  serials: ReadonlySet<string>;
  thisUpdate: Date;
  nextUpdate?: Date;
}

/**
 * Parses `crlPem` and checks it is the CA's: issued by `caPem`'s subject and
 * signed with its key. Throws with the reason otherwise.
 */
export async function readRevocationList(
  crlPem: string,
  caPem: string,
): Promise<RevocationList> {
  const ca = new x509.X509Certificate(caPem);
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(crlPem);
  } catch (err) {
    throw new Error(`the CRL does not parse: ${(err as Error).message}`);
  }
  if (crl.issuer !== ca.subject) {
    throw new Error(
      `the CRL is issued by "${crl.issuer}", not by the CA "${ca.subject}"`,
    );
  }
  if (!await crl.verify({ publicKey: ca })) {
    throw new Error("the CRL's signature is not the CA's");
  }
  return {
    serials: new Set(crl.entries.map((e) => normalSerial(e.serialNumber))),
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
  };
}

/** The list in force; swapped whole on reload. */
export class Revocations {
  #list: RevocationList | undefined;

  constructor(list?: RevocationList) {
    this.#list = list;
  }

  get list(): RevocationList | undefined {
    return this.#list;
  }

  replace(list: RevocationList | undefined): void {
    this.#list = list;
  }

  /** Whether the list in force names the hex `serial`. */
  isRevoked(serial: string): boolean {
    return this.#list?.serials.has(normalSerial(serial)) ?? false;
  }

  /** Throws `permission_denied` when the certificate `der` is revoked. */
  check(der: Uint8Array | undefined): void {
    if (!this.#list?.serials.size || !der) return;
    const cert = new x509.X509Certificate(new Uint8Array(der));
    if (this.isRevoked(cert.serialNumber)) {
      throw new JobError("permission_denied", "certificate is revoked");
    }
  }
}

/** Hex serial, lowercase, without leading zeros (DER may pad it). */
function normalSerial(serial: string): string {
  return serial.toLowerCase().replace(/^0+(?=.)/, "");
}
