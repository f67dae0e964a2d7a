import { toJson } from "@bufbuild/protobuf";
import { JobSchema } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";
import { eachJob } from "./each_job.ts";

/** `jw kill [-s SIGNAL] ID…`: signals every process of each job; silent unless `--json`. */
export async function kill(
  client: JobWorkerClient,
  ids: readonly string[],
  signal: string,
  json: boolean,
  output: Output,
  server: string,
): Promise<number> {
  return await eachJob(ids, server, output, async (id) => {
    const { job } = await client.kill({ jobId: id, signal });
    if (json && job) {
      await output.out(JSON.stringify(toJson(JobSchema, job)) + "\n");
    }
  });
}
