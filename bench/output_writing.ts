/**
 * Benchmark 2: a job writing 1 GiB to stdout through the runtime, with 0, 1,
 * 2, 5 and 10 followers attached, against `head -c 1G /dev/zero > file` in a
 * cgroup with the same limits, interleaved in one run.
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { DirectoryWatcher } from "../lib/inotify.ts";
import { resolveLimits } from "../lib/mod.ts";
import { RECORD_BYTES } from "../lib/output_index.ts";
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
const REPS = 5;
const SWEEP = [1, 2, 5];
const GOAL = 1.1;
const MEMORY = 2 * GiB;

/**
 * What was found and changed (runs named by the commit whose RESULTS.md holds
 * them); what is still open is written from this run's figures below.
 */
const FOUND = [
  "Found before (run of 8f198e8, with Deno.watchFs, load average ~6.5): the 0-follower job took 2.73× the raw writer and the 10-follower job 4.41×. perf and --cpu-prof showed why: every `write()` of `head` (8 KiB each, ~131,000 per GiB) raises IN_MODIFY on the logs directory; Deno.watchFs's notify-rs thread drained the inotify fd as fast as it could, so the events rarely merged in the kernel queue, and for each event it called realpath/readlink, open/close and statx. In a 0-follower run 70% of the server's perf samples were on that thread while the JS thread was 95% idle, and the writer paid too (each event allocated, the reader woken). With followers, each 128 KiB read also allocated a fresh zero-filled buffer (memset ~8% of the samples with 10 followers).",
  "Changed in 021dc52: lib/inotify.ts reads one raw inotify fd (Deno.dlopen of libc: inotify_init1, inotify_add_watch, read) and waits 5 ms between reads, so consecutive IN_MODIFY events of one file merge in the kernel; it decodes file names only, with no path resolution or stat. Followers see new output up to ~5 ms later. In the same commit lib/follower.ts began reading into one reused 128 KiB buffer per follower, handing out an exact-size copy of what it read.",
  "Found in the runs of 17ce054 and 6b78f3b: with 10 followers the last one had the last byte after 24577 and 8787 ms (42 and 117 MiB/s each), and the server spent about 2.7 ms of CPU per MiB delivered (27630 ms of CPU for 10 GiB). Every follower read and copied every chunk itself, though live followers are woken together at the same offset: 10 reads, 10 copies and 10 buffers for the same bytes, on a machine with 2 cores the writer needs one of.",
  "Changed on 2026-12-02 (lib/shared_reads.ts): followers that want the bytes at the same offset of the same stream share one read and one chunk (the first asks the file, the others get its result; the last 8 reads are kept while any follower is open, and a read that found nothing or failed is not handed on). A chunk counts its holders (lib's `hold`), so a consumer's `release()` frees it only after the others are done with it. Measured right after, this benchmark alone: 10 followers 1.17× the raw writer (was 2.31× in the run just before), the last follower done after 1927 ms (531 MiB/s each), 2459 ms of server CPU for the 10 GiB.",
  "Changed in 1daf48d: the job's output is owned by the launcher. The job writes into a 1 MiB pipe, not its file; jw-init's reporter, outside the job's cgroup, splices the pipe into `<id>.out` and appends or grows a 32-byte record in `<id>.idx` per read (lib/init/output.c); the server only reads the index when the watcher reports it changed. Measured on 2026-12-03 in 8 runs of this benchmark alone (load average 1.6–3.5; other people's tests ran on the 2 cores meanwhile): the 0-follower job took a median 1.43× the raw writer (runs 0.74–3.03×), the 10-follower job 1.04× (0.58–1.37×); the raw writer itself ranged 1.06–5.9 s. Side experiments alternating only the raw writer and 0-follower jobs (6–12 pairs per series): 0.94–1.08× in five series, 1.36× in a sixth. The 0-follower job was slower than the 10-follower one in all 8 runs here (not in the side experiments, where the two alternated: not explained). Since the 5th run there are 5 repetitions (3 before), and since the 7th their order is rotated each repetition (the 0-follower job always ran right after the two watched raw writers); neither changed that.",
  "Found in the same runs: the job is one process more than the raw writer. Per GiB, head spent 0.40–0.57 s of CPU writing into the pipe (its cgroup's usage), the reporter 0.43–0.72 s, all system time (the copy into the page cache; strace -c: 4091 splices of 256 KiB on average and as many 4-byte index writes, 62% of its system-call time waiting in ppoll), and the server 0.27–0.70 s, against about 1.1 s for raw head alone; so the job keeps up with raw only when it has both cores. Most of the server's share is index refreshes: the reporter writes `<id>.out` and `<id>.idx` in turn, so their IN_MODIFY events alternate and never merge in the inotify queue; each 5 ms batch holds 7–16 `.idx` events and each is a refresh (a stat, an open, a read and a close of the index): 1,200–13,600 refreshes per GiB for 560–1,100 records. One refresh per job per batch (a side experiment that patched OutputLog.notify) cut the 0-follower server CPU from a median 359 to 238 ms, with no wall-time change that stood out of the noise. Tuning lib/init/output.c did not help: in interleaved runs of the three launchers (7 and 12 repetitions), a 4 MiB pipe (root may exceed pipe-max-size) gave 1387 and 1611 ms against 1823 and 1338 ms for the 1 MiB one, and MERGE_NS 5 ms (a third of the records) 1957 and 2284 ms; the constants were left as they are. The output's page cache is no longer charged to the job: writing 1 GiB, the job's memory cgroup peaked at 1.9 MB while the server's cgroup gained 1 GiB of dirty pages.",
];

