import assert from "node:assert/strict";
import type { JobInfo } from "./job_info.ts";
import { JobStore } from "./job_store.ts";

function info(id: string, name: string): JobInfo {
  return {
    id,
    owner: "alice",
    name,
    command: "true",
    args: [],
    dir: "/",
    state: "running",
    oomKilled: false,
    createdAt: new Date(0),
    limits: {},
    usage: { cpuUsec: 0, memoryPeakBytes: 0 },
    stdoutBytes: 0,
    stderrBytes: 0,
    stdoutDroppedBytes: 0,
    stderrDroppedBytes: 0,
  } as unknown as JobInfo;
}

Deno.test("saves of one job asked for at once all land, the last one last", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jw-store-" });
  try {
    const store = new JobStore(dir);
    await Deno.mkdir(store.jobDir("4d5c9fa91db4"));
    // Names of different lengths: interleaved writes would leave mixed JSON.
    const saves = Array.from(
      { length: 40 },
      (_, i) => store.save(info("4d5c9fa91db4", "x".repeat((i * 37) % 300))),
    );
    await Promise.all(saves);
    await store.flush();
    const { jobs, broken } = await store.loadAll();
    assert.deepEqual(broken, []);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].name, "x".repeat((39 * 37) % 300));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a save reflects the job as it was when asked for", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jw-store-" });
  try {
    const store = new JobStore(dir);
    await Deno.mkdir(store.jobDir("4d5c9fa91db4"));
    const job = info("4d5c9fa91db4", "first");
    const first = store.save(job);
    const second = store.save({ ...job, name: "second" });
    job.name = "changed after both were asked for";
    await first;
    await second;
    const { jobs } = await store.loadAll();
    assert.equal(jobs[0].name, "second");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
