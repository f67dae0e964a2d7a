import { deepEqual, ok, rejects } from "node:assert/strict";
import { JobError } from "../../lib/mod.ts";
import { collect, withRuntime } from "./_runtime.ts";

/** Host PIDs whose command line starts with `marker`. */
async function pidsWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`)
      .catch(() => "");
    if (cmdline.replaceAll("\0", " ").startsWith(marker)) {
      found.push(Number(entry.name));
    }
  }
  return found;
}

Deno.test("stop of a bare `sleep` ends it with SIGTERM: the job's init, not the command, is PID 1", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sleep",
      args: ["1000"],
    });
    // As PID 1 of its namespace, sleep would ignore SIGTERM and be killed
    // with SIGKILL when the grace ran out.
    const info = await job.stop(60_000);
    deepEqual(info.state, "stopped");
    deepEqual(info.signal, 15);
  });
});

Deno.test("stop of a SIGTERM-ignoring shell ends within grace + 1 s", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: ["-c", 'trap "" TERM; echo ready; while :; do sleep 1; done'],
    });
    const reader = job.output().getReader();
    await reader.read();
    const started = performance.now();
    const info = await job.stop(500);
    const took = performance.now() - started;
    await reader.cancel();
    deepEqual(info.state, "stopped");
    ok(took >= 500 && took < 1500, `took ${took} ms`);
  });
});

Deno.test("stop of a job that handles SIGTERM lets it exit cleanly", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: [
        "-c",
        'trap "echo bye; exit 0" TERM; echo ready; while :; do sleep 0.1; done',
      ],
    });
    const reader = job.output().getReader();
    await reader.read();
    await reader.cancel();
    const info = await job.stop(10_000);
    deepEqual(info.state, "stopped");
    deepEqual(info.exitCode, 0);
    deepEqual(
      (await collect(job, { streams: ["stdout"] })).text,
      "ready\nbye\n",
    );
  });
});

Deno.test("a double-forked setsid daemon is gone after stop", async () => {
  await withRuntime(async (runtime) => {
    const marker = `4242.${Math.floor(Math.random() * 1e6)}`;
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: ["-c", `setsid sh -c 'sleep ${marker} & exit 0' & sleep 1000`],
    });
    let daemons: number[] = [];
    while (daemons.length === 0) {
      daemons = await pidsWith(`sleep ${marker}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await job.stop(200);
    deepEqual(await pidsWith(`sleep ${marker}`), []);
  });
});

Deno.test("stopping an ended job is failed_precondition; stopping twice is harmless", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sleep",
      args: ["1000"],
    });
    const [a, b] = await Promise.all([job.stop(0), job.stop(0)]);
    deepEqual(a, b);
    await rejects(
      job.stop(0),
      (err: unknown) =>
        err instanceof JobError && err.code === "failed_precondition",
    );
    const done = await runtime.start({ owner: "t", command: "true" });
    await done.done;
    await rejects(
      done.stop(),
      (err: unknown) =>
        err instanceof JobError && err.code === "failed_precondition",
    );
  });
});

Deno.test("closing the runtime stops running jobs and leaves nothing behind", async () => {
  const marker = `4343.${Math.floor(Math.random() * 1e6)}`;
  await withRuntime(async (runtime) => {
    await runtime.start({ owner: "t", command: "sleep", args: [marker] });
    ok((await pidsWith(`sleep ${marker}`)).length === 1);
  });
  deepEqual(await pidsWith(`sleep ${marker}`), []);
});
