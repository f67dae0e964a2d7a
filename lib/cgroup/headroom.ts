/**
 * The server's headroom: jobs live beneath the server's own cgroup, so a
 * limit on it (a service's TasksMax=, MemoryMax=) counts the jobs' tasks
 * and memory too. Left alone, jobs could take all of it and the server
 * could no longer fork a launcher or allocate. So the parent of the job
 * cgroups gets the server's effective limit less a reserve.
 *
 * @module
 */
import { readOptional, writeValue } from "./_common.ts";

/** What the server keeps for itself of a pids limit: 10 %, at least 64. */
export function pidsReserve(limit: number): number {
  return Math.max(64, Math.ceil(limit / 10));
}

/** What the server keeps for itself of a memory limit: 10 %, at least 256 MiB. */
export function memoryReserve(limit: number): number {
  return Math.max(256 * 1024 ** 2, Math.ceil(limit / 10));
}

/** Values at or above this mean "no limit" (cgroup v1 writes 2^63 − 4096). */
const UNLIMITED = 2 ** 60;

/**
 * The tightest limit in `file` of `dir` and its ancestors (up to the first
 * that has no such file: the hierarchy's root), or undefined when none is
 * set. `max` and huge values mean none.
 */
export async function effectiveLimit(
  dir: string,
  file: string,
): Promise<number | undefined> {
  let tightest: number | undefined;
  for (let at = dir; at !== "/" && at !== "";) {
    const text = (await readOptional(`${at}/${file}`))?.trim();
    if (text === undefined) break;
    const value = Number(text);
    if (text !== "max" && Number.isFinite(value) && value < UNLIMITED) {
      tightest = tightest === undefined ? value : Math.min(tightest, value);
    }
    at = at.slice(0, at.lastIndexOf("/"));
  }
  return tightest;
}

/**
 * Writes to `jobsDir/file` the effective limit of `ownDir` less `reserve`
 * of it, when `ownDir` is limited at all. Returns what was written.
 */
export async function reserveHeadroom(
  ownDir: string,
  jobsDir: string,
  file: string,
  reserve: (limit: number) => number,
): Promise<number | undefined> {
  const limit = await effectiveLimit(ownDir, file);
  if (limit === undefined) return undefined;
  const share = Math.max(1, limit - reserve(limit));
  await writeValue(`${jobsDir}/${file}`, String(share));
  return share;
}
