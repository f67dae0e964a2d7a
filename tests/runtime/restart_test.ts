import { deepEqual, match, ok, rejects } from "node:assert/strict";
import { JobError, JobRuntime } from "../../lib/mod.ts";
import { OwnCgroup } from "../_own_cgroup.ts";
import { findCgroups, freshTestDir } from "./_runtime.ts";
import type { CheckReport } from "./_stand_in_server.ts";

const STAND_IN = new URL("./_stand_in_server.ts", import.meta.url).pathname;

/**
 * A data directory whose servers are child processes (tests/runtime/
 * _stand_in_server.ts) that all run in one cgroup of their own, as a service
 * does across restarts; on cgroup v2 the job cgroups live beneath it.
 */
interface ServerDir {
  dataDir: string;
  /**
   * Starts jobs in a server, waits for `waitFor`, then ends the server with
   * `signal`: SIGKILL (a crash, the default) or SIGTERM (a clean exit that
   * leaves the jobs running).
   */
  startThenCrash(
    scripts: Record<string, string>,
    waitFor?: () => Promise<void>,
    signal?: "SIGKILL" | "SIGTERM",
  ): Promise<Record<string, string>>;
  /** Opens the data directory in a new server; see `check` in the stand-in. */
  check(stop?: string[], release?: string[]): Promise<CheckReport>;
}

/**
 * Runs `fn` with a fresh data directory; then one more server stops whatever
 * is left, and nothing may be left: no job cgroup, no process in the servers'
 * cgroup, no cgroup named after the test.
 */
async function withServerDir(
  fn: (dir: ServerDir) => Promise<void>,
  { policy }: { policy?: object } = {},
) {
  await using cgroup = await OwnCgroup.create();
  const { dataDir, cgroupName } = await freshTestDir("jw-restart-");
  const policyPath = policy && `${dataDir}.policy.json`;
  if (policyPath) await Deno.writeTextFile(policyPath, JSON.stringify(policy));
  // Each server starts where a service manager would put it: the first in
  // the delegated cgroup, later ones in the leaf the first one made.
  const server = (mode: string, ...args: string[]) =>
    cgroup.command(Deno.execPath(), {
      args: ["run", "-A", STAND_IN, mode, dataDir, cgroupName, ...args],
      stdout: "piped",
      stderr: "inherit",
      env: policyPath ? { JW_STAND_IN_POLICY: policyPath } : {},
    }, `${cgroupName}-server`);
  const run = async (mode: string, ...args: string[]) => {
    const out = await server(mode, ...args).output();
    if (!out.success) {
      throw new Error(`the ${mode} server failed (${out.code})`);
    }
    return new TextDecoder().decode(out.stdout);
  };
  let passed = false;
  try {
    await fn({
      dataDir,
      async startThenCrash(
        scripts,
        waitFor = async () => {},
        signal = "SIGKILL",
      ) {
        const child = server("start", JSON.stringify(scripts)).spawn();
        const reader = child.stdout.pipeThrough(new TextDecoderStream())
          .getReader();
        let text = "";
        while (!text.includes("\n")) {
          const { value, done } = await reader.read();
          if (done) {
            throw new Error(
              "the runtime process ended before starting its jobs",
            );
          }
          text += value;
        }
        const ids = JSON.parse(text);
        await waitFor();
        child.kill(signal);
        const status = await child.status;
        if (signal === "SIGTERM" && !status.success) {
          throw new Error(`the start server exited ${status.code} on SIGTERM`);
        }
        await reader.cancel();
        return ids;
      },
      async check(stop = [], release = []) {
        return JSON.parse(
          await run("check", JSON.stringify(stop), JSON.stringify(release)),
        );
      },
    });
    passed = true;
  } finally {
    // Whatever a failed test left running goes with one more server (and
    // with the cgroup); the test's own failure is the one reported then.
    const cleaned = run("clean");
    await (passed ? cleaned : cleaned.catch(() => ""));
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    if (policyPath) await Deno.remove(policyPath).catch(() => {});
    if (passed) {
      deepEqual(await jobCgroups(cgroupName), [], "job cgroups left behind");
      deepEqual(await cgroup.processes(), [], "processes left behind");
    }
  }
  await cgroup[Symbol.asyncDispose]();
  deepEqual(await findCgroups(cgroupName), [], "cgroups left behind");
}

