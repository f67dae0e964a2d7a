/**
 * Samples this process's resident set size (VmRSS, via
 * `Deno.memoryUsage().rss`) on a timer until stopped, with the peaks of its
 * external memory and V8 heap.
 */
export class RssSampler {
  readonly samples: number[] = [];
  /** Highest `external` (ArrayBuffers outside the V8 heap) seen. */
  peakExternal = 0;
  /** Highest V8 `heapUsed` seen. */
  peakHeapUsed = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(everyMs = 20) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): number {
    const { rss, external, heapUsed } = Deno.memoryUsage();
    this.samples.push(rss);
    this.peakExternal = Math.max(this.peakExternal, external);
    this.peakHeapUsed = Math.max(this.peakHeapUsed, heapUsed);
    return rss;
  }

  /** Stops sampling; returns the highest sample. */
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return Math.max(...this.samples);
  }
}

/** Median RSS over `ms` of idle sampling: a baseline that ignores one-off spikes. */
export async function settledRss(ms = 300): Promise<number> {
  const sampler = new RssSampler(10);
  await new Promise((resolve) => setTimeout(resolve, ms));
  sampler.stop();
  const sorted = [...sampler.samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
