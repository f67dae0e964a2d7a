/**
 * A warning before the server's own certificate runs out: clients refuse an
 * expired one, and nothing else would say so in advance.
 *
 * @module
 */
// tsyringe, used inside @peculiar/x509, needs the Reflect metadata polyfill.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { LogSink } from "./log.ts";

/** Days before its end from which the server's certificate is warned about. */
export const EXPIRY_WARNING_DAYS = 14;

/**
 * Logs a warning when `certPem` ends within {@link EXPIRY_WARNING_DAYS} (or
 * has ended); returns the days left.
 */
export function warnIfExpiring(
  certPem: string,
  log: LogSink,
  now: Date = new Date(),
): number {
  const cert = new x509.X509Certificate(certPem);
  const days = (cert.notAfter.getTime() - now.getTime()) / 86_400_000;
  if (days <= EXPIRY_WARNING_DAYS) {
    log({
      msg: days <= 0
        ? "the server's certificate has expired: clients will refuse it"
        : "the server's certificate expires soon",
      notAfter: cert.notAfter.toISOString(),
      days: Math.floor(days),
    });
  }
  return days;
}
