/**
 * The one error type of the job runtime. Each failure carries a {@link Code}
 * chosen where the failure is understood; servers and CLIs map the code to
 * their own wire status in exactly one place.
 *
 * @example
 * ```ts
 * throw new JobError("not_found", "job 4d5c9fa91db4");
 * ```
 */
export type Code =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "permission_denied"
  | "failed_precondition"
  | "failed_to_start"
  | "resource_exhausted"
  | "unavailable"
  | "internal";

/** Human words for each code, used as the prefix of rendered messages. */
export const CODE_WORDS: Readonly<Record<Code, string>> = {
  invalid_argument: "invalid argument",
  not_found: "not found",
  already_exists: "already exists",
  permission_denied: "permission denied",
  failed_precondition: "failed precondition",
  failed_to_start: "failed to start",
  resource_exhausted: "resource exhausted",
  unavailable: "unavailable",
  internal: "internal error",
};

/** A failure with a code; `message` is short and human ("job 4d5c9fa91db4"). */
export class JobError extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JobError";
    this.code = code;
  }

  /** `"not found: job 4d5c9fa91db4"` */
  override toString(): string {
    return `${CODE_WORDS[this.code]}: ${this.message}`;
  }
}

/** Wraps anything thrown into a JobError, keeping JobErrors as they are. */
export function asJobError(err: unknown): JobError {
  if (err instanceof JobError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new JobError("internal", message, { cause: err });
}
