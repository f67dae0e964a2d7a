import { findCgroups } from "../tests/_find_cgroups.ts";

/**
 * Kills whatever is left in the cgroup trees named `name` (a benchmark that
 * was killed on its deadline) and removes them, deepest first. Returns the
 * directories that were found.
 */
export async function removeCgroups(name: string): Promise<string[]> {
  const roots = await findCgroups(name);
  for (const root of roots) await removeTree(root);
  return roots;
}

async function removeTree(dir: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await removeTree(`${dir}/${entry.name}`);
    }
    const procs = await Deno.readTextFile(`${dir}/cgroup.procs`).catch(() =>
      ""
    );
    for (const pid of procs.split("\n").filter(Boolean)) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // gone
      }
    }
    await Deno.writeTextFile(`${dir}/freezer.state`, "THAWED").catch(() => {});
    for (let i = 0; i < 50; i++) {
      try {
        await Deno.remove(dir);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  } catch {
    // vanished
  }
}
