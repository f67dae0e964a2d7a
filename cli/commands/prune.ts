import { toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Job, JobSchema } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import { ENDED_STATES, listJobs, STATE_BY_NAME } from "../list_jobs.ts";
import type { Output } from "../output.ts";
import { describeError } from "../describe_error.ts";
import { escapeControls } from "../escape.ts";

/** Removals in flight at once: enough to hide round trips, few enough to be polite. */
const CONCURRENCY = 16;

/** What `jw prune` was asked for. */
export interface PruneOptions {
  /** Only jobs that ended at least this long ago. */
  olderThanMs?: number;
  /** State names of ended jobs (`exited`); none: every ended one. */
  states: readonly string[];
  owner?: string;
  json: boolean;
}

/**
 * `jw prune`: removes the ended jobs that match, with their output, and
 * prints each removed id (or job, with `--json`). A job that cannot be
 * removed is one line on stderr and the others go on.
 */
export async function prune(
  client: JobWorkerClient,
  opts: PruneOptions,
  output: Output,
  server: string,
  now: Date = new Date(),
): Promise<number> {
  const states = opts.states.map((name) => STATE_BY_NAME[name]);
  const jobs = await listJobs(client, {
    owner: opts.owner ?? "",
    states: states.length ? states : [...ENDED_STATES],
  });
  const old = jobs.filter((job) =>
    opts.olderThanMs === undefined ||
    now.getTime() - endedMs(job) >= opts.olderThanMs
  );
  let code = 0;
  for (let i = 0; i < old.length; i += CONCURRENCY) {
    const batch = old.slice(i, i + CONCURRENCY);
    const results = await Promise.allSettled(
      batch.map((job) => client.remove({ jobId: job.id })),
    );
    const lines: string[] = [];
    for (const result of results) {
      if (result.status === "rejected") {
        // One line for this job, as from jw rm; the others go on.
        const described = describeError(result.reason, server);
        await output.err(`jw: ${escapeControls(described.message)}\n`);
        code ||= described.exitCode;
        continue;
      }
      const { job } = result.value;
      if (!job) continue;
      lines.push(opts.json ? JSON.stringify(toJson(JobSchema, job)) : job.id);
    }
    if (lines.length) await output.out(lines.join("\n") + "\n");
  }
  return code;
}

/** When the job ended; its creation for a record without an end. */
function endedMs(job: Job): number {
  const at = job.endedAt ?? job.createdAt;
  return at ? timestampDate(at).getTime() : 0;
}
