import { GrpcStatus } from "./grpc_status.ts";

/** Socket errors that mean the connection, not the call, failed. */
const SOCKET_ERRORS =
  /\b(?:Connection dropped|ECONNRESET|ECONNREFUSED|EPIPE|ECONNABORTED|ETIMEDOUT)\b/;

/**
 * Whether `err` ended a call because the connection to the server was lost
 * (dropped, refused, the server going away), so that the same call on a new
 * connection can succeed: `jw logs -f` then reconnects. Answers about the
 * server (not found, permission denied, ...) are not.
 *
 * CANCELLED counts: a server that shuts down cuts the streams still open
 * (grpc-js resets them with CANCEL). The caller must rule out its own
 * cancellation first.
 *
 * @example
 * ```ts
 * isConnectionLoss(Object.assign(new Error(), { code: 14, details: "Connection dropped" })); // true
 * ```
 */
export function isConnectionLoss(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { code, details } = err as { code?: unknown; details?: unknown };
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.CANCELLED:
      return true;
    case GrpcStatus.INTERNAL:
    case GrpcStatus.UNKNOWN:
      // A transport failure grpc-js did not map to UNAVAILABLE.
      return typeof details === "string" && SOCKET_ERRORS.test(details);
  }
  // Not a gRPC status at all: a socket error such as Node's ECONNRESET.
  return typeof code !== "number" &&
    SOCKET_ERRORS.test(`${code ?? ""} ${err.message}`);
}
