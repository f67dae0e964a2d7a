// Behavioural tests of whichever cgroup driver this host offers (v1 or v2),
// with real processes. They need root. Every test makes its own driver with a
// unique name and removes it, and the job cgroup, even when it fails.

import assert from "node:assert/strict";
import type { Limits } from "../limits.ts";
import { JobError } from "../errors.ts";
import { parseMountInfo, waitUntil } from "./_common.ts";
import type { CgroupDriver, CgroupManager } from "./cgroup_manager.ts";
import { findIoDevices, openCgroupDriver } from "./detect.ts";

const MiB = 1024 * 1024;
/** A directory on a real disk for io tests (the VM harness names its scratch disk). */
const DISK_DIR = Deno.env.get("JW_TEST_DATA_DIR") ?? "/var/tmp";

interface Spawned {
  pid: number;
  result: Promise<Deno.CommandOutput>;
}

interface JobContext {
  driver: CgroupDriver;
  job: CgroupManager;
  /** Runs `script` in sh after joining the job's cgroup the way job init does. */
  spawn(script: string): Promise<Spawned>;
}

function uniqueName(): string {
  return `jwtest-${crypto.randomUUID().slice(0, 8)}`;
}

async function withJob(
  limits: Limits,
  body: (ctx: JobContext) => Promise<void>,
): Promise<void> {
  const driver = await openCgroupDriver({
    name: uniqueName(),
    ioPaths: [DISK_DIR],
  });
  const children: Spawned[] = [];
  try {
    const job = await driver.create("job1");
    try {
      await job.apply(limits);
      const spawn = async (script: string) => {
        const spawned = spawnIn(job, script);
        children.push(spawned);
        // A short script may join, run and exit before a look at the cgroup
        // (slow machines, the VM): its result then tells how it went.
        let ended = false;
        spawned.result.finally(() => ended = true).catch(() => {});
        await waitUntil(
          async () => ended || (await job.pids()).includes(spawned.pid),
          "the child to join",
        );
        return spawned;
      };
      await body({ driver, job, spawn });
    } finally {
      await job.destroy();
      await Promise.allSettled(children.map((c) => c.result));
    }
  } finally {
    await driver.close();
  }
  // close() removed the driver's parent cgroup: nothing is left behind.
  await assert.rejects(Deno.stat(driver.root), Deno.errors.NotFound);
}

