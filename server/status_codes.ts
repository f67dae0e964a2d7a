import { status } from "@grpc/grpc-js";
import { asJobError, type Code } from "../lib/errors.ts";

/** A gRPC status: the code and a short human message. */
export interface GrpcStatus {
  code: status;
  details: string;
}

const CODES: Readonly<Record<Code, status>> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  permission_denied: status.PERMISSION_DENIED,
  failed_precondition: status.FAILED_PRECONDITION,
  // The command could not be executed: the request was fine, the system state
  // (missing binary, bad directory) was not. The message carries the OS reason.
  failed_to_start: status.FAILED_PRECONDITION,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

/**
 * The one mapping from anything a handler throws to a gRPC status. Library
 * errors keep their code and message; anything else is an internal error
 * whose message is not shown to the client.
 *
 * @example
 * ```ts
 * statusFor(new JobError("not_found", "job 4d5c9fa91db4"));
 * // { code: status.NOT_FOUND, details: "job 4d5c9fa91db4" }
 * ```
 */
export function statusFor(err: unknown): GrpcStatus {
  const jobError = asJobError(err);
  if (jobError.code === "internal" && jobError.cause === err) {
    return { code: status.INTERNAL, details: "internal error" };
  }
  return { code: CODES[jobError.code], details: jobError.message };
}
