// A disk filled by one job must not cost another job its final state.
import { deepEqual, match, ok } from "node:assert/strict";
import { JobRuntime } from "../../lib/mod.ts";
import { DEFAULT_INIT } from "../../lib/launcher.ts";
import { resolveViewPaths } from "../../lib/job_view.ts";
import { findCgroups, TEST_DATA_PARENT } from "./_runtime.ts";

/** Runs `fn` with a fresh tmpfs of `size` mounted on a temporary directory. */
async function withTinyDisk(
  size: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "jw-tiny-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir],
  }).output();
  ok(mount.success, "mount tmpfs");
  try {
    await fn(dir);
  } finally {
    await new Deno.Command("umount", { args: [dir] }).output();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("a job that ends while another has filled the disk keeps its final state across a restart", async () => {
  await withTinyDisk("512k", async (disk) => {
    const dataDir = `${disk}/data`;
    const cgroupName = `jwtest-${crypto.randomUUID().slice(0, 8)}`;
    const records: Record<string, unknown>[] = [];
    let runtime = await JobRuntime.open({
      dataDir,
      cgroupName,
      recordReserveBytes: 64 * 1024,
      log: (record) => records.push(record),
    });
    try {
      const bob = await runtime.start({
        owner: "bob",
        command: "sh",
        args: ["-c", "sleep 1; exit 0"],
      });
      const filler = await runtime.start({
        owner: "alice",
        command: "head",
        args: ["-c", "4000000", "/dev/zero"],
      });
      const filled = await filler.done;
      // Its launcher dropped what found no room, and says how much.
      match(filled.error ?? "", /is full; \d+ bytes of output were lost$/);
      deepEqual((await bob.done).exitCode, 0);
      await runtime.close();
      ok(
        records.some((r) => /space kept for records/.test(String(r.msg))),
        JSON.stringify(records),
      );
      runtime = await JobRuntime.open({ dataDir, cgroupName });
      const info = runtime.get(bob.id).info();
      deepEqual([info.state, info.exitCode], ["exited", 0]);
    } finally {
      await runtime.close({ graceMs: 0 });
      deepEqual(await findCgroups(cgroupName), []);
    }
  });
});

Deno.test("the launcher writes its final report in place when the disk has no room for a new file", async () => {
  await withTinyDisk("256k", async (disk) => {
    const outside = await Deno.makeTempDir({
      dir: TEST_DATA_PARENT,
      prefix: "jw-launch-",
    });
    try {
      await Deno.mkdir(`${outside}/root`);
      await Deno.mkdir(`${outside}/work`);
      const status = `${disk}/job.status`;
      const views = await resolveViewPaths();
      // The job fills the disk through its stdout (its launcher drops what
      // finds no room, and the job does not hang on a full pipe), then exits 0.
      const out = await new Deno.Command(DEFAULT_INIT, {
        args: [
          "--id",
          "0123456789ab",
          "--uid",
          "0",
          "--gid",
          "0",
          "--stdout",
          `${disk}/job.out`,
          "--stderr",
          `${disk}/job.err`,
          "--index",
          `${disk}/job.idx`,
          "--status",
          status,
          "--root-mount",
          `${outside}/root`,
          "--work",
          `${outside}/work`,
          ...views.flatMap((path) => ["--ro", path]),
          "--",
          "sh",
          "-c",
          "head -c 1000000 /dev/zero; exit 0",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      ok(out.success, new TextDecoder().decode(out.stderr));
      match(new TextDecoder().decode(out.stdout), /exited 0 lost \d+\n$/);
      match((await Deno.readTextFile(status)).trim(), /^exited 0 lost \d+$/);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});
