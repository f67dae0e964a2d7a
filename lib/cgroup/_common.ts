// Private helpers shared by the v1 and v2 cgroup managers: parsing of
// /proc files and cgroup stat files, and the file, process and directory
// chores both versions need. Not exported by any public module.

import { JobError } from "../errors.ts";

/** One line of /proc/self/mountinfo. */
export interface MountEntry {
  /** Device of the mount as `MAJ:MIN`. */
  majMin: string;
  /** Path inside the filesystem that is mounted (for cgroups: the hierarchy path). */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
  /** Per-superblock options; for cgroup v1 these name the controllers. */
  superOptions: string[];
}

/** One line of /proc/self/cgroup. */
export interface CgroupEntry {
  hierarchyId: number;
  /** Controllers of a v1 hierarchy (`["cpu", "cpuacct"]`, `["name=systemd"]`); empty for v2. */
  controllers: string[];
  path: string;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
function unescapeMount(text: string): string {
  return text.replace(
    /\\([0-7]{3})/g,
    (_, oct: string) => String.fromCharCode(parseInt(oct, 8)),
  );
}

/** Parses the text of /proc/self/mountinfo. */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const [left, right] = line.split(" - ");
    if (right === undefined) continue;
    const fields = left.split(" ");
    const [fsType, source, superOptions = ""] = right.split(" ");
    entries.push({
      majMin: fields[2],
      root: unescapeMount(fields[3]),
      mountPoint: unescapeMount(fields[4]),
      fsType,
      source: unescapeMount(source),
      superOptions: superOptions.split(","),
    });
  }
  return entries;
}

/** Parses the text of /proc/self/cgroup. */
export function parseProcCgroup(text: string): CgroupEntry[] {
  const entries: CgroupEntry[] = [];
  for (const line of text.split("\n")) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    entries.push({
      hierarchyId: Number(match[1]),
      controllers: match[2] ? match[2].split(",") : [],
      path: match[3],
    });
  }
  return entries;
}

/**
 * The directory of the cgroup at `path` (as /proc/self/cgroup shows it) in a
 * hierarchy mounted at `mount`, or undefined when the mount does not show
 * that cgroup (a bind mount of another subtree).
 */
export function cgroupDir(mount: MountEntry, path: string): string | undefined {
  const root = mount.root.replace(/\/+$/, "");
  if (path !== root && !path.startsWith(`${root}/`)) return undefined;
  const below = path.slice(root.length).replace(/\/+$/, "");
  return `${mount.mountPoint.replace(/\/+$/, "")}${below}`;
}

/** Parses `key value` lines (cpu.stat, memory.events, memory.oom_control) into numbers. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) values.set(key, Number(value));
  }
  return values;
}

/** The errno name of a Deno error (`"EBUSY"`), if it has one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Reads a cgroup file, or undefined if it does not exist. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw internal(`cannot read ${path}`, err);
  }
}

/** True if a cgroup file exists (some, like cgroup.kill, cannot be read). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw internal(`cannot stat ${path}`, err);
  }
}

/** Reads a cgroup file as a number (0 if it does not exist). */
export async function readNumber(path: string): Promise<number> {
  const text = await readOptional(path);
  const value = Number(text?.trim() ?? 0);
  return Number.isFinite(value) ? value : 0;
}

/** Writes one value to an existing cgroup file, in one write. */
export async function writeValue(path: string, value: string): Promise<void> {
  try {
    await Deno.writeTextFile(path, value, { create: false });
  } catch (err) {
    throw internal(`cannot write "${value.trim()}" to ${path}`, err);
  }
}

/** A JobError("internal") that keeps the OS message. */
export function internal(what: string, err: unknown): JobError {
  const why = err instanceof Error ? err.message : String(err);
  return new JobError("internal", `${what}: ${why}`, { cause: err });
}

/** Names of the child cgroups of `dir` (none if `dir` is gone). */
export async function childCgroups(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) names.push(entry.name);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw internal(`cannot list ${dir}`, err);
    }
  }
  return names.sort();
}

/** PIDs in `dir`'s cgroup.procs (none if `dir` is gone). */
export async function readPids(dir: string): Promise<number[]> {
  const text = await readOptional(`${dir}/cgroup.procs`) ?? "";
  return text.split("\n").filter((s) => s).map(Number);
}

/**
 * PIDs in `dir`'s cgroup.procs and in those of its descendants: a job running
 * as root may make child cgroups of its own.
 */
