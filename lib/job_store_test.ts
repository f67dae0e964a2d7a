import assert from "node:assert/strict";
import type { JobInfo } from "./job_info.ts";
import { emptyUsage } from "./limits.ts";
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
    usage: emptyUsage(),
    stdoutBytes: 0,
    stderrBytes: 0,
    stdoutDroppedBytes: 0,
    stderrDroppedBytes: 0,
  };
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
    const { jobs, broken } = await store.loadAll(`${dir}.corrupt`);
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
    const { jobs } = await store.loadAll(`${dir}.corrupt`);
    assert.equal(jobs[0].name, "second");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("records that fail their checks are moved aside, with the reason; the others load", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jw-store-" });
  const corrupt = `${dir}.corrupt`;
  try {
    const store = new JobStore(dir);
    const good = info("4d5c9fa91db4", "good");
    await Deno.mkdir(store.jobDir(good.id));
    await store.save(good);
    const bad: Record<string, string> = {
      "0000000000a1": JSON.stringify(good).slice(0, 40), // truncated
      "0000000000a2": JSON.stringify({ ...good, id: "0000000000a2", state: 7 }),
      "0000000000a3": JSON.stringify({ ...good, id: "../../../etc" }),
      "0000000000a4": JSON.stringify({
        ...good,
        id: "0000000000a4",
        args: [1],
      }),
      "0000000000a5": JSON.stringify({
        ...good,
        id: "0000000000a5",
        createdAt: "x",
      }),
      "0000000000a6": JSON.stringify({
        ...good,
        id: "0000000000a6",
        name: "n".repeat(2 * 1024 * 1024),
      }),
      "not-a-job-id": JSON.stringify({ ...good, id: "not-a-job-id" }),
    };
    for (const [name, text] of Object.entries(bad)) {
      await Deno.mkdir(store.jobDir(name));
      await Deno.writeTextFile(`${store.jobDir(name)}/meta.json`, text);
    }
    await Deno.writeTextFile(`${dir}/stray-file`, "x");
    const { jobs, broken } = await store.loadAll(corrupt);
    assert.deepEqual(jobs.map((job) => job.id), [good.id]);
    assert.deepEqual(
      broken.map((b) => b.name).sort(),
      [...Object.keys(bad), "stray-file"].sort(),
    );
    const reasons = Object.fromEntries(broken.map((b) => [b.name, b.reason]));
    assert.match(reasons["0000000000a1"], /not JSON/);
    assert.match(reasons["0000000000a2"], /state/);
    assert.match(reasons["0000000000a3"], /not a job id/);
    assert.match(reasons["0000000000a4"], /args\[0\]/);
    assert.match(reasons["0000000000a5"], /createdAt/);
    assert.match(reasons["0000000000a6"], /bytes/);
    // Moved, not deleted: an operator can look at them.
    assert.equal([...Deno.readDirSync(corrupt)].length, broken.length);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [good.id]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(corrupt, { recursive: true }).catch(() => {});
  }
});
