import { JobError } from "./errors.ts";

/**
 * Resource limits of one job. An absent field means "no limit of this kind".
 * `cpu` is in cores and may be fractional (0.5 = half a core).
 */
export interface Limits {
  cpu?: number;
  memoryBytes?: number;
  ioReadBps?: number;
  ioWriteBps?: number;
  pids?: number;
}

/** Resource usage of one job, read from its cgroup. */
export interface Usage {
  cpuSeconds: number;
  memoryPeakBytes: number;
  ioReadBytes: number;
  ioWriteBytes: number;
  /** Time the job was throttled by its CPU limit, where the kernel reports it. */
  cpuThrottledSeconds: number;
}

export const LIMIT_KEYS = [
  "cpu",
  "memoryBytes",
  "ioReadBps",
  "ioWriteBps",
  "pids",
] as const satisfies readonly (keyof Limits)[];

export type LimitKey = typeof LIMIT_KEYS[number];

/** Zero usage, for jobs that never ran. */
export function emptyUsage(): Usage {
  return {
    cpuSeconds: 0,
    memoryPeakBytes: 0,
    ioReadBytes: 0,
    ioWriteBytes: 0,
    cpuThrottledSeconds: 0,
  };
}

const MIN: Record<LimitKey, number> = {
  cpu: 0.01,
  memoryBytes: 4 * 1024 * 1024,
  ioReadBps: 4096,
  ioWriteBps: 4096,
  pids: 1,
};

/**
 * Checks that every present limit is a finite number within sane bounds
 * (integers where the kernel wants integers) and returns a clean copy.
 * Throws `invalid_argument` naming the field otherwise.
 */
export function validateLimits(limits: Limits): Limits {
  const out: Limits = {};
  for (const key of LIMIT_KEYS) {
    const value = limits[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new JobError("invalid_argument", `limit ${key} is not a number`);
    }
    if (key !== "cpu" && !Number.isInteger(value)) {
      throw new JobError(
        "invalid_argument",
        `limit ${key} must be a whole number`,
      );
    }
    if (value < MIN[key]) {
      throw new JobError(
        "invalid_argument",
        `limit ${key} must be at least ${MIN[key]}, got ${value}`,
      );
    }
    out[key] = value;
  }
  return out;
}

const UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/**
 * Parses a byte size such as `256M`, `1.5g`, `4096` or `10MiB` (binary units).
 *
 * @example
 * ```ts
 * parseSize("256M"); // 268435456
 * ```
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) throw new JobError("invalid_argument", `not a size: "${text}"`);
  const bytes = Number(match[1]) * UNITS[match[2].toLowerCase()];
  if (!Number.isSafeInteger(Math.round(bytes))) {
    throw new JobError("invalid_argument", `size too large: "${text}"`);
  }
  return Math.round(bytes);
}

/** Formats bytes with a binary unit: `formatSize(268435456)` is `"256M"`. */
export function formatSize(bytes: number): string {
  for (const unit of ["T", "G", "M", "K"]) {
    const value = bytes / UNITS[unit.toLowerCase()];
    if (value >= 1) {
      return `${Number.isInteger(value) ? value : value.toFixed(1)}${unit}`;
    }
  }
  return String(bytes);
}