export async function treePids(dir: string): Promise<number[]> {
  const pids = await readPids(dir);
  for (const child of await childCgroups(dir)) {
    pids.push(...await treePids(`${dir}/${child}`));
  }
  return pids;
}

/** Sends `signal` to each pid, ignoring processes that are already gone. */
export function signalPids(pids: Iterable<number>, signal: Deno.Signal): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, signal);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        throw internal(`cannot signal ${pid}`, err);
      }
    }
  }
}

/**
 * Calls `done` with a growing pause (1 ms to 50 ms) until it returns true;
 * throws JobError("internal") mentioning `what` after `timeoutMs`.
 */
export async function waitUntil(
  done: () => Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 1;; pause = Math.min(pause * 2, 50)) {
    if (await done()) return;
    if (Date.now() > deadline) {
      throw new JobError("internal", `timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/**
 * Removes a cgroup directory and its child cgroups, deepest first. A cgroup
 * stays busy for a moment after its last process died, so EBUSY is retried
 * for up to a second. A directory already gone is not an error.
 */
export async function removeCgroupTree(dir: string): Promise<void> {
  for (const child of await childCgroups(dir)) {
    await removeCgroupTree(`${dir}/${child}`);
  }
  await waitUntil(
    async () => {
      try {
        await Deno.remove(dir);
        return true;
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return true;
        if (errnoOf(err) === "EBUSY") return false;
        throw internal(`cannot remove ${dir}`, err);
      }
    },
    `${dir} to become removable`,
    1000,
  );
}

/** Removes an empty cgroup directory; leaves it if it still has children or processes. */
export async function removeIfEmpty(dir: string): Promise<void> {
  try {
    await Deno.remove(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    const errno = errnoOf(err);
    if (errno === "EBUSY" || errno === "ENOTEMPTY") return;
    throw internal(`cannot remove ${dir}`, err);
  }
}

/** Checks that a job cgroup name is one path component. */
export function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new JobError("invalid_argument", `bad cgroup name "${name}"`);
  }
}

/** Makes a job cgroup directory; it must not exist yet. */
export async function makeCgroup(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new JobError("failed_precondition", `cgroup ${dir} already exists`);
    }
    throw internal(`cannot create ${dir}`, err);
  }
}

/** Throws `not_found` unless every directory in `dirs` exists (for adopting a job's cgroup). */
export async function requireCgroups(dirs: Iterable<string>): Promise<void> {
  for (const dir of dirs) {
    const found = await Deno.stat(dir).then((s) => s.isDirectory, () => false);
    if (!found) throw new JobError("not_found", `cgroup ${dir}`);
  }
}

/** Block devices and, when there are none, why io limits cannot be set. */
export interface IoDevices {
  /** Whole disks as `MAJ:MIN`. */
  devices: string[];
  /** Why `devices` is empty. */
  unavailable?: string;
}

/** Throws invalid_argument if io limits are asked for but cannot be applied. */
export function checkIoLimits(
  io: IoDevices,
  limits: { ioReadBps?: number; ioWriteBps?: number },
): void {
  const wanted = limits.ioReadBps !== undefined ||
    limits.ioWriteBps !== undefined;
  if (wanted && io.devices.length === 0) {
    throw new JobError(
      "invalid_argument",
      `io limits are not available: ${io.unavailable ?? "no block device"}`,
    );
  }
}

/** The version-specific steps of {@link killCgroup}. */
export interface KillSteps {
  /** Stops the cgroup's processes from running (and forking); no-op if the kernel kills atomically. */
  freeze(): Promise<void>;
  /** True once the freeze has taken hold. */
  frozen(): Promise<boolean>;
  thaw(): Promise<void>;
  /** SIGKILLs every process (or writes cgroup.kill). */
  killAll(): Promise<void>;
  /** True once no process is left. */
  empty(): Promise<boolean>;
}

/**
 * Freezes, kills everything, thaws and waits until the cgroup is empty,
 * killing again whatever shows up meanwhile. A freeze that does not take hold
 * within a second is not waited for further: SIGKILL still reaches frozen
 * processes once they are thawed. Throws internal after about 5 s.
 */
export async function killCgroup(
  steps: KillSteps,
  what: string,
): Promise<void> {
  if (await steps.empty()) return;
  await steps.freeze();
  try {
    await waitUntil(steps.frozen, `${what} to freeze`, 1000).catch(() => {});
    await steps.killAll();
  } finally {
    await steps.thaw();
  }
  await waitUntil(async () => {
    if (await steps.empty()) return true;
    await steps.killAll();
    return false;
  }, `${what} to empty`);
}
