/**
 * The gRPC status codes, fixed by the gRPC specification
 * (grpc/grpc doc/statuscodes.md). `jw` names them here rather than take
 * grpc-js's `status` enum so that describing an error, e.g. a usage error,
 * does not load grpc-js; grpc_status_test.ts checks them against grpc-js.
 *
 * @module
 */

/** gRPC status codes by name. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const NAMES = new Map<number, string>(
  Object.entries(GrpcStatus).map(([name, code]) => [code, name]),
);

/**
 * The name of a gRPC status code, or undefined for a code outside the spec.
 *
 * @example
 * ```ts
 * grpcStatusName(5); // "NOT_FOUND"
 * ```
 */
export function grpcStatusName(code: number): string | undefined {
  return NAMES.get(code);
}
