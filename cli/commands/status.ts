import { toJson } from "@bufbuild/protobuf";
import { JobSchema } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";
import { renderDetails } from "../render_job.ts";

/** `jw status`: the job's details, or the job as one line of JSON. */
export async function status(
  client: JobWorkerClient,
  id: string,
  json: boolean,
  output: Output,
  { noColor = false }: { noColor?: boolean } = {},
): Promise<number> {
  const { job } = await client.status({ jobId: id });
  if (!job) throw new Error("server sent no job");
  await output.out(
    json ? JSON.stringify(toJson(JobSchema, job)) + "\n" : renderDetails(job, {
      tty: output.tty,
      now: new Date(),
      colour: !noColor,
    }) + "\n",
  );
  return 0;
}
