import { OutputStream } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { Invocation, StreamChoice } from "../args.ts";
import { copyLogs } from "../copy_logs.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";
import { type LogsRequestInit, resumeLogs } from "../resume_logs.ts";

const STREAMS: Record<StreamChoice, OutputStream[]> = {
  both: [],
  stdout: [OutputStream.STDOUT],
  stderr: [OutputStream.STDERR],
};

const NS_PER_S = 1_000_000_000n;

/** What `jw logs` was asked for. */
export type LogsOptions = Omit<
  Extract<Invocation, { command: "logs" }>,
  "command" | "conn"
>;

/**
 * `jw logs`: the job's output as raw bytes, or with `-t` each line after
 * its time. With `-f` it follows the job to its end and, when the
 * connection is lost, reconnects and goes on where it was.
 */
export async function logs(
  client: JobWorkerClient,
  opts: LogsOptions,
  output: Output,
  signal?: AbortSignal,
): Promise<number> {
  const request: LogsRequestInit = {
    jobId: opts.id,
    follow: opts.follow,
    streams: STREAMS[opts.streams],
    offset: opts.from,
    since: timestamp(opts.since),
    until: timestamp(opts.until),
    tail: opts.tail,
    // Exact times cost more, smaller responses: only when they are shown.
    exactTimes: opts.timestamps,
  };
  const chunks = opts.follow
    ? resumeLogs((next, signal) => client.logs(next, signal), request, {
      signal,
      onReconnect: (attempt) =>
        output.err(`jw: connection lost; reconnecting (attempt ${attempt})\n`),
    })
    : client.logs(request, signal);
  await copyLogs(chunks, opts.streams, output, {
    timestamps: opts.timestamps,
  });
  return 0;
}

function timestamp(ns: bigint | undefined) {
  return ns === undefined
    ? undefined
    : { seconds: ns / NS_PER_S, nanos: Number(ns % NS_PER_S) };
}
