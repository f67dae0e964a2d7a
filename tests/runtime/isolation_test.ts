import { deepEqual, match, ok } from "node:assert/strict";
import { runShell, TEST_DATA_PARENT, withRuntime } from "./_runtime.ts";

Deno.test("a job runs beneath its own init as PID 1, with its id as hostname, a uid of its own and no privileges", async () => {
  await withRuntime(async (runtime) => {
    const { job, info, out } = await runShell(
      runtime,
      'echo "$$ $(cat /proc/1/comm) $(hostname) $(id -u) $(id -g) $(id -G)"; tr "\\0" " " </proc/1/cmdline; echo; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; ls /proc | grep -cE "^[0-9]+$"',
    );
    deepEqual(info.exitCode, 0);
    const [ids, cmdline, capEff, capBnd, nnp, seccomp, procs] = out.stdout
      .trim().split("\n");
    ok(info.uid !== undefined && info.uid === info.gid);
    const uid = info.uid;
    deepEqual(ids, `2 jw-init ${job.id} ${uid} ${uid} ${uid}`);
    // The init's own command line (host paths) is wiped.
    deepEqual(cmdline.trim(), "jw-init");
    match(capEff, /0000000000000000$/);
    match(capBnd, /0000000000000000$/);
    match(nnp, /1$/);
    match(seccomp, /2$/, "a seccomp filter is in force");
    ok(Number(procs) <= 5, `sees ${procs} processes`);
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

Deno.test("a job cannot leave its cgroup, mount, write its view, or read a root-only file it sees", async () => {
  const secretDir = await Deno.makeTempDir({
    dir: TEST_DATA_PARENT,
    prefix: "jw-secret-",
  });
  const secret = `${secretDir}/secret`;
  await Deno.writeTextFile(secret, "root only\n", { mode: 0o600 });
  try {
    await withRuntime(async (runtime) => {
      const { out } = await runShell(
        runtime,
        // The host's cgroup files are not in the job's /sys; mounting its own fails.
        `find /sys/fs/cgroup -name cgroup.procs 2>/dev/null | wc -l; ` +
          `mount -t cgroup2 none /tmp 2>/dev/null && echo mounted; ` +
          `echo 1 > /proc/sys/kernel/hostname 2>/dev/null && echo renamed; ` +
          `touch /usr/jw-x /etc/jw-x /jw-x 2>/dev/null && echo wrote; ` +
          `cat ${secret} && echo "read secret"; true`,
      );
      deepEqual(out.stdout, "0\n");
      match(out.stderr, /Permission denied/);
    }, { viewPaths: [secret] });
  } finally {
    await Deno.remove(secretDir, { recursive: true });
  }
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

Deno.test("by default a job works in /work, a fresh directory only its uid can enter, removed when it ends", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const { job, info, out } = await runShell(
      runtime,
      'pwd; echo "$HOME"; touch made-here && echo ok; stat -c "%u %a" .',
    );
    deepEqual(info.dir, "/work");
    deepEqual(out.stdout, `/work\n/work\nok\n${info.uid} 700\n`);
    ok(
      !(await Deno.stat(`${dataDir}/work/${job.id}`).then(
        () => true,
        () => false,
      )),
      "work dir removed",
    );
  });
});
