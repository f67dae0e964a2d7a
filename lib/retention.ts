import type { JobInfo } from "./job_info.ts";

/** How long finished jobs and their output are kept. */
export interface Retention {
  /** Finished jobs older than this (since they ended) are removed. */
  maxAgeMs?: number;
  /** When all jobs' output exceeds this, finished jobs go, oldest first. */
  maxBytes?: number;
}

/**
 * Picks the finished jobs to remove under `retention`: those past the age,
 * then the oldest until the total output fits. Running jobs are never picked
 * (they still count toward the total).
 */
export function pickExpired(
  jobs: readonly { info: JobInfo; bytes: number }[],
  retention: Retention,
  now: number,
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
  if (retention.maxBytes !== undefined) {
    let total = jobs.reduce(
      (sum, job) => picked.has(job.info.id) ? sum : sum + job.bytes,
      0,
    );
    for (const job of finished) {
      if (total <= retention.maxBytes) break;
      if (picked.has(job.info.id)) continue;
      picked.add(job.info.id);
      total -= job.bytes;
    }
  }
  return [...picked];
}

function ended(info: JobInfo): number {
  return (info.endedAt ?? info.createdAt).getTime();
}
