// What one tenant's output costs the others: accounting counts the disk
// really used, and a job cannot make its output sparse to look huge (its
// stdout is a pipe its launcher reads), so it cannot make retention evict
// other jobs.
import { deepEqual, ok, rejects } from "node:assert/strict";
import { JobError } from "../../lib/mod.ts";
import { probePath, withRuntime } from "./_runtime.ts";

Deno.test("a job cannot make its stdout a 1 TiB sparse file, nor make retention remove other users' jobs", async () => {
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
    deepEqual(info.exitCode, 1, "ftruncate of a pipe fails");
    deepEqual(info.stdoutBytes, 0);
    const text = await new Response(
      alice.output({ streams: ["stderr"] }).pipeThrough(
        new TransformStream({ transform: (c, out) => out.enqueue(c.data) }),
      ),
    ).text();
    ok(text.startsWith("ftruncate: "), text);
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

Deno.test("a user over their disk quota loses their own finished jobs first, then their running jobs' output; they cannot start more; nobody else loses anything", async () => {
  await withRuntime(async (runtime) => {
    const user = { quota: "user" as const };
    const write = (owner: string, bytes: number) =>
      runtime.start({
        owner,
        command: "head",
        args: ["-c", String(bytes), "/dev/zero"],
      }, user);
    const bobs = await write("bob", 200 * 1024);
    await bobs.done;
    const old = await write("alice", 100 * 1024);
    await old.done;
    // 50 MiB against her 300 KiB: her old job goes, then the rest of this
    // one's output is dropped as it comes; the job runs on to its end.
    const total = 50 * 1024 * 1024;
    const big = await write("alice", total);
    const info = await big.done;
    deepEqual([info.state, info.exitCode], ["exited", 0]);
    const cut =
      /^output cut: its owner's jobs reached their disk quota; (\d+) bytes of output were dropped$/
        .exec(info.error ?? "");
    ok(cut, String(info.error));
    deepEqual(info.stdoutBytes + Number(cut[1]), total, "every byte counted");
    ok(info.stdoutBytes >= 300 * 1024 - 4096, `kept ${info.stdoutBytes}`);
    const left = runtime.list().map((job) => job.id);
    ok(!left.includes(old.id), "alice's old job stayed while she was over");
    ok(left.includes(big.id), "the job she ran last stays for her to read");
    ok(left.includes(bobs.id), "bob's job was removed for alice");
    await rejects(
      write("alice", 1),
      (err) =>
        err instanceof JobError && err.code === "resource_exhausted" &&
        /^user alice has .* of job output on the server \(limit 300K\)/.test(
          err.message,
        ),
    );
    // Bob is not held up; once alice removes her job, she may start again.
    deepEqual((await (await write("bob", 1)).done).error, undefined);
    await runtime.remove(big.id);
    deepEqual((await (await write("alice", 1)).done).exitCode, 0);
  }, { policy: { quotas: { user: { diskBytes: "300K" } } } });
});
