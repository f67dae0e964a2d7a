import { type Job, JobState } from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { StartSpec } from "../args.ts";
import { CliError } from "../cli_error.ts";
import { copyLogs } from "../copy_logs.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";
import { startRequest } from "./start.ts";

/** Exit code of `jw run` after a second Ctrl-C, as a shell reports SIGINT. */
const INTERRUPTED = 130;
/** Exit code of `jw run` whose stdout was closed, as a shell reports SIGPIPE. */
const BROKEN_PIPE = 141;

/**
 * The exit code `jw run` passes on for an ended job: its own code, or
 * 128+N when signal N ended it, as shells report it (also for a stopped job
 * that died of the stop's signal). A job that never ran is an error.
 *
 * @example
 * ```ts
 * jobExitCode(create(JobSchema, { state: JobState.SIGNALED, signal: 9 })); // 137
 * ```
 */
export function jobExitCode(job: Job): number {
  switch (job.state) {
    case JobState.FAILED_TO_START:
      throw new CliError(`job ${job.id} failed to start: ${job.error}`);
    case JobState.EXITED:
    case JobState.SIGNALED:
    case JobState.STOPPED:
      // A stopped job may have exited on its own after SIGTERM.
      if (job.exitCode !== undefined) return job.exitCode;
      if (job.signal !== undefined) return 128 + job.signal;
      throw new CliError(`job ${job.id} ended without an exit code or signal`);
    case JobState.LOST:
      throw new CliError(`job ${job.id} was lost: ${job.error}`);
    default:
      throw new CliError(`job ${job.id} has not ended`);
  }
}

/** How `jw run` treats the job besides streaming it. */
export interface RunOptions {
  /** Remove the job once it has ended (`--rm`). */
  rm?: boolean;
}

/**
 * `jw run`: start, stream the output until the job ends, exit with the
 * job's code. The first Ctrl-C asks the server to stop the job and keeps
 * streaming its last words; the second leaves at once. With `rm` the job
 * is removed once it has ended, however it ended.
 */
export async function run(
  client: JobWorkerClient,
  spec: StartSpec,
  output: Output,
  options: RunOptions = {},
): Promise<number> {
  const { job } = await client.start(startRequest(spec));
  if (!job) throw new Error("server sent no job");
  const leave = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    if (++interrupts === 1) {
      output.err(
        `jw: stopping job ${job.id} (Ctrl-C again to leave it running)\n`,
      ).catch(() => {});
      client.stop({ jobId: job.id }).catch(() => leave.abort());
    } else leave.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  let code: number | undefined;
  try {
    await copyLogs(
      client.logs({ jobId: job.id, follow: true }, leave.signal),
      "both",
      output,
    );
  } catch (err) {
    if (leave.signal.aborted) {
      if (options.rm) {
        await output.err(`jw: job ${job.id} left running, not removed\n`)
          .catch(() => {});
      }
      return INTERRUPTED;
    }
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
    // Whoever read our output is gone (`jw run … | head`): so is the
    // point of the job. Exit as a shell reports SIGPIPE.
    await output.err(`jw: output closed; stopping job ${job.id}\n`)
      .catch(() => {});
    await client.stop({ jobId: job.id }).catch(() => {});
    code = BROKEN_PIPE;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  // A followed log ends once the job has; Wait gives its final state.
  const { job: ended } = await client.wait({ jobId: job.id });
  if (!ended) throw new Error("server sent no job");
  if (options.rm) await client.remove({ jobId: job.id });
  return code ?? jobExitCode(ended);
}
