/** p50/p95 and friends of a sample of numbers. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Summarises samples (any order). */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

/** The median of a few numbers. */
export function median(samples: readonly number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 50);
}

/** "6.62" with a precision suited to milliseconds. */
export function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

/** "6.62 / 9.10 ms" */
export function p50p95(s: Summary): string {
  return `${ms(s.p50)} / ${ms(s.p95)} ms`;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** "812 MiB/s" */
export function mibPerSecond(bytes: number, millis: number): string {
  return `${(bytes / MiB / (millis / 1000)).toFixed(0)} MiB/s`;
}
