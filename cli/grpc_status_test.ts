import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { GrpcStatus, grpcStatusName } from "./grpc_status.ts";

Deno.test("jw's gRPC status codes are grpc-js's, name for name", () => {
  const theirs = Object.fromEntries(
    Object.entries(status).filter(([, code]) => typeof code === "number"),
  );
  assert.deepEqual({ ...GrpcStatus }, theirs);
  assert.equal(grpcStatusName(status.NOT_FOUND), "NOT_FOUND");
  assert.equal(grpcStatusName(99), undefined);
});
