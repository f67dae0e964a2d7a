/**
 * Admission of a connection, decided right after its TLS handshake: the
 * verdict on the client certificate, with the reason a person needs when it
 * is refused.
 *
 * The TLS stack (rustls) verifies the chain and the validity dates, but a
 * refusal there reaches the client as a bare hang-up and the server's log
 * as "socket hang up". So the handshake is let through whatever rustls
 * thinks, and the verdict is taken here: a connection is admitted only when
 * rustls verified its certificate AND the checks it leaves to the
 * application pass (clientAuth usage, validity, revocation). A refused
 * connection is logged with its reason, every call on it is answered
 * `UNAUTHENTICATED` with that reason before any request is read (one
 * interceptor, in front of every service), and it is closed soon after.
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import * as grpc from "@grpc/grpc-js";
import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import type { Revocations } from "./revocation.ts";

/** Why a certificate was refused: a short, bounded label (logs, metrics). */
export type RefusalReason =
  | "no_certificate"
  | "unreadable"
  | "unknown_ca"
  | "expired"
  | "not_yet_valid"
  | "wrong_eku"
  | "revoked"
  | "bad_name"
  | "bad_role"
  | "unverified";

/** A refused certificate: why, in a label and in words. */
export interface Refusal {
  reason: RefusalReason;
  /** For a person: "expired on 2026-12-02T21:24:00Z". */
  message: string;
  /** The certificate's subject and serial, when it could be read. */
  subject?: string;
  serial?: string;
}

/** What the judge needs to know of a connection. */
export interface Presented {
  /** The client certificate (DER), if one was sent. */
  der?: Uint8Array;
  /** Whether the TLS stack verified it against the CA. */
  verified: boolean;
}

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** A user name (the subject CN): what job listings and paths can carry. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** The roles a subject OU may name. */
export const ROLES = ["admin", "user"] as const;

/** The verdict on a certificate: its parsed form when admitted. */
export type Verdict =
  | { admitted: x509.X509Certificate; refused?: undefined }
  | { refused: Refusal; admitted?: undefined };

/**
 * The verdict on a presented certificate: the parsed certificate when it is
 * admitted, the refusal otherwise. A certificate the TLS stack did not
 * verify is always refused; the checks here only find the words for it.
 *
 * @example
 * ```ts
 * judgeCertificate({ der, verified: socket.authorized }, { cas, revocations });
 * // { refused: { reason: "expired", message: "expired on 2026-12-02T21:24:00Z", ... } }
 * ```
 */
export function judgeCertificate(
  presented: Presented,
  trust: { cas: readonly X509Certificate[]; revocations: Revocations },
  now: Date = new Date(),
): Verdict {
  const { der, verified } = presented;
  if (!der || der.length === 0) {
    return {
      refused: { reason: "no_certificate", message: "no client certificate" },
    };
  }
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(new Uint8Array(der));
  } catch {
    return {
      refused: {
        reason: "unreadable",
        message: "the certificate does not parse",
      },
    };
  }
  const refuse = (reason: RefusalReason, message: string): Verdict => ({
    refused: {
      reason,
      message,
      subject: cert.subject,
      serial: cert.serialNumber.toLowerCase(),
    },
  });
  if (!verified && !issuedByOneOf(der, trust.cas)) {
    return refuse(
      "unknown_ca",
      `issued by "${cert.issuer}", not by this server's CA`,
    );
  }
  if (now < cert.notBefore) {
    return refuse("not_yet_valid", `not valid until ${iso(cert.notBefore)}`);
  }
  if (now > cert.notAfter) {
    return refuse("expired", `expired on ${iso(cert.notAfter)}`);
  }
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku || !eku.usages.map(String).includes(CLIENT_AUTH)) {
    return refuse("wrong_eku", "not for client authentication");
  }
  if (trust.revocations.isRevoked(cert.serialNumber)) {
    return refuse("revoked", "revoked by the CA");
  }
  const cn = cert.subjectName.getField("CN");
  if (cn.length !== 1 || !USER_NAME.test(cn[0])) {
    return refuse("bad_name", "no usable user name (CN)");
  }
  const ou = cert.subjectName.getField("OU");
  if (ou.length !== 1 || !(ROLES as readonly string[]).includes(ou[0])) {
    return refuse(
      "bad_role",
      `role (OU) ${JSON.stringify(ou.join(","))} is not one of ${
        ROLES.join(", ")
      }`,
    );
  }
  if (!verified) return refuse("unverified", "refused by the TLS layer");
  return { admitted: cert };
}

