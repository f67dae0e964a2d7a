import { toJson } from "@bufbuild/protobuf";
import { JobSchema, JobState } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";
import { renderTable } from "../render_job.ts";

/**
 * `jw ls`: the jobs the server lets us see, running ones only unless
 * `all`, as a table or one JSON object per line.
 */
export async function ls(
  client: JobWorkerClient,
  opts: { all: boolean; owner?: string; json: boolean },
  output: Output,
): Promise<number> {
  const { jobs } = await client.list({ owner: opts.owner ?? "" });
  const shown = opts.all
    ? jobs
    : jobs.filter((job) => job.state === JobState.RUNNING);
  if (opts.json) {
    await output.out(
      shown.map((job) => JSON.stringify(toJson(JobSchema, job)) + "\n").join(
        "",
      ),
    );
  } else {
    await output.out(
      renderTable(shown, { tty: output.tty, now: new Date() }) + "\n",
    );
  }
  return 0;
}
