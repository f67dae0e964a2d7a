import { JobError } from "./errors.ts";
import type { JobId } from "./job_info.ts";

const JOB_ID = /^[0-9a-f]{12}$/;

/**
 * A fresh job id: 12 lowercase hex characters from the system's CSPRNG, so ids
 * are neither sequential nor guessable.
 *
 * @example
 * ```ts
 * newJobId(); // "4d5c9fa91db4"
 * ```
 */
export function newJobId(): JobId {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether `text` has the shape of a job id. */
export function isJobId(text: string): boolean {
  return JOB_ID.test(text);
}

/** Returns `text` if it is a well-formed job id, else throws `invalid_argument`. */
export function parseJobId(text: string): JobId {
  if (!isJobId(text)) {
    throw new JobError(
      "invalid_argument",
      `malformed job id "${text.slice(0, 40)}" (want 12 hex characters)`,
    );
  }
  return text;
}
