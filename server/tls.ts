/**
 * Mutual TLS for the server: TLS 1.3 only, a client certificate requested and
 * verified against the CA. The handshake is let through when verification
 * fails, so that admission.ts can say why: it refuses every connection whose
 * certificate the TLS stack did not verify, with the reason.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type { ServerHttp2Session } from "node:http2";
import type { TLSSocket } from "node:tls";

/**
 * PEM texts of the CA that signs clients, of the server's own cert/key, and
 * of the CA's revocation list, if one is used.
 */
export interface TlsPem {
  ca: string;
  cert: string;
  key: string;
  crl?: string;
}

/** Reads the PEM files (the CRL only when a path is given). */
export async function readTlsFiles(
  paths: { ca: string; cert: string; key: string; crl?: string },
): Promise<TlsPem> {
  const [ca, cert, key, crl] = await Promise.all(
    [paths.ca, paths.cert, paths.key, paths.crl].map((path) =>
      path === undefined ? undefined : Deno.readTextFile(path)
    ),
  );
  return { ca: ca!, cert: cert!, key: key!, ...(crl ? { crl } : {}) };
}

/** How long a client may take to finish the TLS handshake. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Server credentials: TLS 1.3 only; a client certificate is requested and
 * verified against `ca`, and the verdict (`socket.authorized`) left to
 * admission.ts. grpc-js' createSsl cannot set the protocol version, so these
 * are its SecureServerCredentials with minVersion added.
 */
export class MutualTlsCredentials extends grpc.ServerCredentials {
  constructor(pem: TlsPem, handshakeTimeoutMs = HANDSHAKE_TIMEOUT_MS) {
    super(
      {
        requestCert: true,
        // Refused by admission.ts, with the reason, instead of a hang-up.
        rejectUnauthorized: false,
        minVersion: "TLSv1.3",
        handshakeTimeout: handshakeTimeoutMs,
      },
      {
        ca: Buffer.from(pem.ca),
        cert: Buffer.from(pem.cert),
        key: Buffer.from(pem.key),
        minVersion: "TLSv1.3",
      },
    );
  }

  /** Serves new connections with `pem` (checked beforehand by the caller). */
  reload(pem: TlsPem): void {
    this.updateSecureContextOptions({
      ca: Buffer.from(pem.ca),
      cert: Buffer.from(pem.cert),
      key: Buffer.from(pem.key),
      minVersion: "TLSv1.3",
    });
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

type TlsListener = {
  maxConnections: number;
  on(event: "secureConnection", fn: (socket: TLSSocket) => void): void;
  on(event: "session", fn: (session: ServerHttp2Session) => void): void;
  on(
    event: "tlsClientError",
    fn: (err: Error, socket: TLSSocket) => void,
  ): void;
  prependListener(
    event: "secureConnection",
    fn: (socket: TLSSocket) => void,
  ): void;
};

/** The TLS servers under a bound grpc-js server (kept private by grpc-js). */
export function tlsListeners(server: grpc.Server): TlsListener[] {
  const servers =
    (server as unknown as { http2Servers?: Map<unknown, unknown> })
      .http2Servers;
  return [...servers?.keys() ?? []] as TlsListener[];
}

/**
 * Keeps the set of open TLS connections of `server` (call after binding),
 * so that they can be closed without an HTTP/2 GOAWAY; see
 * {@link JobServer.close}.
 */
export function trackConnections(server: grpc.Server): Set<TLSSocket> {
  const sockets = new Set<TLSSocket>();
  for (const listener of tlsListeners(server)) {
    listener.on("secureConnection", (socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
  }
  return sockets;
}

/**
 * Calls `onSession` with the HTTP/2 session of each new connection of
 * `server` (call after binding). In Deno, `session.socket` is the socket the
 * session writes through; the one `secureConnection` gave does not count
 * those writes in its `bytesWritten`.
 */
export function onSessions(
  server: grpc.Server,
  onSession: (session: ServerHttp2Session) => void,
): void {
  for (const listener of tlsListeners(server)) {
    listener.on("session", onSession);
  }
}
