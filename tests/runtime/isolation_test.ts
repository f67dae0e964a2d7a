import { deepEqual, match, ok } from "node:assert/strict";
import { runShell, withRuntime } from "./_runtime.ts";

Deno.test("a job sees itself as PID 1, its id as hostname, and runs as nobody without privileges", async () => {
  await withRuntime(async (runtime) => {
    const { job, info, out } = await runShell(
      runtime,
      'echo "$$ $(hostname) $(id -u) $(id -g) $(id -G)"; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; ls /proc | grep -cE "^[0-9]+$"',
    );
    deepEqual(info.exitCode, 0);
    const [ids, capEff, capBnd, nnp, procs] = out.stdout.trim().split("\n");
    deepEqual(ids, `1 ${job.id} 65534 65534 65534`);
    match(capEff, /0000000000000000$/);
    match(capBnd, /0000000000000000$/);
    match(nnp, /1$/);
    ok(Number(procs) <= 4, `sees ${procs} processes`);
  });
});

Deno.test("a job's network has only lo, up, and no route out", async () => {
  await withRuntime(async (runtime) => {
    const { out } = await runShell(
      runtime,
      "ls /sys/class/net; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags; cat /proc/net/route | wc -l",
    );
    const lines = out.stdout.trim().split("\n");
    deepEqual(lines[0], "lo");
    deepEqual(Number(lines[2]) & 1, 1, "lo is up");
    deepEqual(lines[3], "1", "no routes beyond the header");
  });
});

Deno.test("a job cannot leave its cgroup, mount, or read a root-only file", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const secret = `${dataDir}/secret`;
    await Deno.writeTextFile(secret, "root only\n", { mode: 0o600 });
    const { out } = await runShell(
      runtime,
      // The host's cgroup files are not in the job's /sys; mounting its own fails.
      `find /sys/fs/cgroup -name cgroup.procs 2>/dev/null | wc -l; ` +
        `mount -t cgroup2 none /tmp 2>/dev/null && echo mounted; ` +
        `echo 1 > /proc/sys/kernel/hostname 2>/dev/null && echo renamed; ` +
        `cat ${secret} && echo "read secret"; true`,
    );
    deepEqual(out.stdout, "0\n");
    match(out.stderr, /Permission denied/);
  });
});

Deno.test("a job gets a clean environment plus what the request sets", async () => {
  Deno.env.set("JW_SERVER_SECRET", "must-not-leak");
  try {
    await withRuntime(async (runtime) => {
      const { job, out } = await runShell(runtime, "env | sort", {
        env: { GREETING: "hi there" },
      });
      const env = new Set(out.stdout.trim().split("\n"));
      ok(env.has("GREETING=hi there"));
      ok(env.has(`JW_JOB_ID=${job.id}`));
      ok([...env].some((line) => line.startsWith("PATH=/usr/local/sbin:")));
      ok(
        ![...env].some((line) => line.startsWith("JW_SERVER_SECRET")),
        out.stdout,
      );
    });
  } finally {
    Deno.env.delete("JW_SERVER_SECRET");
  }
});

Deno.test("by default a job works in a fresh directory it owns, removed when it ends", async () => {
  await withRuntime(async (runtime) => {
    const { info, out } = await runShell(
      runtime,
      "pwd; touch made-here && echo ok; stat -c %u .",
    );
    deepEqual(out.stdout, `${info.dir}\nok\n65534\n`);
    deepEqual(info.dir, out.stdout.split("\n")[0]);
    ok(
      !(await Deno.stat(info.dir).then(() => true, () => false)),
      "work dir removed",
    );
  });
});
