import { toJson } from "@bufbuild/protobuf";
import {
  type Job,
  JobSchema,
  JobState,
} from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";
import { renderTable } from "../render_job.ts";

/** Jobs asked for per List call (the server's most). */
const PAGE_SIZE = 1000;

/**
 * `jw ls`: the jobs the server lets us see, running ones only unless
 * `all`, as a table or one JSON object per line.
 */
export async function ls(
  client: JobWorkerClient,
  opts: { all: boolean; owner?: string; json: boolean },
  output: Output,
): Promise<number> {
  const shown: Job[] = [];
  let pageToken = "";
  do {
    // Pages, so that no answer nears gRPC's message limit however many
    // jobs there are; only running ones unless --all, chosen by the server.
    const page = await client.list({
      owner: opts.owner ?? "",
      pageSize: PAGE_SIZE,
      pageToken,
      states: opts.all ? [] : [JobState.RUNNING],
    });
    shown.push(...page.jobs);
    pageToken = page.nextPageToken;
  } while (pageToken);
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
