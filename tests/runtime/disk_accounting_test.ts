// What one tenant's output costs the others: accounting counts the disk
// really used, so a sparse file cannot make retention evict other jobs.
import { deepEqual, ok } from "node:assert/strict";
import { probePath, withRuntime } from "./_runtime.ts";

Deno.test("a job's 1 TiB sparse stdout does not make retention remove other users' jobs", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const bobs = [];
    for (let i = 0; i < 3; i++) {
      const job = await runtime.start({
        owner: "bob",
        command: "echo",
        args: [`bob ${i}`],
      });
      await job.done;
      bobs.push(job.id);
    }
    const alice = await runtime.start({
      owner: "alice",
      command: probePath(dataDir),
      args: ["sparse", String(2 ** 40)],
    });
    const info = await alice.done;
    deepEqual(info.exitCode, 0);
    deepEqual(info.stdoutBytes, 2 ** 40, "the file claims 1 TiB");
    // Retention ran when alice's job ended, before `done` resolved.
    const left = runtime.list().map((job) => job.id);
    for (const id of bobs) ok(left.includes(id), `bob's ${id} was removed`);
  }, { probe: true, retention: { maxBytes: 1024 * 1024 } });
});

Deno.test("over the output budget, retention removes the heaviest user's oldest jobs, not a light user's older one", async () => {
  await withRuntime(async (runtime) => {
    const run = async (owner: string, bytes: number) => {
      const job = await runtime.start({
        owner,
        command: "head",
        args: ["-c", String(bytes), "/dev/urandom"],
      });
      await job.done;
      return job.id;
    };
    const bob = await run("bob", 10 * 1024);
    const alice = [];
    for (let i = 0; i < 3; i++) alice.push(await run("alice", 300 * 1024));
    // 910 KiB against 700 KiB: alice's oldest goes; bob's, older still, stays.
    deepEqual(
      runtime.list().map((job) => job.id).sort(),
      [bob, alice[1], alice[2]].sort(),
    );
  }, { retention: { maxBytes: 700 * 1024 } });
});
