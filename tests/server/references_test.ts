/**
 * Wait and job references through the real server: Wait answers when the
 * job ends, without polling, and a caller that gives up costs nothing;
 * names are unique per owner (ALREADY_EXISTS) and, like unique id
 * prefixes, work wherever an id does.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { JobState } from "../../gen/jobworker/v1/jobworker_pb.ts";
import { startTestServer } from "./test_server.ts";

function failsWith(code: grpc.status, details: RegExp) {
  return (err: grpc.ServiceError) => {
    assert.equal(err.code, code, err.details);
    assert.match(err.details, details);
    return true;
  };
}

Deno.test("Wait and references", async (t) => {
  await using server = await startTestServer();
  const alice = await server.client("alice");
  const admin = await server.client("admin");

  await t.step("Wait answers with the final job once it ends", async () => {
    const gate = `${server.shared}/wait-gate`;
    const { job } = await alice.call("start", {
      command: "sh",
      args: ["-c", `while [ ! -e ${gate} ]; do sleep 0.05; done; exit 4`],
      name: "gated",
    });
    assert.ok(job);
    let answered = false;
    const waiting = alice.call("wait", { jobId: "gated" }).finally(() =>
      answered = true
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(answered, false, "Wait does not answer while the job runs");
    await Deno.writeTextFile(gate, "");
    const done = await waiting;
    assert.equal(done.job?.id, job.id);
    assert.equal(done.job?.state, JobState.EXITED);
    assert.equal(done.job?.exitCode, 4);
    const again = await alice.call("wait", { jobId: job.id.slice(0, 5) });
    assert.equal(again.job?.exitCode, 4, "an ended job answers at once");
    const record = server.logs.findLast((r) =>
      r.method === "/jobworker.v1.JobWorker/Wait"
    );
    assert.equal(record?.job, job.id, "the log names the job by its id");
  });

  await t.step(
    "a waiter whose deadline passes leaves the job and the server as they were",
    async () => {
      const { job } = await alice.call("start", {
        command: "sleep",
        args: ["600"],
      });
      assert.ok(job);
      const waits = Array.from({ length: 50 }, () =>
        new Promise((resolve) =>
          // deno-lint-ignore no-explicit-any
          (alice.raw as any).wait(
            { jobId: job.id },
            { deadline: Date.now() + 200 },
            (err: grpc.ServiceError | null) => resolve(err?.code),
          )
        ));
      const codes = await Promise.all(waits);
      assert.ok(codes.every((c) => c === grpc.status.DEADLINE_EXCEEDED));
      const { job: now } = await alice.call("status", { jobId: job.id });
      assert.equal(now?.state, JobState.RUNNING);
      const stopping = alice.call("wait", { jobId: job.id });
      await alice.call("stop", { jobId: job.id });
      assert.equal((await stopping).job?.state, JobState.STOPPED);
    },
  );

  await t.step(
    "a name is unique among its owner's jobs and names the job anywhere",
    async () => {
      await assert.rejects(
        alice.call("start", { command: "true", name: "gated" }),
        failsWith(grpc.status.ALREADY_EXISTS, /^name gated is taken by job /),
      );
      const { job: admins } = await admin.call("start", {
        command: "true",
        name: "gated",
      });
      assert.ok(admins, "another owner may use it");
      await admin.call("wait", { jobId: admins.id });
      await assert.rejects(
        admin.call("status", { jobId: "gated" }),
        failsWith(
          grpc.status.INVALID_ARGUMENT,
          /^name gated matches 2 jobs \(of admin, alice\); use an id$/,
        ),
      );
      const { job } = await alice.call("status", { jobId: "gated" });
      assert.equal(job?.owner, "alice", "alice's name is hers alone");
      await alice.call("remove", { jobId: "gated" });
      await alice.call("start", { command: "true", name: "gated" });
      await assert.rejects(
        alice.call("start", { command: "true", name: "bad name" }),
        failsWith(grpc.status.INVALID_ARGUMENT, /may hold only letters/),
      );
    },
  );

  await t.step("a prefix shorter than 4 characters is refused", async () => {
    await assert.rejects(
      alice.call("status", { jobId: "4d5" }),
      failsWith(grpc.status.INVALID_ARGUMENT, /^prefix 4d5 is too short/),
    );
  });
});
