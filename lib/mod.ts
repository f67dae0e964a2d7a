/**
 * The job runtime: isolated, limited jobs with on-disk output that any
 * number of readers can follow. Knows nothing of gRPC or TLS.
 *
 * @module
 */
export {
  JobRuntime,
  type RuntimeOptions,
  type StartOptions,
} from "./runtime.ts";
export { DEFAULT_GRACE_MS, Job, MAX_GRACE_MS } from "./job.ts";
export { asJobError, type Code, CODE_WORDS, JobError } from "./errors.ts";
export {
  formatSize,
  type Limits,
  parseSize,
  type Usage,
  validateLimits,
} from "./limits.ts";
export {
  builtinPolicy,
  loadPolicy,
  type Policy,
  resolveLimits,
  type SeccompChanges,
} from "./policy.ts";
export { isJobId, parseJobId } from "./job_id.ts";
export {
  DEFAULT_JOB_UIDS,
  JobUids,
  parseUidRange,
  type UidRange,
} from "./job_uids.ts";
export { DEFAULT_VIEW_PATHS, WORK_DIR } from "./job_view.ts";
export { release } from "./release.ts";
export { parseSignal } from "./signals.ts";
export type { Retention } from "./retention.ts";
export type {
  JobId,
  JobInfo,
  JobSpec,
  JobState,
  OutputChunk,
  OutputOptions,
  StreamName,
} from "./job_info.ts";
