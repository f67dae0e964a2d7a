/**
 * An expected failure on the client side (a certificate file that cannot be
 * read, a job that failed to start). The CLI prints its message as one line
 * and exits with `exitCode`, never with a stack trace.
 *
 * @example
 * ```ts
 * throw new CliError("cannot read --cert /nope: no such file");
 * ```
 */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}
