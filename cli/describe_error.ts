/**
 * The one place where `jw` turns a failure into the line it prints and the
 * code it exits with: gRPC status codes from the server, usage mistakes,
 * local failures, and anything unexpected.
 *
 * @module
 */
import { CliError } from "./cli_error.ts";
import { GrpcStatus as status, grpcStatusName } from "./grpc_status.ts";
import { UsageError } from "./usage_error.ts";

/** What to print after `jw: ` and the process exit code. */
export interface Described {
  message: string;
  exitCode: number;
}

/**
 * Describes `err` for a person, in one line. `server` is the address `jw`
 * talked to, named when it could not be reached.
 *
 * @example
 * ```ts
 * describeError(new UsageError("missing command"), "localhost:50051");
 * // { message: "missing command (see jw --help)", exitCode: 2 }
 * ```
 */
export function describeError(err: unknown, server: string): Described {
  if (err instanceof UsageError) {
    return { message: `${oneLine(err.message)} (see jw --help)`, exitCode: 2 };
  }
  if (err instanceof CliError) {
    return { message: oneLine(err.message), exitCode: err.exitCode };
  }
  if (isServiceError(err)) {
    return { message: oneLine(grpcMessage(err, server)), exitCode: 1 };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message: `internal error: ${oneLine(message)}`, exitCode: 1 };
}

/** How the server's refusal of a client certificate begins. */
const CERTIFICATE_REFUSED = "the server refused your certificate: ";

interface ServiceError {
  code: number;
  details: string;
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error &&
    typeof (err as Partial<ServiceError>).code === "number" &&
    typeof (err as Partial<ServiceError>).details === "string";
}

function grpcMessage({ code, details }: ServiceError, server: string): string {
  switch (code) {
    case status.UNAVAILABLE:
      return `cannot reach server ${server}: ${lastError(details)}`;
    case status.DEADLINE_EXCEEDED:
      return `server ${server} did not answer in time`;
    case status.UNAUTHENTICATED:
      // The server says why it refused the certificate in a whole sentence.
      return details.startsWith(CERTIFICATE_REFUSED)
        ? details
        : `not authenticated: ${details || "check --cert/--key"}`;
    case status.PERMISSION_DENIED:
      return `permission denied: ${details}`;
    case status.NOT_FOUND:
      return `not found: ${details}`;
    case status.INVALID_ARGUMENT:
      return `invalid argument: ${details}`;
    case status.FAILED_PRECONDITION:
      return details;
    case status.RESOURCE_EXHAUSTED:
      return `resource exhausted: ${details}`;
    case status.ALREADY_EXISTS:
      return `already exists: ${details}`;
    case status.CANCELLED:
      return "cancelled";
    case status.UNIMPLEMENTED:
      return `server ${server} does not support this call${
        details ? ` (${details})` : ""
      }`;
    default:
      return `server error: ${
        details || grpcStatusName(code) || `code ${code}`
      }`;
  }
}

/**
 * grpc-js reports connection failures as "No connection established. Last
 * error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ..."; the
 * last error is the part a person needs.
 */
function lastError(details: string): string {
  const match = /Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/s
    .exec(details);
  return (match?.[1] ?? details).trim() || "unavailable";
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
