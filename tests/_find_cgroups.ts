// Finds cgroups by name, for checks that tests and benchmarks leave none behind.

/** Every directory named `name` under /sys/fs/cgroup (a few levels deep). */
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
