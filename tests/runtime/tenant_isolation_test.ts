// What one tenant's job can do to another's, or to the host: each test is an
// attack that worked when every job ran as one uid on the host's own tree.
import {
  deepEqual,
  match,
  notDeepEqual,
  ok,
  rejects,
} from "node:assert/strict";
import { type Job, JobError, type JobRuntime } from "../../lib/mod.ts";
import { DEFAULT_JOB_UIDS } from "../../lib/job_uids.ts";
import { DEFAULT_VIEW_PATHS } from "../../lib/job_view.ts";
import { collect, probePath, runShell, withRuntime } from "./_runtime.ts";

/** Starts `sh -c script` for `owner` and waits for its first line of stdout. */
async function startReady(
  runtime: JobRuntime,
  owner: string,
  script: string,
): Promise<{ job: Job; first: string }> {
  const job = await runtime.start({
    owner,
    command: "sh",
    args: ["-c", script],
  });
  const reader = job.output({ streams: ["stdout"] }).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value.data);
  }
  await reader.cancel();
  return { job, first: text.split("\n")[0] };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("concurrent jobs run as distinct uids of the range, none an account", async () => {
  await withRuntime(async (runtime) => {
    const jobs = await Promise.all(
      ["alice", "bob", "alice"].map((owner) =>
        startReady(runtime, owner, "id -u; sleep 1000")
      ),
    );
    const uids = jobs.map(({ first }) => Number(first));
    deepEqual(new Set(uids).size, 3, `uids ${uids}`);
    deepEqual(uids, jobs.map(({ job }) => job.info().uid));
    for (const uid of uids) {
      ok(uid >= DEFAULT_JOB_UIDS.first && uid <= DEFAULT_JOB_UIDS.last);
    }
    const passwd = await Deno.readTextFile("/etc/passwd");
    for (const uid of uids) ok(!passwd.includes(`:${uid}:`));
    await Promise.all(jobs.map(({ job }) => job.stop(0)));
  });
});

Deno.test("/tmp, /var/tmp and /dev/shm are each job's own, and never the host's", async () => {
  await withRuntime(async (runtime) => {
    const name = `jw-secret-${crypto.randomUUID().slice(0, 8)}`;
    const alice = await startReady(
      runtime,
      "alice",
      `for d in /tmp /var/tmp /dev/shm; do echo secret > $d/${name}; done; echo written; sleep 1000`,
    );
    deepEqual(alice.first, "written");
    const { out } = await runShell(
      runtime,
      `ls -A /tmp /var/tmp /dev/shm; cat /tmp/${name} /var/tmp/${name} /dev/shm/${name}; ` +
        `stat -c "%a %U" /tmp /var/tmp /dev/shm`,
    );
    ok(!out.stdout.includes(name), out.stdout);
    ok(!out.stdout.includes("secret"), out.stdout);
    match(out.stdout, /1777 root\n1777 root\n1777 root\n$/);
    for (const dir of ["/tmp", "/var/tmp", "/dev/shm"]) {
      ok(!await exists(`${dir}/${name}`), `host ${dir}/${name} was written`);
    }
    await alice.job.stop(0);
  });
});

Deno.test("a job cannot reach another job's working directory, by its view or by `dir`", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const alice = await startReady(
      runtime,
      "alice",
      "echo secret > notes; echo written; sleep 1000",
    );
    const hostDir = `${dataDir}/work/${alice.job.id}`;
    ok(await exists(`${hostDir}/notes`));
    await rejects(
      runtime.start({
        owner: "bob",
        command: "cat",
        args: ["notes"],
        dir: hostDir,
      }),
      (err) => err instanceof JobError && err.code === "invalid_argument",
    );
    const { out } = await runShell(
      runtime,
      `ls -A /work; cat ${hostDir}/notes; ls ${dataDir}`,
    );
    deepEqual(out.stdout, "");
    match(out.stderr, /No such file or directory/);
    await alice.job.stop(0);
  });
});

Deno.test("the host's tree is not in the job's view: only the bound system paths, read-only and nosuid", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const repo = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
    const { out } = await runShell(
      runtime,
      `ls -A /; for p in /home /root /var/lib /run ${repo} ${dataDir}; do test -e $p && echo "sees $p"; done; ` +
        `grep -v nosuid /proc/self/mounts; grep -E " /(usr|etc) " /proc/self/mounts | cut -d" " -f4 | cut -d, -f1; true`,
    );
    const expected = new Set(["dev", "proc", "sys", "tmp", "var", "work"]);
    for (const path of DEFAULT_VIEW_PATHS) {
      if (await exists(path)) expected.add(path.slice(1));
    }
    const lines = out.stdout.trim().split("\n");
    const listed = lines.filter((line) => !line.includes(" "));
    deepEqual(
      new Set(listed.filter((line) => !/^(ro|rw)$/.test(line))),
      expected,
    );
    ok(!out.stdout.includes("sees "), out.stdout);
    // Every mount is nosuid (no line lacks it); /usr and /etc are read-only.
    ok(!lines.some((line) => line.includes(" ")), out.stdout);
    deepEqual(lines.filter((line) => /^(ro|rw)$/.test(line)), ["ro", "ro"]);
  });
});

