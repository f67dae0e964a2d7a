/**
 * Where `jw` writes: the process's stdout and stderr as byte sinks that take
 * everything they are given (Deno's `write` may take only part), plus whether
 * stdout is a terminal.
 *
 * @module
 */

/** The CLI's two output streams. */
export interface Output {
  /** Writes all of `data` to stdout. */
  out(data: Uint8Array | string): Promise<void>;
  /** Writes all of `data` to stderr. */
  err(data: Uint8Array | string): Promise<void>;
  /** Whether stdout is a terminal: colour and human durations. */
  readonly tty: boolean;
}

/** A writer that has something like `Deno.stdout.write`. */
interface Sink {
  write(data: Uint8Array): Promise<number>;
}

const encoder = new TextEncoder();

/**
 * Writes every byte of `data`, looping over partial writes.
 *
 * @example
 * ```ts
 * await writeAll(Deno.stdout, "hello\n");
 * ```
 */
export async function writeAll(
  sink: Sink,
  data: Uint8Array | string,
): Promise<void> {
  let bytes = typeof data === "string" ? encoder.encode(data) : data;
  while (bytes.length > 0) bytes = bytes.subarray(await sink.write(bytes));
}

/** The process's own stdout and stderr. */
export function processOutput(): Output {
  return {
    out: (data) => writeAll(Deno.stdout, data),
    err: (data) => writeAll(Deno.stderr, data),
    tty: Deno.stdout.isTerminal(),
  };
}
