/**
 * Who may do what, through the real server: admins everything, users only
 * their own jobs under the default policy; another user's job is
 * indistinguishable from a job that does not exist.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { JobState, Role } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { TestClient } from "./client.ts";
import { startTestServer } from "./test_server.ts";

/** The code and message a call fails with (or OK). */
async function outcome(
  call: Promise<unknown>,
): Promise<{ code: grpc.status; details: string }> {
  try {
    await call;
    return { code: grpc.status.OK, details: "" };
  } catch (err) {
    const { code, details } = err as grpc.ServiceError;
    return { code, details };
  }
}

async function sleeper(client: TestClient): Promise<string> {
  const { job } = await client.call("start", {
    command: "sleep",
    args: ["600"],
  });
  assert.ok(job);
  return job.id;
}

Deno.test("authorization matrix", async (t) => {
  await using server = await startTestServer();
  const admin = await server.client("admin");
  const alice = await server.client("alice");
  const bob = await server.client("bob");
  const aliceJob = await sleeper(alice);
  const bobJob = await sleeper(bob);
  const unknownJob = "000000000000";

  await t.step("WhoAmI reports the certificate's CN and OU", async () => {
    const root = await admin.call("whoAmI", {});
    assert.equal(root.user, "admin");
    assert.equal(root.role, Role.ADMIN);
    const me = await alice.call("whoAmI", {});
    assert.equal(me.user, "alice");
    assert.equal(me.role, Role.USER);
  });

  await t.step(
    "a user's job is owned by the user and runs under the default policy",
    async () => {
      const { job } = await alice.call("status", { jobId: aliceJob });
      assert.equal(job?.owner, "alice");
      assert.equal(job?.state, JobState.RUNNING);
      assert.equal(job?.limits?.pids, 512);
    },
  );

  await t.step("a user asking for limits gets PERMISSION_DENIED", async () => {
    const result = await outcome(
      alice.call("start", { command: "true", limits: { pids: 10 } }),
    );
    assert.equal(result.code, grpc.status.PERMISSION_DENIED);
  });

  await t.step(
    "an empty limits message asks for nothing and is allowed",
    async () => {
      const { job } = await alice.call("start", {
        command: "true",
        limits: {},
      });
      assert.equal(job?.limits?.pids, 512);
    },
  );

  await t.step("an admin may set limits up to the ceilings", async () => {
    const { job } = await admin.call("start", {
      command: "true",
      limits: { pids: 100, memoryBytes: 64n * 1024n * 1024n },
    });
    assert.equal(job?.owner, "admin");
    assert.equal(job?.limits?.pids, 100);
    assert.equal(job?.limits?.memoryBytes, 64n * 1024n * 1024n);
    const over = await outcome(
      admin.call("start", { command: "true", limits: { pids: 1_000_000 } }),
    );
    assert.equal(over.code, grpc.status.INVALID_ARGUMENT);
  });

  await t.step("bad requests get INVALID_ARGUMENT", async () => {
    const empty = await outcome(alice.call("start", { command: "" }));
    assert.equal(empty.code, grpc.status.INVALID_ARGUMENT);
    for (const client of [alice, admin]) {
      const malformed = await outcome(
        client.call("status", { jobId: "../etc" }),
      );
      assert.equal(malformed.code, grpc.status.INVALID_ARGUMENT);
    }
  });

  await t.step(
    "a command that cannot run gets FAILED_PRECONDITION with the reason",
    async () => {
      const result = await outcome(
        alice.call("start", { command: "/nonexistent/program" }),
      );
      assert.equal(result.code, grpc.status.FAILED_PRECONDITION);
      assert.match(result.details, /no such file|not found/i);
    },
  );

  await t.step(
    "another user's job answers exactly like an unknown one",
    async () => {
      const calls = {
        status: (client: TestClient, jobId: string) =>
          client.call("status", { jobId }),
        stop: (client: TestClient, jobId: string) =>
          client.call("stop", { jobId }),
        logs: (client: TestClient, jobId: string) => client.readLogs({ jobId }),
        wait: (client: TestClient, jobId: string) =>
          client.call("wait", { jobId }),
        kill: (client: TestClient, jobId: string) =>
          client.call("kill", { jobId }),
        remove: (client: TestClient, jobId: string) =>
          client.call("remove", { jobId }),
        "status by prefix": (client: TestClient, jobId: string) =>
          client.call("status", { jobId: jobId.slice(0, 8) }),
      };
      for (const [name, call] of Object.entries(calls)) {
        const foreign = await outcome(call(bob, aliceJob));
        const unknown = await outcome(call(bob, unknownJob));
        assert.equal(foreign.code, grpc.status.NOT_FOUND, name);
        assert.equal(unknown.code, grpc.status.NOT_FOUND, name);
        const prefix = name.endsWith("prefix");
        assert.equal(
          foreign.details,
          `job ${prefix ? aliceJob.slice(0, 8) : aliceJob}`,
          name,
        );
        assert.equal(
          unknown.details,
          `job ${prefix ? unknownJob.slice(0, 8) : unknownJob}`,
          name,
        );
      }
      const { job } = await alice.call("status", { jobId: aliceJob });
      assert.equal(job?.state, JobState.RUNNING, "bob's stop did not touch it");
    },
  );

  await t.step(
    "users list only their own jobs; naming another owner is PERMISSION_DENIED",
    async () => {
      for (const request of [{}, { owner: "alice" }]) {
        const { jobs } = await alice.call("list", request);
        assert.ok(jobs.length >= 2);
        assert.ok(jobs.every((job) => job.owner === "alice"));
      }
      await assert.rejects(
        alice.call("list", { owner: "bob" }),
        (err: grpc.ServiceError) =>
          err.code === grpc.status.PERMISSION_DENIED &&
          /another user's jobs/.test(err.details),
      );
      const { jobs } = await bob.call("list", {});
      assert.deepEqual(jobs.map((job) => job.id), [bobJob]);
    },
  );

  await t.step("admins list every job, or one owner's", async () => {
    const all = await admin.call("list", {});
    const owners = new Set(all.jobs.map((job) => job.owner));
    assert.deepEqual([...owners].sort(), ["admin", "alice", "bob"]);
    const bobs = await admin.call("list", { owner: "bob" });
    assert.deepEqual(bobs.jobs.map((job) => job.id), [bobJob]);
  });

  await t.step("admins see and read other users' jobs", async () => {
    const { job } = await admin.call("status", { jobId: aliceJob });
    assert.equal(job?.owner, "alice");
    const unknown = await outcome(admin.call("status", { jobId: unknownJob }));
    assert.equal(unknown.code, grpc.status.NOT_FOUND);
  });

  await t.step(
    "a user stops their own job; stopping it again is FAILED_PRECONDITION",
    async () => {
      const { job } = await alice.call("stop", {
        jobId: aliceJob,
        grace: { seconds: 1n },
      });
      assert.equal(job?.state, JobState.STOPPED);
      const again = await outcome(alice.call("stop", { jobId: aliceJob }));
      assert.equal(again.code, grpc.status.FAILED_PRECONDITION);
    },
  );

  await t.step("an admin stops another user's job", async () => {
    const { job } = await admin.call("stop", {
      jobId: bobJob,
      grace: { seconds: 1n },
    });
    assert.equal(job?.owner, "bob");
    assert.equal(job?.state, JobState.STOPPED);
  });

  await t.step(
    "Remove: own ended jobs only; running is FAILED_PRECONDITION; foreign is NOT_FOUND; admins any",
    async () => {
      const stillRunning = await sleeper(alice);
      const running = await outcome(
        alice.call("remove", { jobId: stillRunning }),
      );
      assert.equal(running.code, grpc.status.FAILED_PRECONDITION);
      await alice.call("stop", { jobId: stillRunning, grace: { seconds: 0n } });
      const foreign = await outcome(bob.call("remove", { jobId: aliceJob }));
      assert.equal(foreign.code, grpc.status.NOT_FOUND);
      assert.equal(foreign.details, `job ${aliceJob}`);
      const { job: done } = await alice.call("start", { command: "true" });
      assert.ok(done);
      while (
        (await alice.call("status", { jobId: done.id })).job?.state ===
          JobState.RUNNING
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const removed = await alice.call("remove", { jobId: done.id });
      assert.equal(removed.job?.id, done.id);
      const gone = await outcome(alice.call("status", { jobId: done.id }));
      assert.equal(gone.code, grpc.status.NOT_FOUND);
      // bob's job was stopped above: an admin removes it.
      const byAdmin = await admin.call("remove", { jobId: bobJob });
      assert.equal(byAdmin.job?.owner, "bob");
    },
  );

  await t.step(
    "every call was logged with method, identity, job and code",
    () => {
      const denied = server.logs.find((r) =>
        r.method === "/jobworker.v1.JobWorker/Status" && r.identity === "bob" &&
        r.job === aliceJob
      );
      assert.equal(denied?.code, "NOT_FOUND");
      assert.equal(typeof denied?.durationMs, "number");
      assert.match(String(denied?.peer), /^127\.0\.0\.1:\d+$/);
      // Start says what was asked for and what it got.
      const started = server.logs.find((r) =>
        r.method === "/jobworker.v1.JobWorker/Start" && r.job === aliceJob
      );
      assert.equal(started?.identity, "alice");
      assert.equal(started?.command, "sleep");
      assert.equal(started?.args, 1);
      assert.equal(
        typeof (started?.limits as { pids?: number })?.pids,
        "number",
      );
      assert.equal(typeof started?.uid, "number");
    },
  );
});
