import { toJson } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { JobSchema } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";

/** `jw stop`: stops the job; silent on success unless `--json`. */
export async function stop(
  client: JobWorkerClient,
  id: string,
  graceMs: number | undefined,
  json: boolean,
  output: Output,
): Promise<number> {
  const { job } = await client.stop({
    jobId: id,
    grace: graceMs === undefined ? undefined : durationFromMs(graceMs),
  });
  if (json && job) {
    await output.out(JSON.stringify(toJson(JobSchema, job)) + "\n");
  }
  return 0;
}
