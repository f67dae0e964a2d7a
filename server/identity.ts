/**
 * Who is calling: read from the verified TLS client certificate. The subject
 * CN is the user name, the subject OU the role. The TLS stack has already
 * checked the chain and validity; this module checks what rustls leaves to the
 * application (the clientAuth extended key usage when the extension is absent)
 * and the subject's shape.
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { JobError } from "../lib/errors.ts";

/** What a caller may do: admins see every job and may set limits. */
export type Role = "admin" | "user";

/** An authenticated caller. */
export interface Identity {
  user: string;
  role: Role;
}

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const ROLES: readonly string[] = ["admin", "user"] satisfies Role[];

/**
 * Checks what the TLS stack leaves to the application: that the certificate
 * is meant for client authentication (rustls accepts a certificate without
 * an extended key usage extension) and is valid now. Returns the parsed
 * certificate; throws `permission_denied`.
 */
export function checkClientCertificate(
  der: Uint8Array | undefined,
  now: Date = new Date(),
): x509.X509Certificate {
  if (!der || der.length === 0) {
    throw new JobError("permission_denied", "no client certificate");
  }
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(new Uint8Array(der));
  } catch {
    throw new JobError("permission_denied", "unreadable client certificate");
  }
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku || !eku.usages.map(String).includes(CLIENT_AUTH)) {
    throw new JobError(
      "permission_denied",
      "certificate is not for client authentication",
    );
  }
  if (now < cert.notBefore || now > cert.notAfter) {
    throw new JobError("permission_denied", "certificate is not valid now");
  }
  return cert;
}

/**
 * Reads the identity from a DER client certificate that passes
 * {@link checkClientCertificate}, refusing with `permission_denied` one
 * without exactly one well-formed CN and one OU naming a known role.
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
  const cert = checkClientCertificate(der, now);
  const cn = cert.subjectName.getField("CN");
  const ou = cert.subjectName.getField("OU");
  if (cn.length !== 1 || !USER_NAME.test(cn[0])) {
    throw new JobError(
      "permission_denied",
      "certificate has no usable user name (CN)",
    );
  }
  if (ou.length !== 1 || !ROLES.includes(ou[0])) {
    throw new JobError(
      "permission_denied",
      `certificate of ${cn[0]} has no known role (OU)`,
    );
  }
  return { user: cn[0], role: ou[0] as Role };
}
