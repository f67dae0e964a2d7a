/** Every cgroup directory named `name` under /sys/fs/cgroup (a few levels deep). */
export async function findCgroups(
  name: string,
  dir = "/sys/fs/cgroup",
  depth = 6,
): Promise<string[]> {
  if (depth === 0) return [];
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isDirectory || entry.isSymlink) continue;
      const path = `${dir}/${entry.name}`;
      if (entry.name === name) found.push(path);
      else found.push(...await findCgroups(name, path, depth - 1));
    }
  } catch {
    // vanished or unreadable
  }
  return found;
}

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
