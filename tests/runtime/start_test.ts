import { deepEqual, match, ok, rejects } from "node:assert/strict";
import { JobError, JobRuntime } from "../../lib/mod.ts";
import { findCgroups, freshTestDir, withRuntime } from "./_runtime.ts";

function hasCode(code: string, pattern?: RegExp) {
  return (err: unknown) => {
    ok(err instanceof JobError, String(err));
    deepEqual(err.code, code);
    if (pattern) match(err.message, pattern);
    return true;
  };
}

Deno.test("a missing binary and a non-executable file fail to start with the OS reason", async () => {
  await withRuntime(async (runtime) => {
    await rejects(
      runtime.start({ owner: "t", command: "no-such-command-xyz" }),
      hasCode("failed_to_start", /No such file or directory/),
    );
    await rejects(
      runtime.start({ owner: "t", command: "/etc/passwd" }),
      hasCode("failed_to_start", /Permission denied/),
    );
    const failed = runtime.list("t");
    deepEqual(
      failed.map((job) => job.info().state),
      Array(2).fill("failed_to_start"),
    );
    match(failed[0].info().error ?? "", /no-such-command-xyz/);
  });
});

Deno.test("a working directory missing from the job's view is invalid_argument and leaves nothing", async () => {
  await withRuntime(async (runtime, dataDir) => {
    // The host has /root and the data directory; the job's view has neither.
    for (const dir of ["/nonexistent", "/root", dataDir, `${dataDir}/work`]) {
      await rejects(
        runtime.start({ owner: "t", command: "true", dir }),
        hasCode("invalid_argument", /does not exist in the job's filesystem/),
        dir,
      );
    }
    deepEqual(runtime.list(), []);
    deepEqual([...Deno.readDirSync(`${dataDir}/jobs`)], []);
    deepEqual([...Deno.readDirSync(`${dataDir}/work`)], []);
    // A directory of the view works: the job's own /tmp.
    const job = await runtime.start({
      owner: "t",
      command: "pwd",
      dir: "/tmp",
    });
    deepEqual((await job.done).exitCode, 0);
  });
});

Deno.test("bad requests are invalid_argument and create nothing", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const bad = [
      { owner: "t", command: "" },
      { owner: "t", command: "  " },
      { owner: "", command: "true" },
      { owner: "t", command: "echo", args: ["a\0b"] },
      { owner: "t", command: "true", env: { "A=B": "x" } },
      { owner: "t", command: "true", dir: "relative/dir" },
      { owner: "t", command: "true", name: "bad\nname" },
    ];
    for (const spec of bad) {
      await rejects(
        runtime.start(spec),
        hasCode("invalid_argument"),
        JSON.stringify(spec),
      );
    }
    deepEqual(runtime.list(), []);
    deepEqual([...Deno.readDirSync(`${dataDir}/logs`)], []);
  });
});

Deno.test("unknown and malformed ids", async () => {
  await withRuntime(async (runtime) => {
    await Promise.resolve();
    try {
      runtime.get("0123456789ab");
      ok(false);
    } catch (err) {
      hasCode("not_found", /job 0123456789ab/)(err);
    }
    try {
      runtime.get("../../etc");
      ok(false);
    } catch (err) {
      hasCode("invalid_argument")(err);
    }
  });
});

Deno.test("job ids are 12 random hex characters, and jobs are listed by owner", async () => {
  await withRuntime(async (runtime) => {
    const a = await runtime.start({
      owner: "alice",
      command: "true",
      name: "first",
    });
    const b = await runtime.start({ owner: "bob", command: "true" });
    match(a.id, /^[0-9a-f]{12}$/);
    ok(a.id !== b.id);
    deepEqual(runtime.list("alice").map((j) => j.id), [a.id]);
    deepEqual(runtime.list().length, 2);
    deepEqual(runtime.get(a.id).info().name, "first");
    await Promise.all([a.done, b.done]);
  });
});

Deno.test("limits: defaults for everyone, custom only when allowed and within the ceilings", async () => {
  const policy = {
    defaults: { cpu: 0.5, memoryBytes: "64M", pids: 64 },
    ceilings: { cpu: 1, memoryBytes: "256M", pids: 128 },
  };
  await withRuntime(async (runtime) => {
    const plain = await runtime.start({ owner: "t", command: "true" });
    deepEqual(plain.info().limits, {
      cpu: 0.5,
      memoryBytes: 64 * 1024 ** 2,
      pids: 64,
    });
    await rejects(
      runtime.start({ owner: "t", command: "true", limits: { cpu: 1 } }),
      hasCode("permission_denied"),
    );
    const custom = await runtime.start(
      { owner: "t", command: "true", limits: { memoryBytes: 128 * 1024 ** 2 } },
      { customLimits: true },
    );
    deepEqual(custom.info().limits, {
      cpu: 0.5,
      memoryBytes: 128 * 1024 ** 2,
      pids: 64,
    });
    await rejects(
      runtime.start({ owner: "t", command: "true", limits: { cpu: 2 } }, {
        customLimits: true,
      }),
      hasCode("invalid_argument", /exceeds the policy ceiling/),
    );
    await rejects(
      runtime.start({ owner: "t", command: "true", limits: { pids: 0 } }, {
        customLimits: true,
      }),
      hasCode("invalid_argument", /pids/),
    );
    await Promise.all([plain.done, custom.done]);
  }, { policy });
});

