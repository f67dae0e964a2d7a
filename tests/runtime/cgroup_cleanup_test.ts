// Job cgroups go with their jobs: under load, and after a crash.
import { deepEqual, ok } from "node:assert/strict";
import { JobRuntime } from "../../lib/mod.ts";
import { findCgroups, freshTestDir, withRuntime } from "./_runtime.ts";

/** The job cgroups beneath each of the runtime's cgroup parents. */
async function jobCgroups(cgroupName: string): Promise<string[]> {
  const found: string[] = [];
  for (const parent of await findCgroups(cgroupName)) {
    for (const entry of Deno.readDirSync(parent)) {
      if (entry.isDirectory) found.push(`${parent}/${entry.name}`);
    }
  }
  return found;
}

/** Hundreds on the host; fewer under the VM's software emulation. */
const MANY = Deno.env.get("JW_TEST_VM") ? 100 : 300;

Deno.test(`${MANY} jobs stopped at once leave no job cgroup behind`, async () => {
  await withRuntime(async (runtime, _dataDir, cgroupName) => {
    const jobs = [];
    for (let i = 0; i < MANY; i++) {
      jobs.push(
        await runtime.start({ owner: "t", command: "sleep", args: ["600"] }),
      );
    }
    deepEqual((await jobCgroups(cgroupName)).length > 0, true);
    // Half get a grace (SIGTERM ends sleep), half are killed at once.
    const ended = await Promise.all(
      jobs.map((job, i) => job.stop(i % 2 ? 0 : 10_000)),
    );
    deepEqual(ended.filter((info) => info.state !== "stopped"), []);
    deepEqual(ended.filter((info) => info.error).map((info) => info.error), []);
    deepEqual(await jobCgroups(cgroupName), []);
  });
});

Deno.test("a runtime removes job cgroups an earlier one left behind", async () => {
  const { dataDir, cgroupName } = await freshTestDir("jw-test-");
  let runtime = await JobRuntime.open({ dataDir, cgroupName });
  try {
    const stray = "0123456789ab";
    for (const parent of await findCgroups(cgroupName)) {
      await Deno.mkdir(`${parent}/${stray}`);
    }
    await runtime.close({ graceMs: 0 });
    ok((await jobCgroups(cgroupName)).some((dir) => dir.endsWith(stray)));
    runtime = await JobRuntime.open({ dataDir, cgroupName });
    deepEqual(await jobCgroups(cgroupName), []);
  } finally {
    await runtime.close({ graceMs: 0 });
    await Deno.remove(dataDir, { recursive: true });
    deepEqual(await findCgroups(cgroupName), []);
  }
});
