import { UsageError } from "./usage_error.ts";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration such as `10s`, `500ms`, `1m30s`, `7d` or `2` (seconds) into
 * milliseconds. Throws a {@link UsageError} naming the flag otherwise.
 *
 * @example
 * ```ts
 * parseDuration("1m30s", "--grace"); // 90000
 * ```
 */
export function parseDuration(text: string, flag: string): number {
  const ms = readDuration(text);
  if (ms === undefined) {
    throw new UsageError(
      `${flag}: not a duration: "${text}" (e.g. 10s, 500ms, 1m30s)`,
    );
  }
  return ms;
}

/**
 * The milliseconds of a duration as {@link parseDuration} reads it, or
 * undefined when `text` is not one: for flags that take a duration or
 * something else.
 *
 * @example
 * ```ts
 * readDuration("1h30m"); // 5400000
 * readDuration("soon"); // undefined
 * ```
 */
export function readDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let end = 0;
  for (let match; (match = part.exec(trimmed)) !== null; end = part.lastIndex) {
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  if (end === 0 || end !== trimmed.length) return undefined;
  return Math.round(total);
}

/**
 * Formats a span for people: `42s`, `5m`, `3h12m`, `2d4h`. Two units at most,
 * since an age column only needs to be roughly right.
 *
 * @example
 * ```ts
 * formatDuration(90_000); // "1m30s"
 * ```
 */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const parts: [number, string][] = [
    [Math.floor(s / 86400), "d"],
    [Math.floor(s / 3600) % 24, "h"],
    [Math.floor(s / 60) % 60, "m"],
    [s % 60, "s"],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return "0s";
  return parts.slice(first, first + 2).filter(([n]) => n > 0).map(([n, unit]) =>
    `${n}${unit}`
  )
    .join("");
}
