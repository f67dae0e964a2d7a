/** One structured log record: a JSON object on one line. */
export type LogRecord = Record<string, unknown>;

/** Where log records go; the server writes one per RPC and a few per run. */
export type LogSink = (record: LogRecord) => void;

const encoder = new TextEncoder();

/**
 * A sink writing JSON lines with a timestamp to stderr, synchronously so that
 * lines from concurrent calls never interleave.
 *
 * @example
 * ```ts
 * const log = stderrLog();
 * log({ msg: "listening", address: "127.0.0.1:50051" });
 * ```
 */
export function stderrLog(): LogSink {
  return (record) => {
    const line = JSON.stringify({ time: new Date().toISOString(), ...record });
    try {
      Deno.stderr.writeSync(encoder.encode(line + "\n"));
    } catch {
      // A closed stderr must not take the server down.
    }
  };
}

/** A sink that drops everything (tests that do not look at logs). */
export const silentLog: LogSink = () => {};

/**
 * A sink passing on at most `perSecond` records a second to `sink`; the
 * records dropped are counted in the next one passed on, as `alsoRefused`
 * (it throttles the refused-connection lines a flood would write).
 *
 * @example
 * ```ts
 * const refusals = throttledLog(stderrLog(), 10);
 * refusals({ msg: "connection refused", reason: "expired" });
 * ```
 */
export function throttledLog(
  sink: LogSink,
  perSecond: number,
  now: () => number = Date.now,
): LogSink {
  let windowStart = -Infinity;
  let passed = 0;
  let dropped = 0;
  return (record) => {
    const time = now();
    if (time - windowStart >= 1000) {
      windowStart = time;
      passed = 0;
    }
    if (passed >= perSecond) {
      dropped++;
      return;
    }
    passed++;
    sink(dropped ? { ...record, alsoRefused: dropped } : record);
    dropped = 0;
  };
}
