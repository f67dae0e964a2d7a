/**
 * Benchmark 3: 100 followers reading one job's 100 MiB of output while it is
 * written: every reader must get the same bytes (SHA-256), and this
 * process's RSS must stay within 64 MiB of where it started.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { openBenchRuntime } from "./_bench_runtime.ts";
import { drain } from "./_drain.ts";
import type { BenchContext, Section } from "./_report.ts";
import { RssSampler, settledRss } from "./_rss.ts";
import { MiB, mibPerSecond, ms } from "./_stats.ts";

/**
 * What was found and changed (runs named by the commit whose RESULTS.md holds
 * them, or side experiments); what is still open is written from this run.
 */
const FOUND = [
  "Found before (run of 8f198e8, a fresh 128 KiB buffer per read): RSS growth 156.0 MiB. Peaks of `Deno.memoryUsage()` in a separate run then: external 160–210 MiB, V8 heap only 10–16 MiB, so garbage ArrayBuffers, not live data. Every `Follower.#read` allocated a new zero-filled `Uint8Array(128 KiB)`, so 100 readers churned 10 GiB of short-lived buffers; V8 frees external memory only after it has grown about 64 MiB since the last GC, and incremental marking overshoots that while the readers keep allocating. Smaller chunks did not help (side experiment: 32 KiB gave RSS +121 MiB and 1.5× the time, 16 KiB +139 MiB and 2.5× the time, as per-chunk objects then grow the heap).",
  "Changed in 021dc52: each follower reads into one reused 128 KiB buffer and hands out an exact-size copy of what it read, so a chunk stays valid after the next read and the API did not change. This removes the zero-filling and the oversized buffers for short reads, but not the copies: 100 readers of 100 MiB still allocate 10 GiB of short-lived chunks. The runs of 2cc6343 and 8101fc0, with this change, still had RSS growth 126.0 and 125.6 MiB.",
  "Changed after 9f8c040: lib's `release(bytes)` frees a chunk at once by detaching its ArrayBuffer (a chunk owns its buffer, so this touches nothing else), and consumers done with a chunk call it: the server's Logs handler once the chunk is encoded into its HTTP/2 frame, these readers once they hashed it. A side experiment (100 loops copying 128 KiB chunks, 80 MiB each) gave +109 MiB RSS and 6.8 s without it, +22 MiB and 2.4 s with it.",
  "Changed on 2026-12-02: readers at the same place share one read and one chunk (lib/shared_reads.ts; see the output-writing section). Measured right after, this benchmark alone: all 100 readers done after 8232 ms (1215 MiB/s delivered in total; 56553 ms and 177 MiB/s in the run of 17ce054), RSS growth 37.8 MiB.",
];

const READERS = 100;
const SIZE = 100 * MiB;
const GOAL_RSS = 64 * MiB;

/** Runs the many-readers benchmark. */
export async function manyReaders(
  ctx: BenchContext,
): Promise<Omit<Section, "id" | "seconds">> {
  await using bench = await openBenchRuntime(ctx);
  const { runtime } = bench;
  // Warm up the code paths so that the baseline includes compiled code.
  const warm = await runtime.start({
    owner: "bench",
    command: "echo",
    args: ["hi"],
  });
  await Promise.all([drain(warm.output(), true), warm.done]);
  const before = await settledRss();
  const sampler = new RssSampler(10);
  const t0 = performance.now();
  const job = await runtime.start({
    owner: "bench",
    command: "head",
    args: ["-c", String(SIZE), "/dev/urandom"],
  });
  const readers = Array.from(
    { length: READERS },
    () => drain(job.output(), true),
  );
  const info = await job.done;
  const wrote = performance.now() - t0;
  const got = await Promise.all(readers);
  const elapsed = performance.now() - t0;
  const peak = sampler.stop();
  const growth = peak - before;
  const reference = await fileSha256(`${bench.dataDir}/logs/${job.id}.out`);
  const identical = got.every((r) =>
    r.sha256 === reference && r.bytes === SIZE
  );
  if (info.stdoutBytes !== SIZE) {
    throw new Error(`job wrote ${info.stdoutBytes}`);
  }
  return {
    title: "100 readers of 100 MiB",
    setup: [
      `Job: \`head -c ${SIZE} /dev/urandom\` (default limits); ${READERS} followers attached right after start() resolves, reading the combined view while it is written.`,
      "Each reader hashes incrementally (node:crypto SHA-256) and keeps no data, so its retained data is the hash state (< 1 KiB); the reference digest is of the output file on disk.",
      "RSS is `Deno.memoryUsage().rss` (VmRSS) sampled every 10 ms; the baseline is the median over 300 ms idle after a warm-up job. Growth = peak − baseline.",
    ],
    figures: [
      {
        name: `${READERS} readers sha256-identical to the file`,
        value: identical
          ? `yes (${READERS}/${READERS})`
          : `**no**: ${
            got.filter((r) => r.sha256 === reference).length
          }/${READERS} match`,
        goal: "all identical",
        met: identical,
      },
      {
        name: "server RSS growth (peak − baseline)",
        value: `${(growth / MiB).toFixed(1)} MiB (baseline ${
          (before / MiB).toFixed(0)
        } MiB, peak ${(peak / MiB).toFixed(0)} MiB)`,
        baseline: "readers retain 0 MiB of data",
        goal: "≤ 64 MiB",
        met: growth <= GOAL_RSS,
      },
      {
        name: "all readers done",
        value: `${ms(elapsed)} ms (${
          mibPerSecond(READERS * SIZE, elapsed)
        } delivered in total)`,
        baseline: `job itself wrote in ${ms(wrote)} ms`,
      },
    ],
    notes: [
      ...FOUND,
      `In this run: RSS growth ${(growth / MiB).toFixed(1)} MiB (goal ${
        growth <= GOAL_RSS ? "met" : "missed"
      }); peak external memory ${
        (sampler.peakExternal / MiB).toFixed(0)
      } MiB and peak V8 heap used ${
        (sampler.peakHeapUsed / MiB).toFixed(0)
      } MiB (\`Deno.memoryUsage()\`, sampled with RSS).`,
      ...(growth <= GOAL_RSS ? [] : [
        "Still open: the growth is short-lived buffers waiting for V8's external-memory GC (see above).",
      ]),
    ],
    plots: [],
  };
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  const buffer = new Uint8Array(1024 * 1024);
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
  }
  return hash.digest("hex");
}
