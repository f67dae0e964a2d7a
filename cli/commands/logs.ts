import { OutputStream } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { StreamChoice } from "../args.ts";
import { copyLogs } from "../copy_logs.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";

const STREAMS: Record<StreamChoice, OutputStream[]> = {
  both: [],
  stdout: [OutputStream.STDOUT],
  stderr: [OutputStream.STDERR],
};

/** `jw logs`: the job's output as raw bytes, following it with `-f`. */
export async function logs(
  client: JobWorkerClient,
  opts: { id: string; follow: boolean; streams: StreamChoice; from: bigint },
  output: Output,
  signal?: AbortSignal,
): Promise<number> {
  const chunks = client.logs({
    jobId: opts.id,
    follow: opts.follow,
    streams: STREAMS[opts.streams],
    offset: opts.from,
  }, signal);
  await copyLogs(chunks, opts.streams, output);
  return 0;
}
