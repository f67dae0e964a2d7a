/**
 * RFC 3339 times to the nanosecond, which `Date` (milliseconds) cannot
 * hold: read for `jw logs --since/--until`, written by `jw logs -t`. Times
 * are nanoseconds since the Unix epoch, as bigints.
 *
 * @module
 */

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

// Date, then optionally time (seconds and fraction optional), then optionally
// a zone; without one the time is local, as docker reads it. RFC 3339 allows
// a lower-case t and z and, for readability, a space between date and time.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?([Zz]|[+-]\d{2}:\d{2})?$/;

/**
 * Reads `text` as an RFC 3339 time, e.g. `2026-12-03T16:00:00Z`,
 * `2026-12-03T17:00:00.5+01:00`, `2026-12-03T16:00` (local) or
 * `2026-12-03` (local midnight). Returns nanoseconds since the epoch, or
 * undefined when `text` is not such a time (including 30 February).
 *
 * @example
 * ```ts
 * parseRfc3339("1970-01-01T00:00:01.000000002Z"); // 1000000002n
 * ```
 */
export function parseRfc3339(text: string): bigint | undefined {
  const match = RFC3339.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = match
    .slice(1, 7).map((part) => part === undefined ? undefined : Number(part));
  const fraction = (match[7] ?? "").slice(0, 9).padEnd(9, "0");
  const zone = match[8];
  if (!isDate(year!, month!, day!) || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  let ms: number;
  if (zone === undefined) {
    ms = new Date(year!, month! - 1, day!, hour, minute, second).getTime();
  } else {
    ms = Date.UTC(year!, month! - 1, day!, hour, minute, second) -
      zoneOffsetMs(zone);
  }
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * NS_PER_MS + BigInt(fraction);
}

/**
 * Writes `ns` (since the epoch) as RFC 3339 in UTC with all nine fraction
 * digits, so that every stamp has the same width, as `docker logs -t` does.
 *
 * @example
 * ```ts
 * formatRfc3339Nano(1_000_000_002n); // "1970-01-01T00:00:01.000000002Z"
 * ```
 */
export function formatRfc3339Nano(ns: bigint): string {
  const seconds = ns / NS_PER_S;
  const nanos = ns % NS_PER_S;
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${whole}.${String(nanos).padStart(9, "0")}Z`;
}

function isDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function zoneOffsetMs(zone: string): number {
  if (zone === "Z" || zone === "z") return 0;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 23 || minutes > 59) return NaN;
  const sign = zone[0] === "-" ? -1 : 1;
  return sign * (hours * 60 + minutes) * 60_000;
}
