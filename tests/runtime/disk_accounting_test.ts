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
