import { deepEqual, match, ok, rejects } from "node:assert/strict";
import { JobError, JobRuntime } from "../../lib/mod.ts";
import { collect, findCgroups, TEST_DATA_PARENT } from "./_runtime.ts";

/** Starts jobs in a separate runtime process, then kills that process with SIGKILL. */
async function startThenCrash(
  dataDir: string,
  cgroupName: string,
  scripts: Record<string, string>,
  waitFor: (ids: Record<string, string>) => Promise<void> = async () => {},
): Promise<Record<string, string>> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_start_jobs.ts", import.meta.url).pathname,
      dataDir,
      cgroupName,
      JSON.stringify(scripts),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      throw new Error("the runtime process ended before starting its jobs");
    }
    text += value;
  }
  const ids = JSON.parse(text);
  await waitFor(ids);
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel();
  return ids;
}

async function withDataDir(
  fn: (dataDir: string, cgroupName: string) => Promise<void>,
): Promise<void> {
  await Deno.mkdir(TEST_DATA_PARENT, { recursive: true });
  const dataDir = await Deno.makeTempDir({
    dir: TEST_DATA_PARENT,
    prefix: "jw-restart-",
  });
  await Deno.chmod(dataDir, 0o711);
  const cgroupName = `jwtest-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await fn(dataDir, cgroupName);
  } finally {
    // Whatever a failed test left running goes with one more runtime.
    const cleanup = await JobRuntime.open({ dataDir, cgroupName });
    await cleanup.close({ graceMs: 0 });
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    deepEqual(await findCgroups(cgroupName), [], "job cgroups left behind");
  }
}

Deno.test("after a kill -9 of the server, every job is back: finished, still running, and still writing", async () => {
  await withDataDir(async (dataDir, cgroupName) => {
    const ids = await startThenCrash(dataDir, cgroupName, {
      finished: "echo done; echo warn >&2",
      sleeper: "echo sleeping; exec sleep 1000",
      writer:
        "i=0; while [ $i -lt 40 ]; do echo line $i; i=$((i+1)); sleep 0.05; done; exit 7",
    }, async () => await new Promise((r) => setTimeout(r, 300)));

    const runtime = await JobRuntime.open({ dataDir, cgroupName });
    try {
      deepEqual(runtime.list().length, 3);
      const finished = runtime.get(ids.finished);
      deepEqual(finished.info().state, "exited");
      deepEqual(finished.info().owner, "tester");
      const out = await collect(finished);
      deepEqual([out.stdout, out.stderr], ["done\n", "warn\n"]);

      // The writer went on while no server ran; it is followed to its end.
      const writer = runtime.get(ids.writer);
      const lines = (await collect(writer)).stdout.trim().split("\n");
      deepEqual(lines.length, 40);
      deepEqual(lines[39], "line 39");
      const end = await writer.done;
      deepEqual([end.state, end.exitCode], ["exited", 7]);

      const sleeper = runtime.get(ids.sleeper);
      deepEqual(sleeper.info().state, "running");
      const stopped = await sleeper.stop(0);
      deepEqual(stopped.state, "stopped");
    } finally {
      await runtime.close({ graceMs: 0 });
    }

    // And once more: everything is final and the same.
    const again = await JobRuntime.open({ dataDir, cgroupName });
    try {
      deepEqual(again.list().map((job) => job.info().state).sort(), [
        "exited",
        "exited",
        "stopped",
      ]);
      deepEqual(
        (await collect(again.get(ids.writer))).stdout.split("\n").length,
        41,
      );
    } finally {
      await again.close({ graceMs: 0 });
    }
  });
});

Deno.test("a running job whose launcher died with the server is killed and marked lost", async () => {
  await withDataDir(async (dataDir, cgroupName) => {
    const marker = `4545.${Math.floor(Math.random() * 1e6)}`;
    const ids = await startThenCrash(dataDir, cgroupName, {
      victim: `exec sleep ${marker}`,
    });
    // The launcher goes too (as when a service manager kills the whole service).
    const status = await Deno.readTextFile(
      `${dataDir}/logs/${ids.victim}.status`,
    );
    const launcher = Number(status.trim().split(" ")[2]);
    ok(launcher > 0, status);
    Deno.kill(launcher, "SIGKILL");
    while (await Deno.stat(`/proc/${launcher}`).then(() => true, () => false)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // The job dies with its launcher (parent-death signal), before any server acts.
    const pgrep = () =>
      new TextDecoder().decode(
        new Deno.Command("pgrep", { args: ["-f", `^sleep ${marker}`] })
          .outputSync().stdout,
      );
    for (let i = 0; i < 100 && pgrep(); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    deepEqual(pgrep(), "", "the job outlived its launcher");
    const runtime = await JobRuntime.open({ dataDir, cgroupName });
    try {
      const info = await runtime.get(ids.victim).done;
      deepEqual(info.state, "lost");
      match(info.error ?? "", /launcher/);
    } finally {
      await runtime.close({ graceMs: 0 });
    }
    const left = new Deno.Command("pgrep", { args: ["-f", `^sleep ${marker}`] })
      .outputSync();
    deepEqual(new TextDecoder().decode(left.stdout), "");
  });
});

Deno.test("remove deletes a finished job and its output; a running one is refused", async () => {
  await withDataDir(async (dataDir, cgroupName) => {
    const runtime = await JobRuntime.open({ dataDir, cgroupName });
    try {
      const done = await runtime.start({
        owner: "t",
        command: "echo",
        args: ["bye"],
      });
      await done.done;
      const running = await runtime.start({
        owner: "t",
        command: "sleep",
        args: ["1000"],
      });
      await rejects(
        runtime.remove(running.id),
        (e: unknown) =>
          e instanceof JobError && e.code === "failed_precondition",
      );
      await runtime.remove(done.id);
      ok(!runtime.list().some((job) => job.id === done.id));
      const files = [...Deno.readDirSync(`${dataDir}/logs`)].map((e) => e.name);
      ok(!files.some((name) => name.startsWith(done.id)), files.join());
      ok(
        !(await Deno.stat(`${dataDir}/jobs/${done.id}`).then(
          () => true,
          () => false,
        )),
      );
      await running.stop(0);
    } finally {
      await runtime.close({ graceMs: 0 });
    }
    const again = await JobRuntime.open({ dataDir, cgroupName });
    deepEqual(again.list().length, 1);
    await again.close();
  });
});

Deno.test("retention removes finished jobs past their age and beyond the size budget, oldest first", async () => {
  await withDataDir(async (dataDir, cgroupName) => {
    // By size: three finished jobs of 100 KiB each under a 250 KiB budget keep the newest two.
    const bySize = await JobRuntime.open({
      dataDir,
      cgroupName,
      retention: { maxBytes: 250 * 1024 },
    });
    const ids: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const job = await bySize.start({
          owner: "t",
          command: "head",
          args: ["-c", "102400", "/dev/zero"],
        });
        await job.done;
        ids.push(job.id);
      }
      deepEqual(bySize.list().map((j) => j.id), ids.slice(1));
    } finally {
      await bySize.close();
    }
    // By age: a running job stays, the finished ones go.
    const byAge = await JobRuntime.open({
      dataDir,
      cgroupName,
      retention: { maxAgeMs: 0 },
    });
    try {
      const running = await byAge.start({
        owner: "t",
        command: "sleep",
        args: ["1000"],
      });
      const finished = await byAge.start({ owner: "t", command: "true" });
      await finished.done;
      deepEqual(byAge.list().map((j) => j.id), [running.id]);
      await running.stop(0);
    } finally {
      await byAge.close();
    }
  });
});

Deno.test("a full data directory fails the start with a clear error and the runtime keeps serving", async () => {
  const mountpoint = await Deno.makeTempDir({ prefix: "jw-tiny-" });
  await Deno.chmod(mountpoint, 0o711);
  const mount = new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=256k,mode=0711", "tmpfs", mountpoint],
  });
  ok((await mount.output()).success, "mount tmpfs");
  const cgroupName = `jwtest-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const runtime = await JobRuntime.open({
      dataDir: `${mountpoint}/data`,
      cgroupName,
    });
    try {
      // The job's own writes fail once the disk is full; it still ends normally.
      const filler = await runtime.start({
        owner: "t",
        command: "head",
        args: ["-c", "1000000", "/dev/zero"],
      });
      const info = await filler.done;
      ok(info.stdoutBytes < 1000000, `wrote ${info.stdoutBytes}`);
      await rejects(
        runtime.start({ owner: "t", command: "true" }),
        (e: unknown) =>
          e instanceof JobError && e.code === "resource_exhausted" &&
          /is full/.test(e.message),
      );
      // Freeing space makes it work again.
      await runtime.remove(filler.id);
      const ok2 = await runtime.start({ owner: "t", command: "true" });
      deepEqual((await ok2.done).state, "exited");
    } finally {
      await runtime.close({ graceMs: 0 });
    }
  } finally {
    await new Deno.Command("umount", { args: [mountpoint] }).output();
    await Deno.remove(mountpoint, { recursive: true }).catch(() => {});
    deepEqual(await findCgroups(cgroupName), []);
  }
});
