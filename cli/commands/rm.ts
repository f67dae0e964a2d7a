import { toJson } from "@bufbuild/protobuf";
import { JobSchema } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";

/** `jw rm`: removes an ended job; silent on success unless `--json`. */
export async function rm(
  client: JobWorkerClient,
  id: string,
  json: boolean,
  output: Output,
): Promise<number> {
  const { job } = await client.remove({ jobId: id });
  if (json && job) {
    await output.out(JSON.stringify(toJson(JobSchema, job)) + "\n");
  }
  return 0;
}
