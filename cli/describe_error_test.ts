import assert from "node:assert/strict";
import { Metadata, status } from "@grpc/grpc-js";
import { CliError } from "./cli_error.ts";
import { describeError } from "./describe_error.ts";
import { UsageError } from "./usage_error.ts";

function serviceError(code: status, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

Deno.test("usage errors exit 2, client and server errors exit 1, all in one line", () => {
  assert.deepEqual(describeError(new UsageError("missing command"), "h:1"), {
    message: "missing command (see jw --help)",
    exitCode: 2,
  });
  assert.deepEqual(describeError(new CliError("cannot read x"), "h:1"), {
    message: "cannot read x",
    exitCode: 1,
  });
  assert.deepEqual(
    describeError(new TypeError("boom\n  at somewhere"), "h:1"),
    {
      message: "internal error: boom at somewhere",
      exitCode: 1,
    },
  );
});

Deno.test("gRPC codes map to short messages naming the problem", () => {
  const cases: [status, string, string][] = [
    [
      status.UNAVAILABLE,
      "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ",
      "cannot reach server h:1: connect ECONNREFUSED 127.0.0.1:1",
    ],
    [
      status.UNAVAILABLE,
      "Name resolution failed for target dns:nohost:1",
      "cannot reach server h:1: Name resolution failed for target dns:nohost:1",
    ],
    [status.NOT_FOUND, "job 4d5c9fa91db4", "not found: job 4d5c9fa91db4"],
    [status.PERMISSION_DENIED, "job of bob", "permission denied: job of bob"],
    [status.INVALID_ARGUMENT, "limit pids", "invalid argument: limit pids"],
    [
      status.FAILED_PRECONDITION,
      "cannot run nosuch: no such file",
      "cannot run nosuch: no such file",
    ],
    [
      status.RESOURCE_EXHAUSTED,
      "too many jobs",
      "resource exhausted: too many jobs",
    ],
    [
      status.UNAUTHENTICATED,
      "no client certificate",
      "not authenticated: no client certificate",
    ],
    [
      status.UNAUTHENTICATED,
      "the server refused your certificate: expired on 2026-12-02T21:24:00Z",
      "the server refused your certificate: expired on 2026-12-02T21:24:00Z",
    ],
    [
      status.DEADLINE_EXCEEDED,
      "Deadline exceeded",
      "server h:1 did not answer in time",
    ],
    [status.INTERNAL, "internal error", "server error: internal error"],
  ];
  for (const [code, details, message] of cases) {
    assert.deepEqual(describeError(serviceError(code, details), "h:1"), {
      message,
      exitCode: 1,
    });
  }
});