Deno.test("a bad policy file fails the start with a clear error, and a fixed one works again", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const path = `${dataDir}.policy.json`;
    await Deno.writeTextFile(path, "{ not json");
    await rejects(
      runtime.start({ owner: "t", command: "true" }),
      (err) => {
        hasCode("failed_precondition", /^the server's policy: /)(err);
        // Users read this: the server's paths stay in the cause (its log).
        ok(!(err as Error).message.includes(path), (err as Error).message);
        match(String((err as Error).cause), new RegExp(path));
        return true;
      },
    );
    await Deno.writeTextFile(
      path,
      JSON.stringify({ defaults: { cpu: "lots" } }),
    );
    await rejects(
      runtime.start({ owner: "t", command: "true" }),
      hasCode("failed_precondition", /cpu/),
    );
    // A misspelt section is refused, not ignored.
    await Deno.writeTextFile(path, JSON.stringify({ qutoas: {} }));
    await rejects(
      runtime.start({ owner: "t", command: "true" }),
      hasCode("failed_precondition", /"qutoas" is not a policy section/),
    );
    await Deno.writeTextFile(path, JSON.stringify({ defaults: { pids: 10 } }));
    const job = await runtime.start({ owner: "t", command: "true" });
    deepEqual(job.info().limits, { pids: 10 });
    await job.done;
  }, { policy: {} });
});

Deno.test("request sizes are bounded by the policy's request limits, which the policy may raise", async () => {
  await withRuntime(async (runtime, dataDir) => {
    const path = `${dataDir}.policy.json`;
    const args = Array(5).fill("x".repeat(60 * 1024));
    await rejects(
      runtime.start({ owner: "t", command: "echo", args }),
      hasCode(
        "invalid_argument",
        /^the command and its arguments are 307210 bytes, over the limit of 262144 \(policy requests\.commandBytes\)$/,
      ),
    );
    deepEqual(runtime.list(), []);
    deepEqual([...Deno.readDirSync(`${dataDir}/jobs`)], []);
    await Deno.writeTextFile(
      path,
      JSON.stringify({ requests: { commandBytes: "1M", nameLength: 4 } }),
    );
    const job = await runtime.start({ owner: "t", command: "echo", args });
    deepEqual((await job.done).exitCode, 0);
    await rejects(
      runtime.start({ owner: "t", command: "true", name: "toolong" }),
      hasCode("invalid_argument", /requests\.nameLength/),
    );
    await Deno.writeTextFile(path, JSON.stringify({ requests: { args: 0 } }));
    await rejects(
      runtime.start({ owner: "t", command: "true" }),
      hasCode(
        "failed_precondition",
        /requests\.args must be a positive integer/,
      ),
    );
  }, { policy: {} });
});

Deno.test("a start whose cgroup cannot be made leaves no job behind, not even for a restarted server", async () => {
  const { dataDir, cgroupName } = await freshTestDir("jw-test-");
  const runtime = await JobRuntime.open({ dataDir, cgroupName });
  let reopened: JobRuntime | undefined;
  try {
    // Take away the parent of the job cgroups (in one hierarchy, on v1).
    const [parent] = await findCgroups(cgroupName);
    ok(parent, "the runtime made its cgroup parent");
    await Deno.remove(parent);
    await rejects(
      runtime.start({ owner: "t", command: "true" }),
      /cannot create/,
    );
    deepEqual(runtime.list(), []);
    deepEqual([...Deno.readDirSync(`${dataDir}/jobs`)], []);
    deepEqual([...Deno.readDirSync(`${dataDir}/logs`)], []);
    deepEqual([...Deno.readDirSync(`${dataDir}/work`)], []);
    await runtime.close({ graceMs: 0 });
    reopened = await JobRuntime.open({ dataDir, cgroupName });
    deepEqual(reopened.list(), []);
  } finally {
    await runtime.close({ graceMs: 0 });
    await reopened?.close({ graceMs: 0 });
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    deepEqual(await findCgroups(cgroupName), [], "job cgroups left behind");
  }
});

Deno.test("a launcher that cannot run fails the start without naming the server's paths", async () => {
  const { dataDir, cgroupName } = await freshTestDir("jw-test-");
  const initPath = `${dataDir}-no-such/jw-init`;
  const runtime = await JobRuntime.open({ dataDir, cgroupName, initPath });
  try {
    await rejects(
      runtime.start({ owner: "t", command: "true" }),
      (err) => {
        hasCode("failed_to_start", /^cannot run the job launcher: /)(err);
        const message = (err as Error).message;
        ok(!message.includes(dataDir), message);
        match(String((err as Error).cause), new RegExp(initPath));
        return true;
      },
    );
  } finally {
    await runtime.close({ graceMs: 0 });
    await Deno.remove(dataDir, { recursive: true });
    deepEqual(await findCgroups(cgroupName), []);
  }
});

Deno.test("one runtime per data directory: a second is refused while the first runs", async () => {
  const { dataDir, cgroupName } = await freshTestDir("jw-test-");
  const first = await JobRuntime.open({ dataDir, cgroupName });
  try {
    await rejects(
      JobRuntime.open({ dataDir, cgroupName: `${cgroupName}-2` }),
      hasCode(
        "failed_precondition",
        new RegExp(`^data directory ${dataDir} is in use by pid ${Deno.pid}$`),
      ),
    );
    deepEqual(await findCgroups(`${cgroupName}-2`), [], "nothing was made");
  } finally {
    await first.close({ graceMs: 0 });
  }
  const second = await JobRuntime.open({ dataDir, cgroupName });
  await second.close({ graceMs: 0 });
  await Deno.remove(dataDir, { recursive: true });
  deepEqual(await findCgroups(cgroupName), []);
});
