import { JobError } from "../errors.ts";
import {
  cgroupDir,
  type CgroupEntry,
  type IoDevices,
  type MountEntry,
  parseMountInfo,
  parseProcCgroup,
  readOptional,
} from "./_common.ts";
import type { CgroupDriver } from "./cgroup_manager.ts";
import { CgroupV1Driver } from "./v1.ts";
import { CgroupV2Driver, V2_REQUIRED } from "./v2.ts";

/** Options of {@link openCgroupDriver}. */
export interface CgroupDriverOptions {
  /** Directory made beneath the server's own cgroup to hold the job cgroups. */
  name: string;
  /** Paths (the data directory) whose block devices get the io limits. */
  ioPaths: string[];
}

/**
 * Detects the cgroup version the server runs under and opens the matching
 * driver, with the driver's parent cgroup made beneath the server's own one.
 * Cgroup v2 is used when the v2 hierarchy that holds the server offers the
 * cpu, memory and pids controllers; otherwise the v1 hierarchies are used
 * (an empty v2 mount such as /sys/fs/cgroup/unified on hybrid hosts is
 * ignored).
 *
 * @example
 * ```ts
 * const driver = await openCgroupDriver({ name: "jobworker", ioPaths: ["/var/lib/jobworker"] });
 * const job = await driver.create("4d5c9fa91db4");
 * ```
 */
export async function openCgroupDriver(
  opts: CgroupDriverOptions,
): Promise<CgroupDriver> {
  const mounts = parseMountInfo(
    await Deno.readTextFile("/proc/self/mountinfo"),
  );
  const cgroups = parseProcCgroup(await Deno.readTextFile("/proc/self/cgroup"));
  const io = await findIoDevices(opts.ioPaths, mounts);
  const v2 = await findV2Cgroup(mounts, cgroups);
  if (v2.dir) return await CgroupV2Driver.open(opts.name, v2.dir, io);
  const v1 = findV1Cgroups(mounts, cgroups);
  if (v1.size > 0) return await CgroupV1Driver.open(opts.name, v1, io);
  throw new JobError(
    "failed_to_start",
    `no usable cgroup hierarchy: ${v2.why ?? "no cgroup mounts"}`,
  );
}

/**
 * Directory of the server's own cgroup in each v1 hierarchy, keyed by
 * controller. Co-mounted controllers ("cpu,cpuacct") map to the same
 * directory. Exported for tests.
 */
export function findV1Cgroups(
  mounts: MountEntry[],
  cgroups: CgroupEntry[],
): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const entry of cgroups) {
    if (entry.controllers.length === 0) continue;
    for (const mount of mounts) {
      if (mount.fsType !== "cgroup") continue;
      if (!entry.controllers.every((c) => mount.superOptions.includes(c))) {
        continue;
      }
      const dir = cgroupDir(mount, entry.path);
      if (dir === undefined) continue;
      for (const controller of entry.controllers) dirs.set(controller, dir);
      break;
    }
  }
  return dirs;
}

/**
 * The server's own v2 cgroup directory if a cgroup2 mount shows it with the
 * controllers jobs need, else why not.
 */
async function findV2Cgroup(
  mounts: MountEntry[],
  cgroups: CgroupEntry[],
): Promise<{ dir?: string; why?: string }> {
  const entry = cgroups.find((e) => e.hierarchyId === 0);
  if (!entry) return { why: "the server is in no cgroup v2" };
  let why: string | undefined;
  for (const mount of mounts) {
    if (mount.fsType !== "cgroup2") continue;
    const dir = cgroupDir(mount, entry.path);
    if (dir === undefined) continue;
    const text = await readOptional(`${dir}/cgroup.controllers`) ?? "";
    const offered = text.trim().split(/\s+/);
    const missing = V2_REQUIRED.filter((c) => !offered.includes(c));
    if (missing.length === 0) return { dir };
    why = `cgroup v2 ${dir} does not offer ${missing.join(", ")}; ` +
      "run jobworker in its own delegated cgroup " +
      "(systemd-run --scope -p Delegate=yes, or a service with Delegate=yes)";
  }
  return { why };
}

/**
 * Whole-disk devices (`MAJ:MIN`) backing `paths`, for io limits. Paths on
 * filesystems without a block device (tmpfs, overlay) are skipped; if none
 * is left, `unavailable` says why. Exported for tests.
 */
export async function findIoDevices(
  paths: string[],
  mounts: MountEntry[],
): Promise<IoDevices> {
  const devices = new Set<string>();
  const reasons: string[] = [];
  for (const path of paths) {
    try {
      const mount = mountOf(await Deno.realPath(path), mounts);
      const disk = mount && await wholeDisk(await blockDeviceOf(mount));
      if (disk) devices.add(disk);
      else reasons.push(`${path} is not on a block device`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      reasons.push(`${path} does not exist`);
    }
  }
  if (paths.length === 0) reasons.push("no data directory given");
  return devices.size > 0
    ? { devices: [...devices] }
    : { devices: [], unavailable: reasons.join("; ") };
}

/** The mount that holds `path`: the longest mount point, the latest on ties. */
function mountOf(path: string, mounts: MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const mount of mounts) {
    const point = mount.mountPoint;
    const holds = point === "/" || path === point ||
      path.startsWith(`${point}/`);
    if (holds && point.length >= (best?.mountPoint.length ?? 0)) best = mount;
  }
  return best;
}

/**
 * `MAJ:MIN` of the block device of a mount. Filesystems such as btrfs show an
 * anonymous 0:N device in mountinfo; their source device node is used then.
 */
async function blockDeviceOf(mount: MountEntry): Promise<string> {
  if (!mount.majMin.startsWith("0:")) return mount.majMin;
  if (!mount.source.startsWith("/dev/")) return mount.majMin;
  try {
    const info = await Deno.stat(mount.source);
    if (!info.isBlockDevice || info.rdev === null) return mount.majMin;
    const dev = BigInt(info.rdev);
    const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
    const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
    return `${major}:${minor}`;
  } catch {
    return mount.majMin;
  }
}

/** The whole disk of a block device (a partition maps to its disk), or undefined. */
async function wholeDisk(majMin: string): Promise<string | undefined> {
  const sys = `/sys/dev/block/${majMin}`;
  if (majMin.startsWith("0:")) return undefined;
  if (await readOptional(`${sys}/dev`) === undefined) return undefined;
  if (await readOptional(`${sys}/partition`) === undefined) return majMin;
  const real = await Deno.realPath(sys);
  const disk = await readOptional(`${real.replace(/\/[^/]+$/, "")}/dev`);
  return disk?.trim();
}
