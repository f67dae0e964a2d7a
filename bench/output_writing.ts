/**
 * Benchmark 2: a job writing 1 GiB to stdout through the runtime, with 0, 1,
 * 2, 5 and 10 followers attached, against `head -c 1G /dev/zero > file` in a
 * cgroup with the same limits, interleaved in one run.
 *
 * @module
 */
import { resolveLimits } from "../lib/mod.ts";
import { openBenchRuntime } from "./_bench_runtime.ts";
import { drain } from "./_drain.ts";
import {
  type BenchContext,
  type Figure,
  ratio,
  type Section,
} from "./_report.ts";
import { GiB, median, mibPerSecond, ms } from "./_stats.ts";
import { lineChart } from "./_svg.ts";

const SIZE = GiB;
const REPS = 3;
const SWEEP = [1, 2, 5];
const GOAL = 1.5;
const MEMORY = 2 * GiB;

interface JobRun {
  followers: number;
  wallMs: number;
  /** Until every follower had the last byte (0 followers: the job's end). */
  followersMs: number;
}

/** Runs the output-writing benchmark. */
export async function outputWriting(
  ctx: BenchContext,
): Promise<Omit<Section, "id" | "seconds">> {
  await using bench = await openBenchRuntime(ctx);
  const { runtime } = bench;
  const limits = resolveLimits(await runtime.policy(), { memoryBytes: MEMORY });
  const raw = await bench.rawCgroup(limits);
  const rawFile = `${bench.dataDir}/raw.out`;

  const runRaw = async () => {
    const wall = await raw.run(`head -c 1G /dev/zero > ${rawFile}`);
    const size = (await Deno.stat(rawFile)).size;
    await Deno.remove(rawFile);
    if (size !== SIZE) throw new Error(`raw wrote ${size} bytes`);
    return wall;
  };
  const runJob = async (followers: number): Promise<JobRun> => {
    const t0 = performance.now();
    const job = await runtime.start({
      owner: "bench",
      command: "head",
      args: ["-c", "1G", "/dev/zero"],
      limits: { memoryBytes: MEMORY },
    }, { customLimits: true });
    const readers = Array.from(
      { length: followers },
      () => drain(job.output()),
    );
    const info = await job.done;
    const wallMs = performance.now() - t0;
    const got = await Promise.all(readers);
    await bench.dropOutput(job.id);
    if (info.exitCode !== 0 || info.stdoutBytes !== SIZE) {
      throw new Error(`job ended ${info.state} with ${info.stdoutBytes} bytes`);
    }
    for (const r of got) {
      if (r.bytes !== SIZE) throw new Error(`follower got ${r.bytes} bytes`);
    }
    const last = Math.max(t0 + wallMs, ...got.map((r) => r.end));
    return { followers, wallMs, followersMs: last - t0 };
  };

  const raws: number[] = [];
  const runs: JobRun[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    if (performance.now() > ctx.deadline) break;
    raws.push(await runRaw());
    runs.push(await runJob(0));
    runs.push(await runJob(10));
  }
  for (const k of SWEEP) {
    if (performance.now() > ctx.deadline) break;
    runs.push(await runJob(k));
  }
  const rawMs = median(raws);
  const of = (k: number) => runs.filter((r) => r.followers === k);
  const wall = (k: number) => median(of(k).map((r) => r.wallMs));
  const fol = (k: number) => median(of(k).map((r) => r.followersMs));
  const figures: Figure[] = [0, 10].map((k) => ({
    name: `1 GiB job wall time, ${k} followers (median of ${of(k).length})`,
    value: `${ms(wall(k))} ms (${mibPerSecond(SIZE, wall(k))})`,
    baseline: `raw head > file ${ms(rawMs)} ms (${
      mibPerSecond(SIZE, rawMs)
    }, median of ${raws.length})`,
    ratio: ratio(wall(k), rawMs),
    goal: `≤ ${GOAL}× raw`,
    met: wall(k) <= GOAL * rawMs,
  }));
  figures.push({
    name: "10 followers: start → all have the last byte",
    value: `${ms(fol(10))} ms (${
      mibPerSecond(10 * SIZE, fol(10))
    } delivered in total, ${mibPerSecond(SIZE, fol(10))} each)`,
    baseline: `raw writer ${ms(rawMs)} ms`,
    ratio: ratio(fol(10), rawMs),
  });
  const ks = [0, ...SWEEP, 10].filter((k) => of(k).length > 0);
  const plot = lineChart(
    "Throughput vs followers (1 GiB job)",
    "followers",
    "MiB/s",
    [
      {
        label: "writer (job start → exit)",
        points: ks.map((k) => [k, SIZE / 2 ** 20 / (wall(k) / 1000)]),
      },
      {
        label: "each follower (start → last byte)",
        points: ks.filter((k) => k > 0).map((
          k,
        ) => [k, SIZE / 2 ** 20 / (fol(k) / 1000)]),
      },
      {
        label: "raw head > file",
        points: [[0, SIZE / 2 ** 20 / (rawMs / 1000)], [
          10,
          SIZE / 2 ** 20 / (rawMs / 1000),
        ]],
      },
    ],
    { markers: true },
  );
  return {
    title: "Output writing (1 GiB)",
    setup: [
      `Job: \`head -c 1G /dev/zero\` through runtime.start() as an admin with limits ${
        JSON.stringify(limits)
      }. memoryBytes is raised from the 512 MiB default to 2 GiB because dirty page cache is charged to the job's memory cgroup: with 512 MiB the writer is throttled by reclaim/writeback, not by us.`,
      `Raw: \`sh -c 'echo $$ > <cgroup.procs>; exec head -c 1G /dev/zero > file'\` in a throwaway cgroup with the same limits, on the same filesystem; timed spawn → exit. Output files are deleted after each run.`,
      `Followers read the combined view (\`job.output()\`), count bytes and keep nothing; attached right after start() resolves. Wall time is start() call → \`job.done\`. ${REPS} interleaved repetitions of raw / 0 / 10 followers, then 1 run each with ${
        SWEEP.join(", ")
      } followers for the plot.`,
    ],
    figures,
    notes: [
      `Per run (ms): raw ${raws.map(ms).join(", ")}; ${
        runs.map((r) => `${r.followers}f ${ms(r.wallMs)}/${ms(r.followersMs)}`)
          .join(", ")
      } (wall/followers-done).`,
    ],
    plots: [{
      file: "followers_throughput.svg",
      caption: "Writer and per-follower throughput vs number of followers",
      svg: plot,
    }],
  };
}
