// Layout on cgroup v2. A non-root cgroup may hold processes or enable
// controllers for its children, not both, so the server leaves its own
// cgroup for a leaf of its own:
//
//   <own>/                  the server's cgroup at start, delegated to it;
//                           subtree_control: cpu memory pids [io]
//     <name>-server/        leaf holding the jobworker process (and launchers)
//     <name>/               subtree_control: cpu memory pids [io]; driver.root
//       <job id>/           one job
//
// <own> gets the controllers enabled in its subtree_control, which needs it
// to hold no process but ours: run jobworker in a delegated cgroup. Once that
// is done no process may join <own> any more, so a server that starts inside
// <own>/<name>-server takes <own> as its own: that is where a restart must
// put it (systemd: Delegate=yes with DelegateSubgroup=<name>-server), and
// the layout, with the jobs of the previous server, stays the same.

import type { Limits } from "../limits.ts";
import { memoryReserve, pidsReserve, reserveHeadroom } from "./headroom.ts";
import { JobError } from "../errors.ts";
import {
  checkIoLimits,
  checkName,
  childCgroups,
  errnoOf,
  exists,
  internal,
  type IoDevices,
  killCgroup,
  makeCgroup,
  parseFlatKeyed,
  readOptional,
  readPids,
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

/** Controllers a v2 cgroup must offer for jobworker to use it. */
export const V2_REQUIRED = ["cpu", "memory", "pids"];
const PERIOD_US = 100_000;
const DELEGATE_HINT = "run jobworker in its own delegated cgroup " +
  "(systemd-run --scope -p Delegate=yes, or a service with Delegate=yes)";

/** Cgroup v2 driver; see the layout at the top of this file. */
export class CgroupV2Driver implements CgroupDriver {
  readonly version = 2 as const;
  readonly root: string;
  readonly #own: string;
  readonly #leaf: string;
  readonly #controllers: string[];
  readonly #io: IoDevices;
  /** Controllers this driver enabled in `<own>`'s subtree_control. */
  #addedAtOwn: string[] = [];

  private constructor(
    own: string,
    name: string,
    controllers: string[],
    io: IoDevices,
  ) {
    this.#own = own;
    this.#leaf = `${own}/${name}-server`;
    this.root = `${own}/${name}`;
    this.#controllers = controllers;
    this.#io = io;
  }

  /** Builds the layout beneath `own` (the server's cgroup directory) and moves the server into its leaf. */
  static async open(
    name: string,
    own: string,
    io: IoDevices,
  ): Promise<CgroupV2Driver> {
    checkName(name);
    const leaf = `/${name}-server`;
    if (own.endsWith(leaf)) own = own.slice(0, -leaf.length) || "/";
    const offered = (await readOptional(`${own}/cgroup.controllers`) ?? "")
      .trim().split(/\s+/);
    const controllers = [...V2_REQUIRED, "io"].filter((c) =>
      offered.includes(c)
    );
    const ioUsable: IoDevices = controllers.includes("io") ? io : {
      devices: [],
      unavailable: `the io controller is not offered in ${own}`,
    };
    const driver = new CgroupV2Driver(own, name, controllers, ioUsable);
    try {
      await driver.#build();
    } catch (err) {
      await driver.close().catch(() => {});
      throw err;
    }
    return driver;
  }

  async #build(): Promise<void> {
    const isRoot = !await exists(`${this.#own}/cgroup.type`);
    const others = (await readPids(this.#own)).filter((p) => p !== Deno.pid);
    if (!isRoot && others.length > 0) {
      throw new JobError(
        "failed_to_start",
        `cgroup ${this.#own} holds other processes (${
          others.slice(0, 5).join(", ")
        }); ${DELEGATE_HINT}`,
      );
    }
    await Deno.mkdir(this.#leaf, { recursive: true });
    await Deno.mkdir(this.root, { recursive: true });
    await writeValue(`${this.#leaf}/cgroup.procs`, String(Deno.pid));
    this.#addedAtOwn = await enable(this.#own, this.#controllers);
    await enable(this.root, this.#controllers);
    await reserveHeadroom(this.#own, this.root, "pids.max", pidsReserve);
    await reserveHeadroom(this.#own, this.root, "memory.max", memoryReserve);
  }

  async create(name: string): Promise<CgroupManager> {
    checkName(name);
    const dir = `${this.root}/${name}`;
    await makeCgroup(dir);
    return new CgroupV2Manager(dir, this.#io);
  }

  async adopt(name: string): Promise<CgroupManager> {
    checkName(name);
    const dir = `${this.root}/${name}`;
    await requireCgroups([dir]);
    return new CgroupV2Manager(dir, this.#io);
  }

  list(): Promise<string[]> {
    return childCgroups(this.root);
  }

  /**
   * Removes the layout if no job cgroup is left. The server moves back to
   * `<own>` only when that is safe: `<own>` is the root cgroup, or it has no
   * other child cgroup and no controllers enabled but ours (which are then
   * disabled again). Otherwise the server stays in `<name>-server` and the
   * layout stays for the next server, since a process cannot live in a
   * cgroup that enables controllers for its children.
   */
  async close(): Promise<void> {
    await removeIfEmpty(this.root);
    if (await exists(this.root)) return;
    const isRoot = !await exists(`${this.#own}/cgroup.type`);
    if (!isRoot) {
      const siblings = await childCgroups(this.#own);
      if (siblings.some((c) => `${this.#own}/${c}` !== this.#leaf)) return;
      // Controllers in <own> that we did not enable (a restarted server, or
      // someone else's) keep us out of <own>.
      const enabled =
        (await readOptional(`${this.#own}/cgroup.subtree_control`) ?? "")
          .trim().split(/\s+/).filter(Boolean);
      if (enabled.some((c) => !this.#addedAtOwn.includes(c))) return;
      await disable(this.#own, this.#addedAtOwn);
      this.#addedAtOwn = [];
    }
    if (await isIn(this.#leaf)) {
      await writeValue(`${this.#own}/cgroup.procs`, String(Deno.pid));
    }
    await removeIfEmpty(this.#leaf);
  }
}

/** Enables controllers for the children of `dir`; returns those it had to add. */
async function enable(dir: string, controllers: string[]): Promise<string[]> {
  const file = `${dir}/cgroup.subtree_control`;
  const enabled = (await readOptional(file) ?? "").trim().split(/\s+/);
  const added = controllers.filter((c) => !enabled.includes(c));
  if (added.length === 0) return [];
  try {
    await Deno.writeTextFile(file, added.map((c) => `+${c}`).join(" "), {
      create: false,
    });
  } catch (err) {
    if (errnoOf(err) === "EBUSY") {
      throw new JobError(
        "failed_to_start",
        `cannot enable controllers in ${dir}: it holds processes; ${DELEGATE_HINT}`,
        { cause: err },
      );
    }
    throw internal(`cannot enable ${added.join(" ")} in ${file}`, err);
  }
  return added;
}

async function disable(dir: string, controllers: string[]): Promise<void> {
  if (controllers.length === 0) return;
  const file = `${dir}/cgroup.subtree_control`;
  if (!await exists(file)) return;
  await writeValue(file, controllers.map((c) => `-${c}`).join(" "));
}

/** True if the server process is in cgroup directory `dir`. */
async function isIn(dir: string): Promise<boolean> {
  return (await readPids(dir)).includes(Deno.pid);
}

/** One job's cgroup directory. */
class CgroupV2Manager implements CgroupManager {
  readonly procsFiles: readonly string[];
  readonly #dir: string;
  readonly #io: IoDevices;

  constructor(dir: string, io: IoDevices) {
    this.#dir = dir;
    this.#io = io;
    this.procsFiles = [`${dir}/cgroup.procs`];
  }

  async apply(limits: Limits): Promise<void> {
    checkIoLimits(this.#io, limits);
    const quota = limits.cpu === undefined
      ? "max"
      : String(Math.round(limits.cpu * PERIOD_US));
    await writeValue(`${this.#dir}/cpu.max`, `${quota} ${PERIOD_US}`);
    const memory = limits.memoryBytes;
    await writeValue(`${this.#dir}/memory.max`, String(memory ?? "max"));
    if (await exists(`${this.#dir}/memory.swap.max`)) {
      await writeValue(
        `${this.#dir}/memory.swap.max`,
        memory === undefined ? "max" : "0",
      );
    }
    for (const device of this.#io.devices) {
      const rbps = limits.ioReadBps ?? "max";
      const wbps = limits.ioWriteBps ?? "max";
      await writeValue(
        `${this.#dir}/io.max`,
        `${device} rbps=${rbps} wbps=${wbps}`,
      );
    }
    await writeValue(`${this.#dir}/pids.max`, String(limits.pids ?? "max"));
  }

  pids(): Promise<number[]> {
    return treePids(this.#dir);
  }

  async signalAll(signal: Deno.Signal): Promise<void> {
    signalPids(await this.pids(), signal);
  }

  async kill(): Promise<void> {
    const file = (name: string) => `${this.#dir}/${name}`;
    const events = async () =>
      parseFlatKeyed(await readOptional(file("cgroup.events")) ?? "");
    const empty = async () => (await events()).get("populated") !== 1;
    if (await exists(file("cgroup.kill"))) {
      // cgroup.kill kills the whole subtree at once, forks included.
      const killAll = () => writeValue(file("cgroup.kill"), "1");
      const none = () => Promise.resolve();
      return await killCgroup({
        freeze: none,
        frozen: () => Promise.resolve(true),
        thaw: none,
        killAll,
        empty,
      }, `cgroup ${this.#dir}`);
    }
    await killCgroup({
      freeze: () => writeValue(file("cgroup.freeze"), "1"),
      frozen: async () => (await events()).get("frozen") === 1,
      thaw: () => writeValue(file("cgroup.freeze"), "0"),
      killAll: () => this.signalAll("SIGKILL"),
      empty,
    }, `cgroup ${this.#dir}`);
  }

  async stats(): Promise<CgroupStats> {
    const cpu = parseFlatKeyed(
      await readOptional(`${this.#dir}/cpu.stat`) ?? "",
    );
    const events = parseFlatKeyed(
      await readOptional(`${this.#dir}/memory.events`) ?? "",
    );
    // memory.peak is new in Linux 5.19; before that only the current figure exists.
    const peak = await readOptional(`${this.#dir}/memory.peak`) ??
      await readOptional(`${this.#dir}/memory.current`) ?? "0";
    const io = parseIoStat(await readOptional(`${this.#dir}/io.stat`) ?? "");
    return {
      cpuSeconds: (cpu.get("usage_usec") ?? 0) / 1e6,
      memoryPeakBytes: Number(peak.trim()),
      ioReadBytes: io.read,
      ioWriteBytes: io.write,
      cpuThrottledSeconds: (cpu.get("throttled_usec") ?? 0) / 1e6,
      oomKilled: (events.get("oom_kill") ?? 0) > 0,
    };
  }

  async destroy(): Promise<void> {
    if ((await this.pids()).length > 0) await this.kill();
    await removeCgroupTree(this.#dir);
  }
}

/** Sums rbytes and wbytes over the devices of io.stat (`MAJ:MIN rbytes=N wbytes=N ...`). */
export function parseIoStat(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const match of text.matchAll(/\b([rw])bytes=(\d+)/g)) {
    if (match[1] === "r") read += Number(match[2]);
    else write += Number(match[2]);
  }
  return { read, write };
}
