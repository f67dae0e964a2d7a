/**
 * Job names and references in the runtime: a name is unique among its
 * owner's jobs until the job is removed, even for starts at the same
 * moment; a job is found by its id, its name or a unique id prefix; and a
 * waiter learns of the job's end, or of a server leaving it running.
 */
import assert from "node:assert/strict";
import { JobError, JobRuntime } from "../../lib/mod.ts";
import { findCgroups, freshTestDir, withRuntime } from "./_runtime.ts";

function code(err: unknown): string | undefined {
  return err instanceof JobError ? err.code : undefined;
}

Deno.test("a name is its owner's until the job is removed, also for starts racing for it", async () => {
  await withRuntime(async (runtime) => {
    const first = await runtime.start({
      owner: "alice",
      command: "true",
      name: "build",
    });
    await first.done;
    await assert.rejects(
      runtime.start({ owner: "alice", command: "true", name: "build" }),
      (err) => {
        assert.equal(code(err), "already_exists");
        assert.match(String(err), new RegExp(`taken by job ${first.id}`));
        return true;
      },
    );
    const bobs = await runtime.start({
      owner: "bob",
      command: "true",
      name: "build",
    });
    await runtime.remove(first.id);
    const again = await runtime.start({
      owner: "alice",
      command: "true",
      name: "build",
    });
    await Promise.all([bobs.done, again.done]);

    const racing = await Promise.allSettled(
      Array.from(
        { length: 5 },
        () => runtime.start({ owner: "carol", command: "true", name: "race" }),
      ),
    );
    const won = racing.filter((r) => r.status === "fulfilled");
    assert.equal(won.length, 1, "one of five concurrent starts takes it");
    for (const lost of racing.filter((r) => r.status === "rejected")) {
      assert.equal(code(lost.reason), "already_exists");
    }
    await Promise.all(won.map((r) => r.value.done));
    assert.equal(
      runtime.list("carol").length,
      1,
      "the refused starts left no job",
    );
  });
});

Deno.test("a name that could not be typed or printed plainly is refused", async () => {
  await withRuntime(async (runtime) => {
    for (const name of ["-rf", "a b", "x/y", "\x1b[31mred", ".hidden", "é"]) {
      await assert.rejects(
        runtime.start({ owner: "alice", command: "true", name }),
        (err) => code(err) === "invalid_argument",
        name,
      );
    }
    assert.equal(runtime.list().length, 0);
  });
});

Deno.test("find: an id, a name, or a unique prefix, among one owner's jobs", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "alice",
      command: "true",
      name: "web",
    });
    await job.done;
    assert.equal(runtime.find(job.id, "alice"), job);
    assert.equal(runtime.find("web", "alice"), job);
    assert.equal(runtime.find(job.id.slice(0, 4), "alice"), job);
    assert.equal(runtime.find(job.id.slice(0, 4)), job, "among every job");
    for (const ref of [job.id, "web", job.id.slice(0, 6)]) {
      assert.throws(
        () => runtime.find(ref, "bob"),
        (err) => code(err) === "not_found",
        `bob does not find alice's job by ${ref}`,
      );
    }
    assert.throws(
      () => runtime.find(job.id.slice(0, 3), "alice"),
      (err) =>
        code(err) === "invalid_argument" && /too short/.test(String(err)),
    );
    assert.throws(
      () => runtime.find("../etc", "alice"),
      (err) => code(err) === "invalid_argument",
    );
  });
});

Deno.test("wait: the final state at the end, at once for an ended job, the signal's reason when cut", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "alice",
      command: "sh",
      args: ["-c", "sleep 0.3; exit 7"],
    });
    const info = await job.wait(AbortSignal.timeout(60_000));
    assert.equal(info.state, "exited");
    assert.equal(info.exitCode, 7);
    assert.equal((await job.wait(AbortSignal.timeout(60_000))).exitCode, 7);

    const long = await runtime.start({
      owner: "alice",
      command: "sleep",
      args: ["600"],
    });
    const cut = new AbortController();
    const waiting = long.wait(cut.signal);
    cut.abort(new Error("client left"));
    await assert.rejects(waiting, /client left/);
    assert.equal(long.info().state, "running", "leaving does not end the job");
    await long.stop(0);
  });
});

Deno.test("wait: a server leaving the job to the next one says so", async () => {
  const { dataDir, cgroupName } = await freshTestDir("jw-wait-");
  let runtime = await JobRuntime.open({ dataDir, cgroupName });
  try {
    const job = await runtime.start({
      owner: "alice",
      command: "sleep",
      args: ["600"],
    });
    // Caught at once: it rejects while close() is awaited.
    const waiting = job.wait(AbortSignal.timeout(60_000)).catch((err) => err);
    await runtime.close({ keepJobs: true });
    const err = await waiting;
    assert.equal(code(err), "unavailable");
    assert.match(String(err), /restarting/);
    runtime = await JobRuntime.open({ dataDir, cgroupName });
    const again = runtime.find(job.id);
    assert.equal(again.info().state, "running");
    const stopped = again.wait(AbortSignal.timeout(60_000));
    await again.stop(0);
    assert.equal((await stopped).state, "stopped");
  } finally {
    await runtime.close({ graceMs: 0 });
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    assert.deepEqual(await findCgroups(cgroupName), []);
  }
});
