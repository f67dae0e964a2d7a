import type { Limits } from "../limits.ts";
import { JobError } from "../errors.ts";
import { memoryReserve, pidsReserve, reserveHeadroom } from "./headroom.ts";
import {
  checkIoLimits,
  checkName,
  childCgroups,
  exists,
  type IoDevices,
  killCgroup,
  makeCgroup,
  parseFlatKeyed,
  readNumber,
  readOptional,
  removeCgroupTree,
  removeIfEmpty,
  requireCgroups,
  signalPids,
  treePids,
  writeValue,
} from "./_common.ts";
import type {
  CgroupDriver,
  CgroupManager,
  CgroupStats,
} from "./cgroup_manager.ts";

/** Controllers a job joins on v1; cpuset is left alone. */
const CONTROLLERS = ["cpu", "cpuacct", "memory", "blkio", "pids", "freezer"];
/** Controllers without which jobs cannot be limited or killed reliably. */
const REQUIRED = ["cpu", "memory", "pids", "freezer"];
const PERIOD_US = 100_000;
const UNLIMITED = "-1";

/**
 * Cgroup v1 driver: job cgroups at `<own>/<name>/<job>` in each controller's
 * hierarchy, where `<own>` is the server's cgroup in that hierarchy.
 * Co-mounted controllers share one directory.
 */
export class CgroupV1Driver implements CgroupDriver {
  readonly version = 1 as const;
  readonly root: string;
  readonly #parents: Map<string, string>;
  readonly #io: IoDevices;

  private constructor(parents: Map<string, string>, io: IoDevices) {
    this.#parents = parents;
    this.#io = io;
    this.root = parents.get("memory")!;
  }

  /** Makes `<own>/<name>` in every hierarchy; `own` maps controller to the server's cgroup directory. */
  static async open(
    name: string,
    own: Map<string, string>,
    io: IoDevices,
  ): Promise<CgroupV1Driver> {
    checkName(name);
    const missing = REQUIRED.filter((c) => !own.has(c));
    if (missing.length > 0) {
      throw new JobError(
        "failed_to_start",
        `cgroup v1 controllers not mounted: ${missing.join(", ")}`,
      );
    }
    const parents = new Map<string, string>();
    for (const c of CONTROLLERS) {
      if (own.has(c)) parents.set(c, `${own.get(c)}/${name}`);
    }
    for (const dir of new Set(parents.values())) {
      await Deno.mkdir(dir, { recursive: true });
      await inheritCpuset(dir);
    }
    await reserveHeadroom(
      own.get("pids")!,
      parents.get("pids")!,
      "pids.max",
      pidsReserve,
    );
    await reserveHeadroom(
      own.get("memory")!,
      parents.get("memory")!,
      "memory.limit_in_bytes",
      memoryReserve,
    );
    const ioUsable: IoDevices = parents.has("blkio")
      ? io
      : { devices: [], unavailable: "the blkio controller is not mounted" };
    return new CgroupV1Driver(parents, ioUsable);
  }

