import { toJson } from "@bufbuild/protobuf";
import { JobSchema } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";
import { eachJob } from "./each_job.ts";

/** `jw rm ID…`: removes each ended job; silent on success unless `--json`. */
export async function rm(
  client: JobWorkerClient,
  ids: readonly string[],
  json: boolean,
  output: Output,
  server: string,
): Promise<number> {
  return await eachJob(ids, server, output, async (id) => {
    const { job } = await client.remove({ jobId: id });
    if (json && job) {
      await output.out(JSON.stringify(toJson(JobSchema, job)) + "\n");
    }
  });
}
