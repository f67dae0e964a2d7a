/**
 * Job references, as Docker takes container references: a job's id, its
 * name, or a unique prefix of its id. Resolved among the jobs a caller may
 * see, so that counts and matches never reveal other users' jobs.
 *
 * @module
 */
import { JobError } from "./errors.ts";
import { isJobId } from "./job_id.ts";
import { JOB_NAME } from "./spec.ts";

/** Shortest id prefix taken as a reference (`jw logs 4d5c`). */
export const MIN_PREFIX = 4;

/** What a reference is matched against. */
export interface Referable {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
}

/**
 * The one job of `jobs` that `ref` names: an exact id first, then an exact
 * name, then a unique id prefix of at least {@link MIN_PREFIX} characters.
 * Throws `not_found` when none fits and `invalid_argument` when several do
 * or `ref` can be none of the three.
 *
 * @example
 * ```ts
 * resolveJob(runtime.list("alice"), "4d5c"); // the job 4d5c9fa91db4
 * resolveJob(runtime.list("alice"), "build"); // alice's job named build
 * ```
 */
export function resolveJob<T extends Referable>(
  jobs: Iterable<T>,
  ref: string,
): T {
  if (ref === "") throw new JobError("invalid_argument", "missing job id");
  const shown = printable(ref);
  const hexPrefix = /^[0-9a-f]+$/.test(ref) && ref.length < 12;
  if (!isJobId(ref) && !JOB_NAME.test(ref)) {
    throw new JobError(
      "invalid_argument",
      `malformed job id "${shown}" (want an id, a prefix of one or a job's name)`,
    );
  }
  const named: T[] = [];
  const prefixed: T[] = [];
  for (const job of jobs) {
    if (job.id === ref) return job;
    if (job.name === ref) named.push(job);
    else if (hexPrefix && job.id.startsWith(ref)) prefixed.push(job);
  }
  if (named.length === 1) return named[0];
  if (named.length > 1) {
    const owners = [...new Set(named.map((job) => job.owner))].sort();
    throw new JobError(
      "invalid_argument",
      `name ${shown} matches ${named.length} jobs (of ${
        owners.join(", ")
      }); use an id`,
    );
  }
  if (hexPrefix && ref.length < MIN_PREFIX) {
    throw new JobError(
      "invalid_argument",
      `prefix ${shown} is too short (at least ${MIN_PREFIX} characters)`,
    );
  }
  if (prefixed.length === 1) return prefixed[0];
  if (prefixed.length > 1) {
    throw new JobError(
      "invalid_argument",
      `prefix ${shown} matches ${prefixed.length} jobs`,
    );
  }
  throw new JobError("not_found", `job ${shown}`);
}

/** `text` cut short and with control characters as `?`, for an error message. */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  const plain = text.replace(/[\x00-\x1f\x7f]/g, "?");
  return plain.length > 64 ? `${plain.slice(0, 64)}…` : plain;
}
