import { readDuration } from "./duration.ts";
import { parseRfc3339 } from "./rfc3339.ts";
import { UsageError } from "./usage_error.ts";

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/**
 * Reads the value of `jw logs --since` or `--until` as `docker logs` does:
 * a duration back from `nowMs` (`10m`, `1h30m`, `90s`), an RFC 3339 time
 * (`2026-12-03T16:00:00Z`, local without a zone) or Unix seconds
 * (`1764777600.5`). Returns nanoseconds since the epoch, never before it: a
 * time before the first output is the same filter as the epoch. Throws a
 * {@link UsageError} naming `flag` otherwise.
 *
 * @example
 * ```ts
 * parseLogTime("10m", "--since", Date.now()); // ten minutes ago, in ns
 * ```
 */
export function parseLogTime(
  text: string,
  flag: string,
  nowMs: number,
): bigint {
  const trimmed = text.trim();
  const ns = /^\d+(\.\d+)?$/.test(trimmed)
    ? unixNs(trimmed)
    : parseRfc3339(trimmed) ?? relativeNs(trimmed, nowMs);
  if (ns === undefined) {
    throw new UsageError(
      `${flag}: not a duration or time: "${text}" (e.g. 10m, 1h30m, 2026-12-03T16:00:00Z)`,
    );
  }
  return ns < 0n ? 0n : ns;
}

/** `seconds[.fraction]` since the epoch, to the nanosecond. */
function unixNs(text: string): bigint {
  const [whole, fraction = ""] = text.split(".");
  return BigInt(whole) * NS_PER_S +
    BigInt(fraction.slice(0, 9).padEnd(9, "0"));
}

function relativeNs(text: string, nowMs: number): bigint | undefined {
  // A bare number is Unix time above, so only durations with a unit get here.
  const ms = readDuration(text);
  return ms === undefined ? undefined : BigInt(nowMs - ms) * NS_PER_MS;
}
