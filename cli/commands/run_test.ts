import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { JobSchema, JobState } from "../../gen/jobworker/v1/jobworker_pb.ts";
import { CliError } from "../cli_error.ts";
import { jobExitCode } from "./run.ts";

Deno.test("jw run exits with the job's code, or 128+signal", () => {
  assert.equal(
    jobExitCode(create(JobSchema, { state: JobState.EXITED, exitCode: 3 })),
    3,
  );
  assert.equal(
    jobExitCode(create(JobSchema, { state: JobState.EXITED, exitCode: 0 })),
    0,
  );
  assert.equal(
    jobExitCode(create(JobSchema, { state: JobState.SIGNALED, signal: 9 })),
    137,
  );
  assert.equal(
    jobExitCode(create(JobSchema, { state: JobState.STOPPED, signal: 15 })),
    143,
  );
  assert.equal(
    jobExitCode(create(JobSchema, { state: JobState.STOPPED, exitCode: 143 })),
    143,
    "a job that exited on its own after SIGTERM",
  );
  assert.throws(
    () =>
      jobExitCode(
        create(JobSchema, {
          id: "x",
          state: JobState.FAILED_TO_START,
          error: "nope",
        }),
      ),
    CliError,
  );
});
