import { JobError } from "./errors.ts";
import { formatSize, type Limits, parseSize } from "./limits.ts";

/** What the running jobs of one user may hold at once. Absent: no bound. */
export interface Quota {
  runningJobs?: number;
  /** Bytes of the data directory's disk the user's jobs' output may take. */
  diskBytes?: number;
  /**
   * The same as a share of the data directory's filesystem (0.25 = a
   * quarter); the smaller of the two counts when both are set.
   */
  diskShare?: number;
  /** Cores: the sum of the running jobs' CPU limits. */
  cpu?: number;
  /** Bytes: the sum of the running jobs' memory limits. */
  memoryBytes?: number;
}

/** Quotas by role: standard users, and admins (exempt unless set). */
export interface Quotas {
  user: Quota;
  admin: Quota;
}

/**
 * The defaults protect a shared host from one user: 64 running jobs and a
 * quarter of the data directory's disk each. Admins are exempt.
 */
export function defaultQuotas(): Quotas {
  return { user: { runningJobs: 64, diskShare: 0.25 }, admin: {} };
}

/** The policy file's `quotas` section over the defaults; throws a plain Error. */
export function parseQuotas(raw: unknown): Quotas {
  const quotas = defaultQuotas();
  if (raw === undefined) return quotas;
  if (!isObject(raw)) throw new Error("quotas must be an object");
  for (const [role, value] of Object.entries(raw)) {
    if (role !== "user" && role !== "admin") {
      throw new Error(`quotas.${role} is not a role (know user, admin)`);
    }
    if (!isObject(value)) throw new Error(`quotas.${role} must be an object`);
    const quota: Quota = {};
    for (const [key, n] of Object.entries(value)) {
      const where = `quotas.${role}.${key}`;
      const number =
        (key === "memoryBytes" || key === "diskBytes") && typeof n === "string"
          ? parseSize(n)
          : n;
      if (typeof number !== "number" || !(number > 0)) {
        throw new Error(`${where} must be a positive number`);
      }
      if (
        key === "runningJobs" || key === "memoryBytes" || key === "diskBytes"
      ) {
        if (!Number.isSafeInteger(number)) {
          throw new Error(`${where} must be an integer`);
        }
        quota[key] = number;
      } else if (key === "cpu") quota.cpu = number;
      else if (key === "diskShare") {
        if (number > 1) throw new Error(`${where} must be at most 1`);
        quota.diskShare = number;
      } else {
        throw new Error(
          `${where} is not a quota (know runningJobs, cpu, memoryBytes, diskBytes, diskShare)`,
        );
      }
    }
    quotas[role] = quota;
  }
  return quotas;
}

/** The disk a user may take under `quota`, for a filesystem of `diskSize` bytes. */
export function diskAllowance(
  quota: Quota,
  diskSize: number,
): number | undefined {
  const limits = [
    quota.diskBytes,
    quota.diskShare === undefined ? undefined : quota.diskShare * diskSize,
  ].filter((n): n is number => n !== undefined);
  return limits.length ? Math.floor(Math.min(...limits)) : undefined;
}

/** Throws `resource_exhausted` when `owner` already takes their allowance. */
export function checkDiskQuota(
  owner: string,
  used: number,
  allowed: number | undefined,
): void {
  if (allowed !== undefined && used >= allowed) {
    throw new JobError(
      "resource_exhausted",
      `user ${owner} has ${
        formatSize(used)
      } of job output on the server (limit ${
        formatSize(allowed)
      }); remove some with jw rm`,
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Throws `resource_exhausted` when one more job with `wanted` limits would
 * take `owner`'s running jobs (`running`: their limits) over `quota`.
 *
 * @example
 * ```ts
 * checkQuota("alice", { runningJobs: 64 }, runningLimits, limits);
 * ```
 */
export function checkQuota(
  owner: string,
  quota: Quota,
  running: readonly Limits[],
  wanted: Limits,
): void {
  const full = (what: string, limit: string) =>
    new JobError(
      "resource_exhausted",
      `user ${owner} has ${what} (limit ${limit})`,
    );
  if (quota.runningJobs !== undefined && running.length >= quota.runningJobs) {
    throw full(`${running.length} running jobs`, String(quota.runningJobs));
  }
  const sum = (key: "cpu" | "memoryBytes") =>
    running.reduce((total, limits) => total + (limits[key] ?? 0), 0);
  if (quota.cpu !== undefined) {
    const cpu = sum("cpu") + (wanted.cpu ?? 0);
    if (cpu > quota.cpu + 1e-9 || wanted.cpu === undefined) {
      throw full(
        wanted.cpu === undefined
          ? "a CPU quota, and this job has no CPU limit"
          : `running jobs of ${
            sum("cpu")
          } cores and asks for ${wanted.cpu} more`,
        `${quota.cpu} cores`,
      );
    }
  }
  if (quota.memoryBytes !== undefined) {
    const memory = sum("memoryBytes") + (wanted.memoryBytes ?? 0);
    if (memory > quota.memoryBytes || wanted.memoryBytes === undefined) {
      throw full(
        wanted.memoryBytes === undefined
          ? "a memory quota, and this job has no memory limit"
          : `running jobs of ${
            formatSize(sum("memoryBytes"))
          } memory and asks for ${formatSize(wanted.memoryBytes)} more`,
        formatSize(quota.memoryBytes),
      );
    }
  }
}