function spawnIn(job: CgroupManager, script: string): Spawned {
  const join = 'for f in "$@"; do echo 0 > "$f" || exit 99; done';
  const child = new Deno.Command("sh", {
    args: ["-c", `${join}; ${script}`, "sh", ...job.procsFiles],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  return { pid: child.pid, result: child.output() };
}

/** Reads `file` from whichever of the job's cgroup directories has it. */
async function readCgroupFile(job: CgroupManager, file: string) {
  for (const procs of job.procsFiles) {
    const path = procs.replace(/cgroup\.procs$/, file);
    try {
      return (await Deno.readTextFile(path)).trim();
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return undefined;
}

async function diskDevices(): Promise<string[]> {
  const mounts = parseMountInfo(
    await Deno.readTextFile("/proc/self/mountinfo"),
  );
  return (await findIoDevices([DISK_DIR], mounts)).devices;
}

function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("apply writes the limits to the version's cgroup files", async () => {
  const [device] = await diskDevices();
  const limits: Limits = {
    cpu: 0.5,
    memoryBytes: 64 * MiB,
    ioReadBps: MiB,
    ioWriteBps: 2 * MiB,
    pids: 10,
  };
  await withJob(limits, async ({ driver, job }) => {
    const read = (file: string) => readCgroupFile(job, file);
    if (driver.version === 1) {
      assert.equal(await read("cpu.cfs_period_us"), "100000");
      assert.equal(await read("cpu.cfs_quota_us"), "50000");
      assert.equal(await read("memory.limit_in_bytes"), String(64 * MiB));
      const memsw = await read("memory.memsw.limit_in_bytes");
      if (memsw !== undefined) assert.equal(memsw, String(64 * MiB));
      assert.equal(
        await read("blkio.throttle.read_bps_device"),
        `${device} ${MiB}`,
      );
      assert.equal(
        await read("blkio.throttle.write_bps_device"),
        `${device} ${2 * MiB}`,
      );
    } else {
      assert.equal(await read("cpu.max"), "50000 100000");
      assert.equal(await read("memory.max"), String(64 * MiB));
      const swap = await read("memory.swap.max");
      if (swap !== undefined) assert.equal(swap, "0");
      assert.match(
        await read("io.max") ?? "",
        new RegExp(`^${device} rbps=${MiB} wbps=${2 * MiB}`),
      );
    }
    assert.equal(await read("pids.max"), "10");

    // Lowering and raising memory must both work (v1 orders memsw around it).
    await job.apply({ memoryBytes: 32 * MiB });
    await job.apply({ memoryBytes: 128 * MiB });
    await job.apply({});
    assert.equal(await read("pids.max"), "max");
    if (driver.version === 1) {
      assert.equal(await read("cpu.cfs_quota_us"), "-1");
      assert.equal(await read("blkio.throttle.write_bps_device"), "");
    } else {
      assert.equal(await read("cpu.max"), "max 100000");
      assert.equal(await read("memory.max"), "max");
    }
  });
});

Deno.test("the driver's parent cgroup sits beneath the server's own cgroup", async () => {
  const name = uniqueName();
  const driver = await openCgroupDriver({ name, ioPaths: [DISK_DIR] });
  try {
    assert.ok(driver.root.includes(`/${name}`));
    assert.notEqual(driver.root, `/sys/fs/cgroup/${name}`);
    assert.notEqual(driver.root, `/sys/fs/cgroup/memory/${name}`);
    const job = await driver.create("job1");
    try {
      assert.deepEqual(await driver.list(), ["job1"]);
      for (const file of job.procsFiles) {
        assert.ok(
          file.endsWith(`/${name}/job1/cgroup.procs`),
        );
      }
      await assert.rejects(
        driver.create("job1"),
        (err: JobError) => err.code === "failed_precondition",
      );
      await assert.rejects(
        driver.create("../x"),
        (err: JobError) => err.code === "invalid_argument",
      );
    } finally {
      await job.destroy();
    }
  } finally {
    await driver.close();
  }
});

Deno.test("pids lists a process that joined through procsFiles", async () => {
  await withJob({}, async ({ job, spawn }) => {
    const child = await spawn("exec sleep 1000");
    assert.deepEqual(await job.pids(), [child.pid]);
  });
});

Deno.test("signalAll(SIGTERM) stops a plain sleep", async () => {
  await withJob({}, async ({ job, spawn }) => {
    const child = await spawn("exec sleep 1000");
    await job.signalAll("SIGTERM");
    const { signal } = await child.result;
    assert.equal(signal, "SIGTERM");
    assert.deepEqual(await job.pids(), []);
  });
});

Deno.test("kill stops a SIGTERM-ignoring process and a double-forked setsid daemon", async () => {
  await withJob({}, async ({ job, spawn }) => {
    const child = await spawn(
      "trap '' TERM; (setsid sleep 1000 &); exec sleep 1000",
    );
    await waitUntil(async () => (await job.pids()).length === 2, "the daemon");
    const pids = await job.pids();
    await job.signalAll("SIGTERM");
    await sleep(200);
    assert.equal((await job.pids()).length, 2, "SIGTERM is ignored");
    await job.kill();
    assert.deepEqual(await job.pids(), []);
    assert.equal((await child.result).signal, "SIGKILL");
    for (const pid of pids) assert.ok(!isAlive(pid), `pid ${pid} is dead`);
  });
});

Deno.test("the pids limit makes forks fail", async () => {
  await withJob({ pids: 5 }, async ({ job, spawn }) => {
    // Each round forks a sleep (its stderr closed so that the pipe ends with
    // the shell); the shell exits at the first fork that fails.
    const child = await spawn(
      "i=0; while [ $i -lt 30 ]; do sleep 1000 2>/dev/null & i=$((i+1)); done",
    );
    const { code, stderr } = await child.result;
    assert.notEqual(code, 0);
    const pids = await job.pids();
    assert.ok(pids.length <= 5, `${pids.length} processes`);
    assert.match(new TextDecoder().decode(stderr), /fork/i);
  });
});

Deno.test("a memory hog over memoryBytes is OOM-killed and reported", async () => {
  await withJob({ memoryBytes: 64 * MiB }, async ({ job, spawn }) => {
    // dd allocates its 200M buffer and fills it from /dev/zero.
    const child = await spawn(
      "exec dd if=/dev/zero of=/dev/null bs=200M count=1",
    );
    assert.equal((await child.result).signal, "SIGKILL");
    const stats = await job.stats();
    assert.equal(stats.oomKilled, true);
    assert.ok(
      stats.memoryPeakBytes <= 64 * MiB + MiB,
      `${stats.memoryPeakBytes}`,
    );
  });
});

Deno.test("a cpu quota of 0.2 holds a busy loop near a fifth of a core", async () => {
  await withJob({ cpu: 0.2 }, async ({ job, spawn }) => {
    await spawn("while :; do :; done");
    await sleep(300);
    const before = await job.stats();
    const start = performance.now();
    await sleep(2000);
    const after = await job.stats();
    const wall = (performance.now() - start) / 1000;
    const share = (after.cpuSeconds - before.cpuSeconds) / wall;
    assert.ok(share > 0.1 && share < 0.35, `share ${share.toFixed(3)}`);
    assert.ok(after.cpuThrottledSeconds > before.cpuThrottledSeconds);
  });
});

Deno.test("stats of a finished job are sane and say no OOM", async () => {
  await withJob({ memoryBytes: 256 * MiB }, async ({ job, spawn }) => {
    const child = await spawn(
      "dd if=/dev/zero of=/dev/null bs=16M count=50 2>/dev/null; exit 3",
    );
    assert.equal((await child.result).code, 3);
    const stats = await job.stats();
    assert.ok(
      stats.cpuSeconds > 0 && stats.cpuSeconds < 60,
      `${stats.cpuSeconds}`,
    );
    assert.ok(stats.memoryPeakBytes >= 16 * MiB, `${stats.memoryPeakBytes}`);
    assert.ok(stats.memoryPeakBytes <= 256 * MiB);
    assert.ok(stats.ioReadBytes >= 0 && stats.ioWriteBytes >= 0);
    assert.ok(stats.cpuThrottledSeconds >= 0);
    assert.equal(stats.oomKilled, false);
  });
});

Deno.test("io limits throttle direct writes and reads on the data disk", async () => {
  const dir = await Deno.makeTempDir({ dir: DISK_DIR, prefix: "jwtest-" });
  try {
    const limits = { ioReadBps: 2 * MiB, ioWriteBps: 2 * MiB };
    await withJob(limits, async ({ job, spawn }) => {
      const dd = (args: string) => `exec dd ${args} bs=1M count=6 2>/dev/null`;
      let start = performance.now();
      const writer = await spawn(dd(`if=/dev/zero of=${dir}/f oflag=direct`));
      assert.equal((await writer.result).code, 0);
      const writeSeconds = (performance.now() - start) / 1000;
      assert.ok(writeSeconds >= 2, `6 MiB written in ${writeSeconds}s`);

      start = performance.now();
      const reader = await spawn(dd(`if=${dir}/f of=/dev/null iflag=direct`));
      assert.equal((await reader.result).code, 0);
      const readSeconds = (performance.now() - start) / 1000;
      assert.ok(readSeconds >= 2, `6 MiB read in ${readSeconds}s`);

      const stats = await job.stats();
      assert.ok(stats.ioWriteBytes >= 6 * MiB, `${stats.ioWriteBytes}`);
      assert.ok(stats.ioReadBytes >= 6 * MiB, `${stats.ioReadBytes}`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("io limits are refused when no block device backs the data paths", async () => {
  for (const ioPaths of [["/dev/shm"], []]) {
    const driver = await openCgroupDriver({ name: uniqueName(), ioPaths });
    try {
      const job = await driver.create("job1");
      try {
        await assert.rejects(
          job.apply({ ioWriteBps: MiB }),
          (err: JobError) =>
            err.code === "invalid_argument" &&
            err.message.startsWith("io limits are not available: "),
        );
        await job.apply({ cpu: 1 });
      } finally {
        await job.destroy();
      }
    } finally {
      await driver.close();
    }
  }
});

Deno.test("destroy kills what is left, removes the directories and can run twice", async () => {
  const driver = await openCgroupDriver({ name: uniqueName(), ioPaths: [] });
  try {
    const job = await driver.create("job1");
    const child = spawnIn(job, "trap '' TERM; exec sleep 1000");
    try {
      await waitUntil(async () => (await job.pids()).length === 1, "join");
      await job.destroy();
      assert.equal((await child.result).signal, "SIGKILL");
      for (const file of job.procsFiles) {
        await assert.rejects(
          Deno.stat(file.replace(/\/cgroup\.procs$/, "")),
          Deno.errors.NotFound,
        );
      }
      assert.deepEqual(await driver.list(), []);
      await job.destroy();
    } finally {
      await job.destroy();
      await child.result;
    }
  } finally {
    await driver.close();
  }
});

/** The cgroup version of this host, as the driver detects it. */
const hostVersion = await (async () => {
  const driver = await openCgroupDriver({ name: uniqueName(), ioPaths: [] });
  await driver.close();
  return driver.version;
})();

async function ownCgroup(): Promise<string> {
  const text = await Deno.readTextFile("/proc/self/cgroup");
  return /^0::(.*)$/m.exec(text)?.[1] ?? "";
}

Deno.test({
  name:
    "v2: the server sits in its own leaf while the driver is open, and leaves it on close",
  ignore: hostVersion !== 2,
  fn: async () => {
    const before = await ownCgroup();
    const name = uniqueName();
    const driver = await openCgroupDriver({ name, ioPaths: [] });
    try {
      assert.equal(
        await ownCgroup(),
        `${before}/${name}-server`.replace(/^\/\//, "/"),
      );
      assert.ok(driver.root.endsWith(`/${name}`));
      const control = await Deno.readTextFile(
        `${driver.root}/cgroup.subtree_control`,
      );
      for (const c of ["cpu", "memory", "pids"]) {
        assert.match(control, new RegExp(`\\b${c}\\b`));
      }
    } finally {
      await driver.close();
    }
    assert.equal(await ownCgroup(), before);
    await assert.rejects(Deno.stat(driver.root), Deno.errors.NotFound);
    await assert.rejects(
      Deno.stat(`${driver.root}-server`),
      Deno.errors.NotFound,
    );
  },
});

Deno.test({
  name:
    "v2: a cgroup shared with other processes is refused with a delegation hint",
  ignore: hostVersion !== 2 || (await ownCgroup()) === "/",
  fn: async () => {
    const other = new Deno.Command("sleep", { args: ["1000"] }).spawn();
    try {
      await assert.rejects(
        openCgroupDriver({ name: uniqueName(), ioPaths: [] }),
        (err: JobError) =>
          err.code === "failed_to_start" && /Delegate=yes/.test(err.message),
      );
    } finally {
      other.kill("SIGKILL");
      await other.status;
    }
  },
});

Deno.test({
  name:
    "v1: a job joins cpu, cpuacct, memory, blkio, pids and freezer but not cpuset",
  ignore: hostVersion !== 1,
  fn: async () => {
    await withJob({}, async ({ job }) => {
      for (
        const file of [
          "cpu.cfs_quota_us",
          "cpuacct.usage",
          "memory.limit_in_bytes",
          "blkio.throttle.write_bps_device",
          "pids.max",
          "freezer.state",
        ]
      ) {
        assert.notEqual(await readCgroupFile(job, file), undefined, file);
      }
      assert.equal(await readCgroupFile(job, "cpuset.cpus"), undefined);
      assert.equal(await readCgroupFile(job, "freezer.state"), "THAWED");
    });
  },
});
