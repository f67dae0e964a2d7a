import { type MessageInitShape, toJson } from "@bufbuild/protobuf";
import {
  JobSchema,
  type StartRequestSchema,
} from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { StartSpec } from "../args.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";

/** The Start request for a parsed `jw start`/`jw run`; limits only when asked for. */
export function startRequest(
  spec: StartSpec,
): MessageInitShape<typeof StartRequestSchema> {
  const hasLimits = Object.values(spec.limits).some((value) =>
    value !== undefined
  );
  return {
    command: spec.command,
    args: spec.args,
    env: spec.env,
    dir: spec.dir ?? "",
    name: spec.name ?? "",
    limits: hasLimits ? spec.limits : undefined,
  };
}

/**
 * `jw start`: starts the job and prints its id and a newline, nothing else
 * (or the job as JSON with `--json`).
 */
export async function start(
  client: JobWorkerClient,
  spec: StartSpec,
  json: boolean,
  output: Output,
): Promise<number> {
  const { job } = await client.start(startRequest(spec));
  if (!job) throw new Error("server sent no job");
  await output.out(
    json ? JSON.stringify(toJson(JobSchema, job)) + "\n" : `${job.id}\n`,
  );
  return 0;
}
