import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { isConnectionLoss } from "./connection_loss.ts";

function serviceError(code: status, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), {
    code,
    details,
  });
}

Deno.test("a lost connection or a server going away counts as connection loss", () => {
  const lost = [
    serviceError(status.UNAVAILABLE, "Connection dropped"),
    serviceError(
      status.UNAVAILABLE,
      "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1.",
    ),
    serviceError(status.CANCELLED, "Call cancelled"),
    serviceError(
      status.INTERNAL,
      "Received RST_STREAM with code 2 triggered by internal client error: read ECONNRESET",
    ),
    Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
    new Error("Connection dropped"),
  ];
  for (const err of lost) {
    assert.equal(isConnectionLoss(err), true, err.message);
  }
});

Deno.test("answers from the server are not connection loss", () => {
  const answers = [
    serviceError(status.NOT_FOUND, "job 4d5c9fa91db4"),
    serviceError(status.PERMISSION_DENIED, "job of bob"),
    serviceError(status.INVALID_ARGUMENT, "offset is too large"),
    serviceError(status.UNAUTHENTICATED, "no client certificate"),
    serviceError(status.INTERNAL, "internal error"),
    serviceError(status.DEADLINE_EXCEEDED, "Deadline exceeded"),
    serviceError(status.RESOURCE_EXHAUSTED, "Connection dropped? no: quota"),
    new TypeError("boom"),
  ];
  for (const err of answers) {
    assert.equal(isConnectionLoss(err), false, err.message);
  }
  assert.equal(isConnectionLoss("ECONNRESET"), false, "not an Error");
});
