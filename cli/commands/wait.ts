import type { Job } from "../../gen/jobworker/v1/jobworker_pb.ts";
import { describeError } from "../describe_error.ts";
import { escapeControls } from "../escape.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";
import { resumeCall } from "../resume_call.ts";
import { jobExitCode } from "./run.ts";

/** One job's end as `jw wait` reports it: its exit code, or why it has none. */
type Outcome = { id: string; code: number } | { error: unknown };

/**
 * `jw wait ID…`: waits for the jobs to end, through the server's Wait (no
 * polling; a server restart is waited through). With `all`, prints each
 * job's exit code in the order given, as `docker wait`, and exits with the
 * first one that is not 0; with `any`, prints the id of the first job to
 * end and exits with its code. A job that failed to start or was lost is
 * an error line.
 */
export async function wait(
  client: JobWorkerClient,
  ids: readonly string[],
  any: boolean,
  output: Output,
  server: string,
): Promise<number> {
  const leave = new AbortController();
  const outcomes = ids.map((id) =>
    resumeCall(() => client.wait({ jobId: id }, leave.signal), {
      signal: leave.signal,
      onReconnect: (attempt) =>
        output.err(`jw: connection lost; reconnecting (attempt ${attempt})\n`),
    }).then(
      ({ job }) => outcome(job),
      (error): Outcome => ({ error }),
    )
  );
  const fail = async (error: unknown) => {
    const described = describeError(error, server);
    await output.err(`jw: ${escapeControls(described.message)}\n`);
    return described.exitCode;
  };
  try {
    if (any) return await first(outcomes, output, fail);
    let code = 0;
    for (const pending of outcomes) {
      const result = await pending;
      if ("error" in result) {
        if (ids.length === 1) throw result.error;
        code ||= await fail(result.error);
        continue;
      }
      await output.out(`${result.code}\n`);
      code ||= result.code;
    }
    return code;
  } finally {
    leave.abort();
  }
}

/** `--any`: the first job to end, after reporting those that could not be waited for. */
async function first(
  outcomes: Promise<Outcome>[],
  output: Output,
  fail: (error: unknown) => Promise<number>,
): Promise<number> {
  const pending = new Map(outcomes.map((p, i) => [i, p]));
  let code = 1;
  while (pending.size) {
    const [index, result] = await Promise.race(
      [...pending].map(([i, p]) => p.then((r) => [i, r] as const)),
    );
    pending.delete(index);
    if ("error" in result) {
      code = await fail(result.error);
      continue;
    }
    await output.out(`${result.id}\n`);
    return result.code;
  }
  return code;
}

function outcome(job: Job | undefined): Outcome {
  if (!job) return { error: new Error("server sent no job") };
  try {
    return { id: job.id, code: jobExitCode(job) };
  } catch (error) {
    return { error };
  }
}