Deno.test("seccomp refuses user namespaces, mounts, keyrings, bpf, io_uring and userfaultfd with EPERM", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const denied = [
      "unshare-user",
      "clone-user",
      "unshare-net",
      "mount",
      "add_key",
      "keyctl",
      "bpf",
      "io_uring_setup",
      "userfaultfd",
      "personality-norandom",
    ];
    const allowed = ["fork", "personality-query"];
    const { out, info } = await runShell(
      runtime,
      `${probePath(dataDir)} try ${
        [...denied, ...allowed].join(" ")
      }; unshare -U true; echo "unshare $?"`,
    );
    deepEqual(info.exitCode, 0, out.stderr);
    const results = out.stdout.trim().split("\n");
    deepEqual(results, [
      ...denied.map((name) => `${name} EPERM`),
      ...allowed.map((name) => `${name} ok`),
      "unshare 1",
    ]);
  }, { probe: true });
});

Deno.test("each job has its own inotify budget: one that takes every instance leaves others theirs", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const max = Number(
      await Deno.readTextFile("/proc/sys/fs/inotify/max_user_instances"),
    );
    const hog = await startReady(
      runtime,
      "alice",
      `exec ${probePath(dataDir)} inotify ${max + 1}`,
    );
    deepEqual(Number(hog.first), max, "the hog got its whole budget");
    const { out } = await runShell(
      runtime,
      `${probePath(dataDir)} inotify 1 & sleep 0.5; kill $!`,
    );
    deepEqual(out.stdout, "1\n");
    await hog.job.stop(0);
  }, { probe: true });
});

Deno.test("what a job leaves in /dev/shm is freed when it ends", async () => {
  const shmem = async () =>
    Number(
      /^Shmem:\s+(\d+) kB/m.exec(await Deno.readTextFile("/proc/meminfo"))![1],
    ) * 1024;
  await withRuntime(async (runtime) => {
    const before = await shmem();
    const size = 128 * 1024 * 1024;
    const job = await startReady(
      runtime,
      "alice",
      `head -c ${size} /dev/zero > /dev/shm/big && stat -c %s /dev/shm/big; sleep 1000`,
    );
    deepEqual(Number(job.first), size);
    ok(await shmem() - before >= size / 2, "the job's shm is in host memory");
    await job.job.stop(0);
    // The namespace (and its tmpfs) goes with the last process, promptly
    // but not synchronously with the reporter's exit.
    let after = await shmem();
    for (let i = 0; i < 50 && after - before >= size / 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await shmem();
    }
    ok(after - before < size / 2, `Shmem still ${after - before} bytes up`);
  });
});

Deno.test("the init reaps orphans, and the command gets no core dumps and a bounded open-file limit", async () => {
  await withRuntime(async (runtime, dataDir) => {
    // jw-probe never waits for the grandchild it orphans: only PID 1 can.
    const { out } = await runShell(
      runtime,
      `${probePath(dataDir)} orphans; ulimit -c; ulimit -n`,
    );
    deepEqual(out.stdout, "0\n0\n1024\n");
  }, { probe: true });
});

Deno.test("uids: a range holding an account is refused at open; an exhausted range refuses starts and records nothing", async () => {
  await rejects(
    withRuntime(() => Promise.resolve(), { jobUids: { first: 0, last: 10 } }),
    (err) =>
      err instanceof JobError && err.code === "invalid_argument" &&
      /overlaps the id of root/.test(err.message),
  );
  const first = DEFAULT_JOB_UIDS.first;
  await withRuntime(async (runtime) => {
    const a = await runtime.start({
      owner: "a",
      command: "sleep",
      args: ["1000"],
    });
    const b = await runtime.start({
      owner: "b",
      command: "sleep",
      args: ["1000"],
    });
    notDeepEqual(a.info().uid, b.info().uid);
    await rejects(
      runtime.start({ owner: "c", command: "true" }),
      (err) =>
        err instanceof JobError && err.code === "resource_exhausted" &&
        /no free job uid/.test(err.message),
    );
    deepEqual(runtime.list().length, 2);
    // A uid is free again once its job has ended and its files are gone.
    const uid = a.info().uid;
    await a.stop(0);
    const c = await runtime.start({ owner: "c", command: "id", args: ["-u"] });
    deepEqual((await collect(c)).stdout, `${uid}\n`);
    await b.stop(0);
  }, { jobUids: { first, last: first + 1 } });
});

Deno.test("the policy can allow a denied system call again, or deny more; an unknown name fails the start and records nothing", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const { out } = await runShell(
      runtime,
      `${
        probePath(dataDir)
      } try keyctl add_key; mkdir /tmp/d 2>&1 && echo made`,
    );
    deepEqual(out.stdout.split("\n").slice(0, 2), [
      "keyctl ok",
      "add_key EPERM",
    ]);
    match(out.stdout, /Operation not permitted/);
    ok(!out.stdout.includes("made"), out.stdout);
  }, {
    probe: true,
    policy: { seccomp: { allow: ["keyctl"], deny: ["mkdir", "mkdirat"] } },
  });
  await withRuntime(async (runtime) => {
    await rejects(
      runtime.start({ owner: "t", command: "true" }),
      (err) =>
        err instanceof JobError && err.code === "failed_precondition" &&
        /no system call named "no_such_call"/.test(err.message),
    );
    deepEqual(runtime.list(), []);
  }, { policy: { seccomp: { deny: ["no_such_call"] } } });
});
