import { type Job, JobState } from "../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "./jobworker_client.ts";

/** Jobs asked for per List call (the server's most). */
const PAGE_SIZE = 1000;

/** The states by the names `jw ls --state` and `jw prune --state` take. */
export const STATE_BY_NAME: Readonly<Record<string, JobState>> = {
  running: JobState.RUNNING,
  exited: JobState.EXITED,
  signaled: JobState.SIGNALED,
  stopped: JobState.STOPPED,
  failed: JobState.FAILED_TO_START,
  lost: JobState.LOST,
};

/** Every state of a job that has ended. */
export const ENDED_STATES: readonly JobState[] = Object.values(STATE_BY_NAME)
  .filter((state) => state !== JobState.RUNNING);

/**
 * Every job the server lets us see that matches `request`, oldest first,
 * read in pages so that no answer nears gRPC's message limit however many
 * jobs there are; the server does the filtering.
 */
export async function listJobs(
  client: JobWorkerClient,
  request: { owner?: string; states?: JobState[]; name?: string },
): Promise<Job[]> {
  const jobs: Job[] = [];
  let pageToken = "";
  do {
    const page = await client.list({
      ...request,
      pageSize: PAGE_SIZE,
      pageToken,
    });
    jobs.push(...page.jobs);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return jobs;
}