function issuedByOneOf(der: Uint8Array, cas: readonly X509Certificate[]) {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return false;
  }
  return cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
}

/** The certificates of a PEM bundle (the CA file may hold several). */
export function parseCaBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(
    /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
  ) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The words a refused client reads (the gRPC status details). */
export function refusalDetails(refusal: Refusal): string {
  return `the server refused your certificate: ${refusal.message}`;
}

/** How long a refused connection stays open for its calls to hear why. */
export const REFUSED_LINGER_MS = 5_000;

/** Told of each refused connection. */
export type RefusedSink = (refusal: Refusal, client?: string) => void;

/**
 * The admission of a server's connections: the verdict on each one (taken
 * once, when its handshake is done), the refused ones still open by peer
 * address and port, and the interceptor that answers their calls.
 *
 * @example
 * ```ts
 * const admission = new Admission({ cas: parseCaBundle(pem.ca), revocations });
 * const server = new grpc.Server({ interceptors: [admission.interceptor] });
 * // after binding:
 * admission.watch(tlsListeners(server), (refusal, client) => log({ ... }));
 * ```
 */
export class Admission {
  #cas: readonly X509Certificate[];
  readonly #revocations: Revocations;
  readonly #lingerMs: number;
  readonly #verdicts = new WeakMap<TLSSocket, Refusal | null>();
  readonly #refusedByPeer = new Map<string, Refusal>();

  constructor(
    trust: { cas: readonly X509Certificate[]; revocations: Revocations },
    lingerMs = REFUSED_LINGER_MS,
  ) {
    this.#cas = trust.cas;
    this.#revocations = trust.revocations;
    this.#lingerMs = lingerMs;
  }

  /** Judges new connections against `cas` from now on (a reload). */
  replaceCas(cas: readonly X509Certificate[]): void {
    this.#cas = cas;
  }

  /** The verdict on `socket`'s certificate: undefined when admitted. */
  verdictOf(socket: TLSSocket): Refusal | undefined {
    let verdict = this.#verdicts.get(socket);
    if (verdict === undefined) {
      const raw = socket.getPeerCertificate()?.raw;
      verdict = judgeCertificate(
        {
          der: raw ? new Uint8Array(raw) : undefined,
          verified: socket.authorized === true,
        },
        { cas: this.#cas, revocations: this.#revocations },
      ).refused ?? null;
      this.#verdicts.set(socket, verdict);
    }
    return verdict ?? undefined;
  }

  /**
   * Judges every new connection of `listeners` as its handshake completes
   * (before any HTTP/2 frame is read); a refused one is told to `refused`,
   * answered by {@link interceptor} and closed after the linger time.
   */
  watch(
    listeners: readonly {
      prependListener(
        event: "secureConnection",
        fn: (socket: TLSSocket) => void,
      ): void;
    }[],
    refused: RefusedSink,
  ): void {
    for (const listener of listeners) {
      listener.prependListener("secureConnection", (socket) => {
        const refusal = this.verdictOf(socket);
        if (!refusal) return;
        refused(refusal, socket.remoteAddress);
        this.#hold(socket, refusal);
      });
    }
  }

  #hold(socket: TLSSocket, refusal: Refusal): void {
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    this.#refusedByPeer.set(key, refusal);
    const timer = setTimeout(() => socket.destroy(), this.#lingerMs);
    socket.once("close", () => {
      clearTimeout(timer);
      this.#refusedByPeer.delete(key);
    });
  }

  /**
   * The server interceptor: a call on a refused connection gets
   * `UNAUTHENTICATED` with the reason, before its request is read.
   */
  readonly interceptor: grpc.ServerInterceptor = (_method, call) => {
    const info = call.getConnectionInfo();
    const refusal = this.#refusedByPeer.get(
      peerKey(info.remoteAddress, info.remotePort),
    );
    if (!refusal) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata() {
            call.sendStatus({
              code: grpc.status.UNAUTHENTICATED,
              details: refusalDetails(refusal),
            });
          },
        });
      },
    });
  };
}

function peerKey(address: string | undefined, port: number | undefined) {
  return `${address ?? "?"} ${port ?? "?"}`;
}
