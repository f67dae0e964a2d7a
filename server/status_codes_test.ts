import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { JobError } from "../lib/errors.ts";
import { statusFor } from "./status_codes.ts";

Deno.test("statusFor maps each library code to its gRPC code and keeps the message", () => {
  const cases: [JobError, status][] = [
    [new JobError("not_found", "job 4d5c9fa91db4"), status.NOT_FOUND],
    [
      new JobError("invalid_argument", "command is empty"),
      status.INVALID_ARGUMENT,
    ],
    [
      new JobError("permission_denied", "custom limits need the admin role"),
      status.PERMISSION_DENIED,
    ],
    [
      new JobError("failed_precondition", "job 4d5c9fa91db4 has already ended"),
      status.FAILED_PRECONDITION,
    ],
    [
      new JobError("failed_to_start", "exec /nope: No such file or directory"),
      status.FAILED_PRECONDITION,
    ],
    [
      new JobError("resource_exhausted", "too many jobs"),
      status.RESOURCE_EXHAUSTED,
    ],
    [new JobError("unavailable", "shutting down"), status.UNAVAILABLE],
    [new JobError("internal", "cgroup vanished"), status.INTERNAL],
  ];
  for (const [err, code] of cases) {
    assert.deepEqual(statusFor(err), { code, details: err.message });
  }
});

Deno.test("statusFor hides the message of errors that are not JobErrors", () => {
  assert.deepEqual(
    statusFor(new TypeError("x is undefined at /srv/secret.ts:12")),
    {
      code: status.INTERNAL,
      details: "internal error",
    },
  );
});
