import type { Limits, Usage } from "../limits.ts";

/** Final figures of a job's cgroup, read before it is removed. */
export interface CgroupStats extends Usage {
  /** True when the kernel's OOM killer killed a process of this cgroup. */
  oomKilled: boolean;
}

/**
 * One job's cgroup (one directory per controller on v1, one directory on v2).
 * Made by a {@link CgroupDriver}; the rest of the runtime never asks which
 * cgroup version is underneath.
 */
export interface CgroupManager {
  /** Paths the job's init writes `0` into to join this cgroup (one per v1 controller, one on v2). */
  readonly procsFiles: readonly string[];
  /** Writes the limits (absent fields: no limit). */
  apply(limits: Limits): Promise<void>;
  /** Host PIDs of every process in the cgroup. */
  pids(): Promise<number[]>;
  /** Sends `signal` to every process in the cgroup. */
  signalAll(signal: Deno.Signal): Promise<void>;
  /** Kills every process (v2 `cgroup.kill`; v1 freeze, SIGKILL all, thaw) and waits until the cgroup is empty. */
  kill(): Promise<void>;
  /** Usage and OOM figures. */
  stats(): Promise<CgroupStats>;
  /** Kills what is left and removes the cgroup directories. Safe to call twice. */
  destroy(): Promise<void>;
}

/** Creates job cgroups beneath the server's own cgroup for one cgroup version. */
export interface CgroupDriver {
  readonly version: 1 | 2;
  /** Where job cgroups are made (the parent directory, or v1 memory parent), for messages and tests. */
  readonly root: string;
  /** Makes the cgroup of one job. `name` is a job id. */
  create(name: string): Promise<CgroupManager>;
  /**
   * The cgroup of a job an earlier server made (after a restart), without
   * touching it; `not_found` if it no longer exists.
   */
  adopt(name: string): Promise<CgroupManager>;
  /** Names of job cgroups that exist now (for cleanup checks and re-adoption). */
  list(): Promise<string[]>;
  /** Removes the driver's parent cgroup if it is empty (at shutdown). */
  close(): Promise<void>;
}
