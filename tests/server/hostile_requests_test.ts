/**
 * What a hostile standard user can send, through the real server: oversized
 * and malformed requests are refused before anything is stored, durations
 * cannot overflow, and one user's running jobs are bounded by a quota.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { startTestServer } from "./test_server.ts";

const isCode = (code: grpc.status, pattern?: RegExp) =>
(
  err: grpc.ServiceError,
) => {
  assert.equal(err.code, code, err.details);
  if (pattern) assert.match(err.details, pattern);
  return true;
};

Deno.test("oversized and malformed requests are INVALID_ARGUMENT and store nothing", async () => {
  await using server = await startTestServer();
  const alice = await server.client("alice");
  const big = "x".repeat(64 * 1024);
  const bad: [object, RegExp][] = [
    [{ command: "echo", args: Array(16).fill(big) }, /requests\.commandBytes/],
    [
      { command: "echo", args: ["x".repeat(200 * 1024)] },
      /argument 1 is 204801 bytes; Linux takes at most 131072/,
    ],
    [{
      command: "true",
      env: Object.fromEntries(
        Array.from({ length: 300 }, (_, i) => [`V${i}`, "1"]),
      ),
    }, /requests\.envEntries/],
    [{ command: "true", env: { A: big, B: big } }, /requests\.envBytes/],
    [{ command: "true", name: "n".repeat(200) }, /requests\.nameLength/],
    [{ command: "true", dir: `/${"d".repeat(2000)}` }, /requests\.dirBytes/],
  ];
  for (const [request, pattern] of bad) {
    await assert.rejects(
      alice.call("start", request as never),
      isCode(grpc.status.INVALID_ARGUMENT, pattern),
    );
  }
  assert.deepEqual((await alice.call("list", {})).jobs, []);
  assert.deepEqual(server.runtime.list(), []);

  // Bytes that are no StartRequest at all: refused as the caller's error.
  const garbage = await new Promise<grpc.ServiceError | null>((resolve) =>
    alice.raw.makeUnaryRequest(
      "/jobworker.v1.JobWorker/Start",
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x41]),
      (err) => resolve(err),
    )
  );
  assert.ok(garbage);
  isCode(
    grpc.status.INVALID_ARGUMENT,
    /not a valid jobworker\.v1\.StartRequest/,
  )(
    garbage,
  );
  assert.deepEqual(server.runtime.list(), []);
  assert.equal((await alice.call("whoAmI", {})).user, "alice");
});

Deno.test("a stop's grace is a valid Duration of at most 24h, never an overflowing timer", async () => {
  await using server = await startTestServer();
  const alice = await server.client("alice");
  const { job } = await alice.call("start", {
    command: "sleep",
    args: ["1000"],
  });
  const jobId = job!.id;
  for (
    const grace of [
      { seconds: 600n * 3600n, nanos: 0 }, // what `jw stop --grace 600h` asked
      { seconds: 10n ** 12n, nanos: 0 },
      { seconds: 1n, nanos: 1_000_000_000 },
      { seconds: 1n, nanos: -5 },
      { seconds: -1n, nanos: 0 },
    ]
  ) {
    await assert.rejects(
      alice.call("stop", { jobId, grace }),
      isCode(grpc.status.INVALID_ARGUMENT, /grace/),
      JSON.stringify(grace, (_, v) => typeof v === "bigint" ? String(v) : v),
    );
  }
  const { job: after } = await alice.call("status", { jobId });
  assert.equal(after!.state, 1, /* RUNNING */ "the refused stops did nothing");
  const { job: stopped } = await alice.call("stop", {
    jobId,
    grace: { seconds: 86_400n, nanos: 0 },
  });
  // sleep ends at SIGTERM (the job's init forwards it), long before the grace.
  assert.equal(stopped!.signal, 15);
});

Deno.test("a user's running jobs are bounded by the policy's quota; other users and admins are not held up", async () => {
  const policyPath = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    policyPath,
    JSON.stringify({ quotas: { user: { runningJobs: 2 } } }),
  );
  try {
    await using server = await startTestServer({ policyPath });
    const [alice, bob, admin] = await Promise.all(
      ["alice", "bob", "admin"].map((name) => server.client(name)),
    );
    const sleep = { command: "sleep", args: ["1000"] };
    // Started at once: the quota holds for concurrent starts too.
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => alice.call("start", sleep)),
    );
    const refused = results.filter((r) => r.status === "rejected");
    assert.equal(results.length - refused.length, 2);
    for (const r of refused) {
      isCode(
        grpc.status.RESOURCE_EXHAUSTED,
        /^user alice has 2 running jobs \(limit 2\)$/,
      )((r as PromiseRejectedResult).reason);
    }
    await bob.call("start", sleep);
    for (let i = 0; i < 3; i++) await admin.call("start", sleep);
    // Once one of alice's jobs ends, she may start another.
    const mine = (await alice.call("list", {})).jobs;
    assert.equal(mine.length, 2, "refused starts left no record");
    await alice.call("stop", {
      jobId: mine[0].id,
      grace: { seconds: 0n, nanos: 0 },
    });
    await alice.call("start", sleep);
  } finally {
    await Deno.remove(policyPath);
  }
});

Deno.test("List pages: jobs whose records add up past the 4 MiB message limit are all listed", async () => {
  await using server = await startTestServer();
  const [alice, admin] = await Promise.all(
    ["alice", "admin"].map((name) => server.client(name)),
  );
  // 22 × 200 KiB of arguments: 4.5 MB in one answer, over gRPC's 4 MiB.
  const big = "x".repeat(100 * 1024);
  const ids = new Set<string>();
  for (let i = 0; i < 22; i++) {
    const { job } = await alice.call("start", {
      command: "true",
      args: [big, big],
    });
    ids.add(job!.id);
  }
  for (const client of [alice, admin]) {
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await client.call("list", { pageSize: 1000, pageToken });
      seen.push(...page.jobs.map((job) => job.id));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    assert.deepEqual(new Set(seen), ids);
    assert.equal(seen.length, ids.size);
    assert.ok(pages > 1, "more than one page");
  }
  await assert.rejects(
    alice.call("list", { pageToken: "not-a-token" }),
    isCode(grpc.status.INVALID_ARGUMENT, /page_token/),
  );
  // Filters: none of them is running; all exited.
  assert.deepEqual(
    (await alice.call("list", { states: [1 /* RUNNING */] })).jobs,
    [],
  );
});
