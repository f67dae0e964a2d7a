/**
 * A mistake in how `jw` was called. The CLI prints its message as one line
 * and exits 2, the convention for usage errors.
 *
 * @example
 * ```ts
 * throw new UsageError("stop needs a job id");
 * ```
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