/**
 * Job cgroups beneath every cgroup named `name` (the runtime's layout is
 * `<name>/<job>`, on v2 beside the server's leaf `<name>-server`).
 */
async function jobCgroups(name: string): Promise<string[]> {
  const found: string[] = [];
  for (const dir of await findCgroups(name)) {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) found.push(`${dir}/${entry.name}`);
    }
  }
  return found;
}

/** Runs `fn` with a fresh data directory for runtimes in this process. */
async function withDataDir(
  fn: (dataDir: string, cgroupName: string) => Promise<void>,
): Promise<void> {
  const { dataDir, cgroupName } = await freshTestDir("jw-restart-");
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

/** Pids of processes whose command line (arguments joined by spaces) starts with `prefix`, like `pgrep -f ^prefix`. */
function processesRunning(prefix: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (argv.split("\0").join(" ").startsWith(prefix)) {
        pids.push(Number(entry.name));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

Deno.test("after a kill -9 of the server, every job is back: finished, still running, and still writing", async () => {
  await withServerDir(async (server) => {
    const ids = await server.startThenCrash({
      finished: "echo done; echo warn >&2",
      sleeper: "id -u; exec sleep 1000",
      writer:
        "i=0; while [ $i -lt 40 ]; do echo line $i; i=$((i+1)); sleep 0.05; done; exit 7",
    }, async () => await new Promise((r) => setTimeout(r, 300)));

    // The restarted server stops the sleeper and follows the others to their end.
    const report = await server.check([ids.sleeper]);
    deepEqual(Object.keys(report).sort(), Object.values(ids).sort());
    const finished = report[ids.finished];
    deepEqual(finished.stateAtOpen, "exited");
    deepEqual(finished.owner, "tester");
    deepEqual([finished.stdout, finished.stderr], ["done\n", "warn\n"]);

    // The writer went on while no server ran; it is followed to its end.
    const writer = report[ids.writer];
    const lines = writer.stdout.trim().split("\n");
    deepEqual(lines.length, 40);
    deepEqual(lines[39], "line 39");
    deepEqual([writer.end.state, writer.end.exitCode], ["exited", 7]);

    const sleeper = report[ids.sleeper];
    deepEqual(sleeper.stateAtOpen, "running");
    deepEqual(sleeper.end.state, "stopped");
    // Its uid came back with its record, and was not handed to a new job.
    deepEqual(sleeper.stdout, `${sleeper.uid}\n`);
    ok(sleeper.uidOfNewJob !== undefined);
    ok(sleeper.uidOfNewJob !== sleeper.uid, `new job got ${sleeper.uid}`);

    // And once more: everything is final and the same.
    const again = await server.check();
    deepEqual(
      Object.values(again).map((job) => job.stateAtOpen).sort(),
      ["exited", "exited", "stopped"],
    );
    deepEqual(again[ids.writer].stdout.split("\n").length, 41);
    deepEqual(again[ids.writer].stdout, writer.stdout);
    deepEqual(
      [again[ids.finished].stdout, again[ids.finished].stderr],
      ["done\n", "warn\n"],
    );
  });
});

Deno.test("a server's clean exit (SIGTERM) leaves running jobs running; the next one follows them to their end", async () => {
  await withServerDir(async (server) => {
    const ids = await server.startThenCrash(
      {
        // It ends when the next server tells it to, however slow the
        // machine is between the two servers (on its own after 30 s).
        writer:
          "trap 'echo last; exit 7' USR1; echo first; i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; exit 3",
        done: "echo quick",
      },
      async () => await new Promise((r) => setTimeout(r, 200)),
      "SIGTERM",
    );
    const report = await server.check([], [ids.writer]);
    const writer = report[ids.writer];
    deepEqual(writer.stateAtOpen, "running", "it outlived the server");
    deepEqual(writer.stdout, "first\nlast\n");
    deepEqual([writer.end.state, writer.end.exitCode], ["exited", 7]);
    deepEqual(report[ids.done].stdout, "quick\n");
  });
});

Deno.test("a job the next server follows is held to its owner's disk quota: its output is cut, it runs on", async () => {
  await withServerDir(async (server) => {
    const total = 50 * 1024 * 1024;
    const ids = await server.startThenCrash(
      {
        writer:
          `trap 'head -c ${total} /dev/zero; exit 4' USR1; i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`,
      },
      undefined,
      "SIGTERM",
    );
    const writer = (await server.check([], [ids.writer]))[ids.writer];
    deepEqual(writer.stateAtOpen, "running");
    deepEqual([writer.end.state, writer.end.exitCode], ["exited", 4]);
    const cut =
      /^output cut: .* disk quota; (\d+) bytes of output were dropped$/
        .exec(writer.end.error ?? "");
    ok(cut, String(writer.end.error));
    deepEqual(writer.stdout.length + Number(cut[1]), total);
  }, { policy: { quotas: { user: { diskBytes: "300K" } } } });
});

Deno.test("a running job whose launcher died with the server is killed and marked lost", async () => {
  await withServerDir(async (server) => {
    const marker = `4545.${Math.floor(Math.random() * 1e6)}`;
    const ids = await server.startThenCrash({ victim: `exec sleep ${marker}` });
    // The launcher goes too (as when a service manager kills the whole service).
    const status = await Deno.readTextFile(
      `${server.dataDir}/logs/${ids.victim}.status`,
    );
    const launcher = Number(status.trim().split(" ")[2]);
    ok(launcher > 0, status);
    Deno.kill(launcher, "SIGKILL");
    while (await Deno.stat(`/proc/${launcher}`).then(() => true, () => false)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // The job dies with its launcher (parent-death signal), before any server acts.
    // (The test VM has no pgrep: processes are looked up in /proc.)
    const victims = () => processesRunning(`sleep ${marker}`);
    for (let i = 0; i < 100 && victims().length > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    deepEqual(victims(), [], "the job outlived its launcher");
    const report = await server.check();
    const victim = report[ids.victim];
    deepEqual(victim.end.state, "lost");
    match(victim.end.error ?? "", /launcher/);
    deepEqual(victims(), [], "the job is left running");
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
    const records: Record<string, unknown>[] = [];
    const bySize = await JobRuntime.open({
      dataDir,
      cgroupName,
      retention: { maxBytes: 250 * 1024 },
      log: (record) => records.push(record),
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
      // Deleting a user's job and its output is logged.
      deepEqual(records, [
        { msg: "retention removed job", job: ids[0], owner: "t" },
      ]);
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
      match(info.error ?? "", /^output (may be )?truncated: .* is full/);
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

Deno.test("a broken job record is moved aside with a log line; the runtime opens and serves the other jobs", async () => {
  const { dataDir, cgroupName } = await freshTestDir("jw-test-");
  const records: Record<string, unknown>[] = [];
  let runtime = await JobRuntime.open({ dataDir, cgroupName });
  try {
    const kept = await runtime.start({
      owner: "t",
      command: "echo",
      args: ["kept"],
    });
    const spoilt = await runtime.start({ owner: "t", command: "true" });
    await Promise.all([kept.done, spoilt.done]);
    await runtime.close();
    await Deno.writeTextFile(
      `${dataDir}/jobs/${spoilt.id}/meta.json`,
      '{"id": "../',
    );
    runtime = await JobRuntime.open({
      dataDir,
      cgroupName,
      log: (record) => records.push(record),
    });
    deepEqual(runtime.list().map((job) => job.id), [kept.id]);
    deepEqual(runtime.get(kept.id).info().exitCode, 0);
    deepEqual(records.length, 1);
    deepEqual(records[0].msg, "job record moved aside");
    deepEqual(records[0].entry, spoilt.id);
    match(String(records[0].error), /not JSON/);
  } finally {
    await runtime.close({ graceMs: 0 });
    await Deno.remove(dataDir, { recursive: true });
    deepEqual(await findCgroups(cgroupName), []);
  }
});
