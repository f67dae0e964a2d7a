import { toJson } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { JobSchema } from "../../gen/jobworker/v1/jobworker_pb.ts";
import { GrpcStatus } from "../grpc_status.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";
import { eachJob } from "./each_job.ts";

/**
 * `jw stop ID…`: stops each job; silent on success unless `--json`. A job
 * that had already ended is a note, not a failure (as `docker stop`).
 */
export async function stop(
  client: JobWorkerClient,
  ids: readonly string[],
  graceMs: number | undefined,
  json: boolean,
  output: Output,
  server: string,
): Promise<number> {
  return await eachJob(ids, server, output, async (id) => {
    let job;
    try {
      ({ job } = await client.stop({
        jobId: id,
        grace: graceMs === undefined ? undefined : durationFromMs(graceMs),
      }));
    } catch (err) {
      // The one precondition of Stop: that the job still runs.
      const code = (err as { code?: unknown }).code;
      if (code !== GrpcStatus.FAILED_PRECONDITION) throw err;
      await output.err(`jw: job ${id} had already ended\n`);
      return;
    }
    if (json && job) {
      await output.out(JSON.stringify(toJson(JobSchema, job)) + "\n");
    }
  });
}
