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

Deno.test("a user over their disk quota cannot start jobs, and only their own finished jobs are removed to make room", async () => {
  await withRuntime(async (runtime) => {
    const user = { quota: "user" as const };
    const write = (owner: string, bytes: number, then = "") =>
      runtime.start({
        owner,
        command: "sh",
        args: ["-c", `head -c ${bytes} /dev/zero${then}`],
      }, user);
    const bobs = await write("bob", 200 * 1024);
    await bobs.done;
    const old = await write("alice", 100 * 1024);
    await old.done;
    // A running job of alice's takes her over her 300 KiB.
    const big = await write("alice", 400 * 1024, "; echo; sleep 1000");
    const reader = big.output({ streams: ["stdout"] }).getReader();
    for (let read = 0; read <= 400 * 1024;) {
      const { value, done } = await reader.read();
      if (done) break;
      read += value.data.length;
    }
    await reader.cancel();
    await rejects(
      write("alice", 1),
      (err) =>
        err instanceof JobError && err.code === "resource_exhausted" &&
        /^user alice has .* of job output on the server \(limit 300K\)/.test(
          err.message,
        ),
    );
    // Bob is not held up, and when alice's job ends her own go, not his.
    await (await write("bob", 1)).done;
    await big.stop(0);
    const left = runtime.list().map((job) => job.id);
    ok(left.includes(bobs.id), "bob's job was removed for alice");
    ok(!left.includes(old.id), "alice's oldest stayed while she was over");
  }, { policy: { quotas: { user: { diskBytes: "300K" } } } });
});
