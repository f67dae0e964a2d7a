/** One measured figure, set against its baseline from the same run. */
export interface Figure {
  name: string;
  /** The figure as shown ("6.9 / 9.1 ms", "812 MiB/s"). */
  value: string;
  /** What it is compared with, measured in the same run. */
  baseline?: string;
  /** value ÷ baseline as shown ("1.08× / 1.21×"). */
  ratio?: string;
  goal?: string;
  /** Whether the goal was met; undefined when there is no goal. */
  met?: boolean;
}

/** An SVG plot a benchmark drew. */
export interface Plot {
  file: string;
  svg: string;
  caption: string;
}

/** What one benchmark hands back to bench/main.ts. */
export interface Section {
  id: string;
  title: string;
  /** How it was measured (sizes, limits, repetitions). */
  setup: string[];
  figures: Figure[];
  /** Findings: causes of misses, costs that are not ours, skipped parts. */
  notes: string[];
  plots: Plot[];
  seconds: number;
}

/** What every benchmark module exports. */
export type Benchmark = (
  ctx: BenchContext,
) => Promise<Omit<Section, "id" | "seconds">>;

/** Handed to each benchmark: where to work and by when to stop. */
export interface BenchContext {
  /** A fresh temporary directory on /var/tmp (removed afterwards). */
  tmp: string;
  /** Unique cgroup name for this benchmark (`jwbench-<random>`). */
  cgroupName: string;
  /** performance.now() by which the benchmark should wrap up. */
  deadline: number;
}

/** "1.08×" */
export function ratio(value: number, baseline: number): string {
  return `${(value / baseline).toFixed(2)}×`;
}
