import type { JobInfo } from "./job_info.ts";

/** How long finished jobs and their output are kept. */
export interface Retention {
  /** Finished jobs older than this (since they ended) are removed. */
  maxAgeMs?: number;
  /**
   * When all jobs' output exceeds this, finished jobs go: always the oldest
   * of the owner whose jobs take the most, so that one user's output never
   * costs another user theirs while the first still has some.
   */
  maxBytes?: number;
  /** Each owner's finished jobs beyond this many go, oldest first. */
  maxJobsPerOwner?: number;
}

/**
 * Picks the finished jobs to remove under `retention`: those past the age,
 * those beyond each owner's count, each owner's oldest while they are over
 * their own budget (`ownerBudgets`, never their last one), then, while the
 * total output is over the budget, the oldest of whoever takes the most.
 * Running jobs are never picked (they still count toward the totals).
 *
 * @example
 * ```ts
 * for (const id of pickExpired(jobs, { maxBytes: 10 * 2 ** 30 }, Date.now())) remove(id);
 * ```
 */
export function pickExpired(
  jobs: readonly { info: JobInfo; bytes: number }[],
  retention: Retention,
  now: number,
  ownerBudgets: ReadonlyMap<string, number> = new Map(),
): string[] {
  const finished = jobs
    .filter((job) => job.info.state !== "running")
    .sort((a, b) => ended(a.info) - ended(b.info));
  const picked = new Set<string>();
  if (retention.maxAgeMs !== undefined) {
    for (const job of finished) {
      if (now - ended(job.info) > retention.maxAgeMs) picked.add(job.info.id);
    }
  }
  if (retention.maxJobsPerOwner !== undefined) {
    for (const own of byOwner(finished).values()) {
      const kept = own.filter((job) => !picked.has(job.info.id));
      const over = kept.length - retention.maxJobsPerOwner;
      for (const job of kept.slice(0, Math.max(0, over))) {
        picked.add(job.info.id);
      }
    }
  }
  // An owner over their disk quota loses their own oldest finished jobs,
  // all but the one that ended last: its status and what output it kept
  // stay for them to read (a job whose output was cut at the quota can be
  // over it on its own; their next start is refused until they remove it).
  for (const [owner, budget] of ownerBudgets) {
    const own = jobs.filter((job) =>
      job.info.owner === owner && !picked.has(job.info.id)
    );
    let used = own.reduce((sum, job) => sum + job.bytes, 0);
    const last = finished.findLast((job) => job.info.owner === owner);
    for (const job of finished) {
      if (used <= budget) break;
      if (job === last) break;
      if (job.info.owner !== owner || picked.has(job.info.id)) continue;
      picked.add(job.info.id);
      used -= job.bytes;
    }
  }
  if (retention.maxBytes !== undefined) {
    const left = jobs.filter((job) => !picked.has(job.info.id));
    let total = left.reduce((sum, job) => sum + job.bytes, 0);
    const usage = new Map<string, number>();
    for (const job of left) {
      usage.set(job.info.owner, (usage.get(job.info.owner) ?? 0) + job.bytes);
    }
    const queues = byOwner(finished.filter((job) => !picked.has(job.info.id)));
    while (total > retention.maxBytes) {
      // The owner whose jobs take the most and who has a finished one left.
      let heaviest: string | undefined;
      for (const [owner, queue] of queues) {
        if (!queue.length) continue;
        if (
          heaviest === undefined || usage.get(owner)! > usage.get(heaviest)!
        ) {
          heaviest = owner;
        }
      }
      if (heaviest === undefined) break;
      const job = queues.get(heaviest)!.shift()!;
      picked.add(job.info.id);
      total -= job.bytes;
      usage.set(heaviest, usage.get(heaviest)! - job.bytes);
    }
  }
  return [...picked];
}

/** Jobs by owner, keeping their order. */
function byOwner<T extends { info: JobInfo }>(
  jobs: readonly T[],
): Map<string, T[]> {
  const owners = new Map<string, T[]>();
  for (const job of jobs) {
    const list = owners.get(job.info.owner) ?? [];
    list.push(job);
    owners.set(job.info.owner, list);
  }
  return owners;
}

function ended(info: JobInfo): number {
  return (info.endedAt ?? info.createdAt).getTime();
}
