import { toJson } from "@bufbuild/protobuf";
import { JobSchema, JobState } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import { listJobs, STATE_BY_NAME } from "../list_jobs.ts";
import type { Output } from "../output.ts";
import { renderTable } from "../render_job.ts";

/** What `jw ls` was asked for. */
export interface LsOptions {
  all: boolean;
  owner?: string;
  /** State names (`exited`); none: running jobs, or any with `all`. */
  states: readonly string[];
  name?: string;
  format: "table" | "json" | "ids";
  noColor?: boolean;
}

/**
 * `jw ls`: the jobs the server lets us see, running ones only unless
 * `all` or `states` say otherwise, as a table, one JSON object per line,
 * or ids alone.
 */
export async function ls(
  client: JobWorkerClient,
  opts: LsOptions,
  output: Output,
): Promise<number> {
  const states = opts.states.map((name) => STATE_BY_NAME[name]);
  const shown = await listJobs(client, {
    owner: opts.owner ?? "",
    states: states.length || opts.all ? states : [JobState.RUNNING],
    name: opts.name ?? "",
  });
  switch (opts.format) {
    case "json":
      await output.out(
        shown.map((job) => JSON.stringify(toJson(JobSchema, job)) + "\n")
          .join(""),
      );
      break;
    case "ids":
      await output.out(shown.map((job) => `${job.id}\n`).join(""));
      break;
    case "table":
      await output.out(
        renderTable(shown, {
          tty: output.tty,
          now: new Date(),
          colour: !opts.noColor,
        }) + "\n",
      );
  }
  return 0;
}