  async create(name: string): Promise<CgroupManager> {
    checkName(name);
    const dirs = new Map<string, string>();
    for (const [c, parent] of this.#parents) dirs.set(c, `${parent}/${name}`);
    const made: string[] = [];
    try {
      for (const dir of new Set(dirs.values())) {
        await makeCgroup(dir);
        made.push(dir);
        await inheritCpuset(dir);
      }
    } catch (err) {
      for (const dir of made) await removeCgroupTree(dir);
      throw err;
    }
    return new CgroupV1Manager(dirs, this.#io);
  }

  async adopt(name: string): Promise<CgroupManager> {
    checkName(name);
    const dirs = new Map<string, string>();
    for (const [c, parent] of this.#parents) dirs.set(c, `${parent}/${name}`);
    await requireCgroups(new Set(dirs.values()));
    return new CgroupV1Manager(dirs, this.#io);
  }

  list(): Promise<string[]> {
    return childCgroups(this.#parents.get("freezer")!);
  }

  async close(): Promise<void> {
    for (const dir of new Set(this.#parents.values())) {
      await removeIfEmpty(dir);
    }
  }
}

/** One job's cgroup directories, one per v1 hierarchy. */
class CgroupV1Manager implements CgroupManager {
  readonly procsFiles: readonly string[];
  readonly #dirs: Map<string, string>;
  readonly #io: IoDevices;

  constructor(dirs: Map<string, string>, io: IoDevices) {
    this.#dirs = dirs;
    this.#io = io;
    this.procsFiles = [...new Set(dirs.values())].map((d) =>
      `${d}/cgroup.procs`
    );
  }

  #file(controller: string, file: string): string {
    return `${this.#dirs.get(controller)}/${file}`;
  }

  async apply(limits: Limits): Promise<void> {
    checkIoLimits(this.#io, limits);
    const quota = limits.cpu === undefined
      ? UNLIMITED
      : String(Math.round(limits.cpu * PERIOD_US));
    await writeValue(this.#file("cpu", "cpu.cfs_period_us"), String(PERIOD_US));
    await writeValue(this.#file("cpu", "cpu.cfs_quota_us"), quota);
    await this.#applyMemory(limits.memoryBytes);
    await this.#applyIo("read", limits.ioReadBps);
    await this.#applyIo("write", limits.ioWriteBps);
    await writeValue(
      this.#file("pids", "pids.max"),
      limits.pids === undefined ? "max" : String(limits.pids),
    );
  }

  // memory.memsw.limit_in_bytes (memory + swap) may never be below
  // memory.limit_in_bytes: when lowering set memory first, when raising memsw.
  async #applyMemory(bytes: number | undefined): Promise<void> {
    const limit = this.#file("memory", "memory.limit_in_bytes");
    const memsw = this.#file("memory", "memory.memsw.limit_in_bytes");
    const hasMemsw = await exists(memsw);
    const value = bytes === undefined ? UNLIMITED : String(bytes);
    const raising = bytes === undefined || bytes > await readNumber(limit);
    if (hasMemsw && raising) await writeValue(memsw, value);
    await writeValue(limit, value);
    if (hasMemsw && !raising) await writeValue(memsw, value);
  }

  async #applyIo(kind: "read" | "write", bps: number | undefined) {
    const file = this.#file("blkio", `blkio.throttle.${kind}_bps_device`);
    for (const device of this.#io.devices) {
      // One rule per write; a rate of 0 removes the rule.
      await writeValue(file, `${device} ${bps ?? 0}`);
    }
  }

  async pids(): Promise<number[]> {
    const pids = new Set<number>();
    for (const dir of new Set(this.#dirs.values())) {
      for (const pid of await treePids(dir)) pids.add(pid);
    }
    return [...pids];
  }

  async signalAll(signal: Deno.Signal): Promise<void> {
    signalPids(await this.pids(), signal);
  }

  kill(): Promise<void> {
    const state = this.#file("freezer", "freezer.state");
    return killCgroup({
      freeze: () => writeValue(state, "FROZEN"),
      frozen: async () => (await readOptional(state))?.trim() === "FROZEN",
      thaw: () => writeValue(state, "THAWED"),
      killAll: () => this.signalAll("SIGKILL"),
      empty: async () => (await this.pids()).length === 0,
    }, `cgroup ${this.#dirs.get("freezer")}`);
  }

  async stats(): Promise<CgroupStats> {
    const cpuStat = parseFlatKeyed(
      await readOptional(this.#file("cpu", "cpu.stat")) ?? "",
    );
    const io = await this.#ioBytes();
    return {
      cpuSeconds: this.#dirs.has("cpuacct")
        ? await readNumber(this.#file("cpuacct", "cpuacct.usage")) / 1e9
        : 0,
      memoryPeakBytes: await readNumber(
        this.#file("memory", "memory.max_usage_in_bytes"),
      ),
      ioReadBytes: io.read,
      ioWriteBytes: io.write,
      cpuThrottledSeconds: (cpuStat.get("throttled_time") ?? 0) / 1e9,
      oomKilled: await this.#oomKilled(),
    };
  }

  async #ioBytes(): Promise<{ read: number; write: number }> {
    if (!this.#dirs.has("blkio")) return { read: 0, write: 0 };
    const base = this.#file("blkio", "blkio.throttle.io_service_bytes");
    const text = await readOptional(`${base}_recursive`) ??
      await readOptional(base) ?? "";
    return parseBlkioBytes(text);
  }

  async #oomKilled(): Promise<boolean> {
    const control = parseFlatKeyed(
      await readOptional(this.#file("memory", "memory.oom_control")) ?? "",
    );
    const kills = control.get("oom_kill");
    if (kills !== undefined) return kills > 0;
    // Kernels before 4.13 do not count kills; a hit limit while under OOM is the best sign.
    const failcnt = await readNumber(this.#file("memory", "memory.failcnt"));
    return failcnt > 0 && (control.get("under_oom") ?? 0) > 0;
  }

  async destroy(): Promise<void> {
    if ((await this.pids()).length > 0) await this.kill();
    for (const dir of new Set(this.#dirs.values())) {
      await removeCgroupTree(dir);
    }
  }
}

/** Sums the Read and Write lines (`MAJ:MIN Read N`) of blkio io_service_bytes. */
export function parseBlkioBytes(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split("\n")) {
    const [, op, value] = line.trim().split(/\s+/);
    if (op === "Read") read += Number(value);
    if (op === "Write") write += Number(value);
  }
  return { read, write };
}

/**
 * A new cgroup in a hierarchy that has cpuset co-mounted starts with no CPUs
 * and no memory nodes, so no process could join it: copy the parent's.
 */
async function inheritCpuset(dir: string): Promise<void> {
  const parent = dir.replace(/\/[^/]+$/, "");
  for (const file of ["cpuset.cpus", "cpuset.mems"]) {
    const own = await readOptional(`${dir}/${file}`);
    if (own === undefined || own.trim() !== "") continue;
    const inherited = await readOptional(`${parent}/${file}`) ?? "";
    await writeValue(`${dir}/${file}`, inherited.trim());
  }
}