interface JobRun {
  followers: number;
  wallMs: number;
  /** Until every follower had the last byte (0 followers: the job's end). */
  followersMs: number;
  /** CPU time of this (server) process during the run. */
  serverCpuMs: number;
  /** Size of the job's output index (lib/init/output.c writes it). */
  indexBytes: number;
}

function cpuMs(): number {
  const { user, system } = cpuUsage();
  return (user + system) / 1000;
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
  // The same raw writer, with a Deno.watchFs watch on its directory drained
  // the way lib/log_watcher.ts drained it before 021dc52 (for comparison).
  const watchedDir = `${bench.dataDir}/watched`;
  await Deno.mkdir(watchedDir);
  let events = 0;
  const runRawWatched = async () => {
    const watcher = Deno.watchFs(watchedDir, { recursive: false });
    const loop = (async () => {
      for await (const event of watcher) events += event.paths.length;
    })();
    const c0 = cpuMs();
    const wall = await raw.run(`head -c 1G /dev/zero >> ${watchedDir}/raw.out`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cpu = cpuMs() - c0;
    watcher.close();
    await loop;
    await Deno.remove(`${watchedDir}/raw.out`);
    return { wall, cpu };
  };
  // The same raw writer watched by lib's DirectoryWatcher (what
  // lib/output_watcher.ts uses since 021dc52).
  const inotifyDir = `${bench.dataDir}/inotify`;
  await Deno.mkdir(inotifyDir);
  let inotifyEvents = 0;
  const runRawInotify = async () => {
    const watcher = new DirectoryWatcher(inotifyDir, () => inotifyEvents++);
    const c0 = cpuMs();
    const wall = await raw.run(`head -c 1G /dev/zero >> ${inotifyDir}/raw.out`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cpu = cpuMs() - c0;
    await watcher.close();
    await Deno.remove(`${inotifyDir}/raw.out`);
    return { wall, cpu };
  };
  const runJob = async (followers: number): Promise<JobRun> => {
    const c0 = cpuMs();
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
    const indexBytes = (await Deno.stat(`${bench.dataDir}/logs/${job.id}.idx`))
      .size;
    await bench.dropOutput(job.id);
    if (info.exitCode !== 0 || info.stdoutBytes !== SIZE) {
      throw new Error(`job ended ${info.state} with ${info.stdoutBytes} bytes`);
    }
    for (const r of got) {
      if (r.bytes !== SIZE) throw new Error(`follower got ${r.bytes} bytes`);
    }
    const last = Math.max(t0 + wallMs, ...got.map((r) => r.end));
    return {
      followers,
      wallMs,
      followersMs: last - t0,
      serverCpuMs: cpuMs() - c0,
      indexBytes,
    };
  };

  const raws: number[] = [];
  const watched: { wall: number; cpu: number }[] = [];
  const inotified: { wall: number; cpu: number }[] = [];
  const runs: JobRun[] = [];
  const steps = [
    async () => raws.push(await runRaw()),
    async () => watched.push(await runRawWatched()),
    async () => inotified.push(await runRawInotify()),
    async () => runs.push(await runJob(0)),
    async () => runs.push(await runJob(10)),
  ];
  for (let rep = 0; rep < REPS; rep++) {
    if (performance.now() > ctx.deadline) break;
    // Rotated each repetition: no run always follows the same other one.
    for (let i = 0; i < steps.length; i++) {
      await steps[(rep + i) % steps.length]();
    }
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
  const watchedMs = median(watched.map((w) => w.wall));
  const inotifyMs = median(inotified.map((w) => w.wall));
  const cpu = (k: number) => median(of(k).map((r) => r.serverCpuMs));
  figures.push(
    {
      name:
        "raw writer watched by Deno.watchFs (the old approach, replaced in 021dc52)",
      value: `${ms(watchedMs)} ms; this process spent ${
        ms(median(watched.map((w) => w.cpu)))
      } ms CPU on ${Math.round(events / watched.length)} events per run`,
      baseline: `raw ${ms(rawMs)} ms`,
      ratio: ratio(watchedMs, rawMs),
    },
    {
      name:
        "raw writer watched by lib's DirectoryWatcher (inotify, 5 ms batches)",
      value: `${ms(inotifyMs)} ms; this process spent ${
        ms(median(inotified.map((w) => w.cpu)))
      } ms CPU on ${
        Math.round(inotifyEvents / inotified.length)
      } events per run`,
      baseline: `raw ${ms(rawMs)} ms`,
      ratio: ratio(inotifyMs, rawMs),
    },
    {
      name: "index of the 1 GiB output (median of the 0-follower runs)",
      value: `${
        (median(of(0).map((r) => r.indexBytes)) / 1024).toFixed(1)
      } KiB (${
        Math.round(median(of(0).map((r) => r.indexBytes)) / RECORD_BYTES - 1)
      } records)`,
    },
    {
      name: "server CPU, start → job end (0) / last follower done (10)",
      value: `${ms(cpu(0))} / ${ms(cpu(10))} ms`,
      baseline: `over ${ms(fol(0))} / ${ms(fol(10))} ms`,
      ratio: `${(cpu(0) / fol(0)).toFixed(2)} / ${
        (cpu(10) / fol(10)).toFixed(2)
      } cores`,
    },
  );
  const met0 = wall(0) <= GOAL * rawMs;
  const met10 = wall(10) <= GOAL * rawMs;
  // Server CPU per MiB handed to one follower, beyond the 0-follower run.
  const perMiB = (cpu(10) - cpu(0)) / (10 * SIZE / 2 ** 20) * 1000;
  const now = [
    `In this run the watchers alone, on the raw writer (${
      ms(rawMs)
    } ms unwatched): Deno.watchFs ${ms(watchedMs)} ms (${
      ratio(watchedMs, rawMs)
    }) with ${
      Math.round(events / Math.max(1, watched.length))
    } events per run, lib's DirectoryWatcher ${ms(inotifyMs)} ms (${
      ratio(inotifyMs, rawMs)
    }) with ${
      Math.round(inotifyEvents / Math.max(1, inotified.length))
    }. The 0-follower job took ${ratio(wall(0), rawMs)} the raw writer (goal ${
      met0 ? "met" : "missed"
    }), the 10-follower job ${ratio(wall(10), rawMs)} (goal ${
      met10 ? "met" : "missed"
    }).`,
    ...(met0 ? [] : [
      `Still open: the writer's path (0 followers). The job needs three processes' CPU where the raw writer needs one (head into the pipe, the reporter's splice into the page cache, and the server's index refreshes: ${
        ms(cpu(0))
      } ms of server CPU in this run), so on ${navigator.hardwareConcurrency} cores it keeps up with raw only when nothing else runs; see the notes on 1daf48d above.`,
    ]),
    `${
      met10 || !met0 && wall(10) <= wall(0) * GOAL
        ? "Followers' cost"
        : "Still open: the cost of followers"
    }. With 10 followers the server process used ${
      ms(cpu(10))
    } ms of CPU from start until the last follower was done (${
      ms(fol(10))
    } ms, ${
      (cpu(10) / fol(10)).toFixed(2)
    } of ${navigator.hardwareConcurrency} cores), against ${
      ms(cpu(0))
    } ms with none: about ${
      perMiB.toFixed(0)
    } µs of server CPU per MiB delivered to a follower. Each batch of events wakes every follower (OutputLog wakes all waiters); followers at the same offset share one read and one chunk, and each hands it over through its own ReadableStream; on ${navigator.hardwareConcurrency} cores the followers compete with the writer for CPU.${
      met0 ? " The writer's own path (0 followers) is within the goal." : ""
    }`,
  ];
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
      }. The job writes into a 1 MiB pipe; jw-init's reporter, outside the job's cgroup, splices it into the output file (since 1daf48d), so the output's page cache is charged to the server's cgroup, not the job's. memoryBytes is raised from the 512 MiB default to 2 GiB for the raw writer, whose page cache is charged to its own cgroup (with 512 MiB it is throttled by reclaim/writeback).`,
      `Raw: \`sh -c 'echo $$ > <cgroup.procs>; exec head -c 1G /dev/zero > file'\` in a throwaway cgroup with the same limits, on the same filesystem; timed spawn → exit. Output files are deleted after each run.`,
      `Followers read the combined view (\`job.output()\`), count bytes and keep nothing; attached right after start() resolves. Wall time is start() call → \`job.done\`. ${REPS} interleaved repetitions of raw, raw watched by Deno.watchFs, raw watched by lib's DirectoryWatcher (this process's CPU counted for both), 0 and 10 followers, in an order rotated by one each repetition, then 1 run each with ${
        SWEEP.join(", ")
      } followers for the plot.`,
    ],
    figures,
    notes: [
      ...FOUND,
      ...now,
      `Per run (ms): raw ${raws.map(ms).join(", ")}; raw+watchFs ${
        watched.map((w) => ms(w.wall)).join(", ")
      }; ${
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
