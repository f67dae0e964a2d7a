import { isJobId } from "./job_id.ts";
import type { JobInfo, JobState } from "./job_info.ts";
import { LIMIT_KEYS, type Limits, type Usage } from "./limits.ts";

/** The largest meta.json read back; a record the runtime writes is far smaller. */
export const MAX_RECORD_BYTES = 1024 * 1024;

const STATES: readonly JobState[] = [
  "running",
  "exited",
  "signaled",
  "stopped",
  "failed_to_start",
  "lost",
];

const USAGE_KEYS = [
  "cpuSeconds",
  "memoryPeakBytes",
  "ioReadBytes",
  "ioWriteBytes",
  "cpuThrottledSeconds",
] as const satisfies readonly (keyof Usage)[];

/** Why a stored record was not taken. */
export class BadRecord extends Error {}

/**
 * A job record read back from disk, checked field by field: it is data the
 * server wrote, but the disk (or someone with access to it) may have
 * changed it, and paths are built from its id. `dirName` is the directory
 * it was found in, which must be its id. Throws {@link BadRecord} naming
 * the first bad field; unknown fields are dropped.
 */
export function parseRecord(raw: unknown, dirName: string): JobInfo {
  const r = object(raw, "record");
  const id = string(r.id, "id");
  if (!isJobId(id)) throw new BadRecord(`id is not a job id`);
  if (id !== dirName) throw new BadRecord(`id ${id} is not its directory's`);
  const state = string(r.state, "state") as JobState;
  if (!STATES.includes(state)) throw new BadRecord(`unknown state`);
  const owner = string(r.owner, "owner");
  if (!owner || owner.length > 256) throw new BadRecord("bad owner");
  const info: JobInfo = {
    id,
    owner,
    name: string(r.name, "name"),
    command: string(r.command, "command"),
    args: array(r.args, "args").map((arg, i) => string(arg, `args[${i}]`)),
    dir: string(r.dir, "dir"),
    state,
    oomKilled: boolean(r.oomKilled, "oomKilled"),
    createdAt: date(r.createdAt, "createdAt"),
    limits: limits(r.limits),
    usage: usage(r.usage),
    stdoutBytes: count(r.stdoutBytes, "stdoutBytes"),
    stderrBytes: count(r.stderrBytes, "stderrBytes"),
    stdoutDroppedBytes: count(r.stdoutDroppedBytes ?? 0, "stdoutDroppedBytes"),
    stderrDroppedBytes: count(r.stderrDroppedBytes ?? 0, "stderrDroppedBytes"),
  };
  if (r.quota !== undefined) {
    if (r.quota !== "user" && r.quota !== "admin") {
      throw new BadRecord("quota is not a role");
    }
    info.quota = r.quota;
  }
  if (r.uid !== undefined) info.uid = id32(r.uid, "uid");
  if (r.gid !== undefined) info.gid = id32(r.gid, "gid");
  if (r.exitCode !== undefined) info.exitCode = int(r.exitCode, "exitCode");
  if (r.signal !== undefined) info.signal = int(r.signal, "signal");
  if (r.error !== undefined) info.error = string(r.error, "error");
  if (r.startedAt !== undefined) {
    info.startedAt = date(r.startedAt, "startedAt");
  }
  if (r.endedAt !== undefined) info.endedAt = date(r.endedAt, "endedAt");
  if (r.outputCapBytes !== undefined) {
    info.outputCapBytes = count(r.outputCapBytes, "outputCapBytes");
  }
  return info;
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new BadRecord(`${what} is not an object`);
  }
  return v as Record<string, unknown>;
}

function string(v: unknown, what: string): string {
  if (typeof v !== "string") throw new BadRecord(`${what} is not a string`);
  return v;
}

function array(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new BadRecord(`${what} is not a list`);
  return v;
}

function boolean(v: unknown, what: string): boolean {
  if (typeof v !== "boolean") throw new BadRecord(`${what} is not a boolean`);
  return v;
}

function int(v: unknown, what: string): number {
  if (!Number.isSafeInteger(v)) {
    throw new BadRecord(`${what} is not an integer`);
  }
  return v as number;
}

function count(v: unknown, what: string): number {
  const n = int(v, what);
  if (n < 0) throw new BadRecord(`${what} is negative`);
  return n;
}

function id32(v: unknown, what: string): number {
  const n = count(v, what);
  if (n >= 2 ** 32 - 1) throw new BadRecord(`${what} is out of range`);
  return n;
}

function date(v: unknown, what: string): Date {
  const d = new Date(string(v, what));
  if (Number.isNaN(d.getTime())) throw new BadRecord(`${what} is not a date`);
  return d;
}

function number(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new BadRecord(`${what} is not a number`);
  }
  return v;
}

function limits(v: unknown): Limits {
  const raw = object(v, "limits");
  const out: Limits = {};
  for (const key of LIMIT_KEYS) {
    if (raw[key] !== undefined) out[key] = number(raw[key], `limits.${key}`);
  }
  return out;
}

function usage(v: unknown): Usage {
  const raw = object(v, "usage");
  const out = {} as Usage;
  for (const key of USAGE_KEYS) {
    out[key] = number(raw[key] ?? 0, `usage.${key}`);
  }
  return out;
}
