/**
 * Benchmark 4c: 500 concurrent `sleep` jobs on the server: its RSS, List
 * latency, and what each running job costs the server process (RSS and
 * CPU).
 *
 * @module
 */
import { type BenchContext, ratio, type Section } from "./_report.ts";
import { spawnServer } from "./_server_child.ts";
import { MiB, ms, p50p95, summarize } from "./_stats.ts";

/** What was found and changed (runs named by the commit whose RESULTS.md holds them). */
const FOUND = [
  "Found in the run of 2cc6343: List of 501 jobs took 24.86 ms p50 (List of 1 job 6.65 ms). In-process, with 500 sleeping jobs, `runtime.list().map((j) => j.info())` took 7.6 ms p50: `Job.info()` called `OutputLog.sizes()`, which made two `Deno.statSync` calls per job, 1,000 stat calls per List (1,000 bare statSync calls took 8–18 ms under that load).",
  "Changed in 51a2982: `OutputLog.sizes()` reads the sizes from disk only when the log changed since it last read them (a generation count the watcher bumps), so a List of idle jobs makes no stat calls.",
  "Found in the run of 17ce054: 500 running jobs took the server from 91 to 221 MiB, 251 KiB per job. Per job the server reads its launcher's stdout (the reports) and stderr (diagnostics), each with a read pending for the job's whole life, and Deno's default stream reader gives each pending read a 64 KiB buffer. 500 bare `sleep` children with both pipes read that way cost 164 KiB of RSS each; with both pipes only spawned, 23 KiB; read through one 256-byte buffer (a BYOB reader), 45 KiB.",
  "Changed in 4f86fad: lib/launcher.ts reads both pipes through one 256-byte buffer each. Measured with this benchmark alone right after (a VM test run sharing the machine): 177 MiB with 500 jobs, 152 KiB per job.",
];

const JOBS = 500;
const PARALLEL = 8;
const LISTS = 30;
const IDLE_MS = 5_000;
const GOAL_RSS = 200 * MiB;
const GOAL_LIST_MS = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the many-jobs benchmark. */
export async function manyJobs(
  ctx: BenchContext,
): Promise<Omit<Section, "id" | "seconds">> {
  await using server = await spawnServer("jobworker", ctx.tmp, {
    cgroup: ctx.cgroupName,
  });
  const admin = await server.client("admin");
  const list = async () => {
    const t0 = performance.now();
    // One page holds them all (the most a page may hold is 1000).
    const { jobs } = await admin.call("list", { pageSize: 1000 });
    return { ms: performance.now() - t0, count: jobs.length };
  };
  // Warm up: one job and a few calls.
  const warm = await admin.call("start", { command: "true" });
  for (let i = 0; i < 5; i++) await list();
  await admin.call("status", { jobId: warm.job!.id });
  await sleep(500);
  const rss0 = server.rss();
  const listEmpty = summarize(
    await Array.fromAsync({ length: LISTS }, async () => (await list()).ms),
  );
  const cpuIdle0 = server.cpuMs();
  await sleep(IDLE_MS);
  const idleCpu = server.cpuMs() - cpuIdle0;

  const starts: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < JOBS && performance.now() < ctx.deadline - 40_000) {
        next++;
        const s0 = performance.now();
        await admin.call("start", { command: "sleep", args: ["600"] });
        starts.push(performance.now() - s0);
      }
    }),
  );
  const startAll = performance.now() - t0;
  const running = starts.length;
  await sleep(1_000);
  const rss1 = server.rss();
  const launchers = childrenRss(server.pid);
  const cpu0 = server.cpuMs();
  await sleep(IDLE_MS);
  const busyCpu = server.cpuMs() - cpu0;
  const lists: number[] = [];
  let listed = 0;
  for (let i = 0; i < LISTS; i++) {
    const l = await list();
    lists.push(l.ms);
    listed = l.count;
  }
  const rssPeak = Math.max(rss1, server.rss());
  const l = summarize(lists);
  const s = summarize(starts);
  const perJobRss = (rss1 - rss0) / running;
  const perJobCpu = (busyCpu - idleCpu) / running / (IDLE_MS / 1000);
  const exit = await server.close();
  const exits = exit ? [exit] : [];
  return {
    title: `${JOBS} concurrent sleep jobs`,
    setup: [
      `Server process as in the gRPC output benchmark; the admin starts ${JOBS} \`sleep 600\` jobs over one channel, ${PARALLEL} Start calls in flight. List (admin, all jobs) called ${LISTS} times one after another, before and with the jobs running. Server RSS is VmRSS of the server process; CPU from /proc/PID/stat over ${
        IDLE_MS / 1000
      } s without calls, idle vs with the jobs running. The jobs are stopped by the server's shutdown (SIGTERM, 2 s grace).`,
    ],
    figures: [
      {
        name: `server RSS with ${running} running jobs`,
        value: `${(rssPeak / MiB).toFixed(0)} MiB`,
        baseline: `${(rss0 / MiB).toFixed(0)} MiB with no jobs`,
        ratio: ratio(rssPeak, rss0),
        goal: "≤ 200 MiB",
        met: rssPeak <= GOAL_RSS && running === JOBS,
      },
      {
        name: `List of ${listed} jobs p50 / p95`,
        value: p50p95(l),
        baseline: `List of 1 job ${p50p95(listEmpty)}`,
        ratio: `${ratio(l.p50, listEmpty.p50)} / ${
          ratio(l.p95, listEmpty.p95)
        }`,
        goal: `p50 ≤ ${GOAL_LIST_MS} ms`,
        met: l.p50 <= GOAL_LIST_MS,
      },
      {
        name: "server cost per running job",
        value: `${(perJobRss / 1024).toFixed(0)} KiB RSS; CPU ${
          perJobCpu > 0
            ? `${(perJobCpu * 1000).toFixed(1)} µs per second`
            : `below what /proc shows (< ${
              (10_000 / running / (IDLE_MS / 1000)).toFixed(0)
            } µs per second)`
        }`,
        baseline: `server CPU over ${IDLE_MS / 1000} s without calls: ${
          ms(busyCpu)
        } ms with the jobs, ${ms(idleCpu)} ms idle`,
      },
      {
        name:
          "launcher processes (jw-init, one per job, children of the server)",
        value: `${launchers.count} processes, ${
          (launchers.bytes / MiB).toFixed(0)
        } MiB VmRSS in all (${
          (launchers.bytes / Math.max(1, launchers.count) / 1024).toFixed(0)
        } KiB each; shared pages counted in each)`,
      },
      {
        name: `Start over gRPC with up to ${running} jobs running p50 / p95`,
        value: `${p50p95(s)} (${running} in ${ms(startAll)} ms, ${
          (running / (startAll / 1000)).toFixed(0)
        } jobs/s with ${PARALLEL} in flight)`,
      },
    ],
    notes: [
      ...exits,
      ...FOUND,
      `In this run: List of ${listed} jobs ${ms(l.p50)} ms p50, ${
        ratio(l.p50, listEmpty.p50)
      } List of 1 job (goal p50 ≤ ${GOAL_LIST_MS} ms ${
        l.p50 <= GOAL_LIST_MS ? "met" : "missed"
      }).${
        l.p50 > GOAL_LIST_MS
          ? " Still open: the rest of a List is `jobToProto` and protobuf serialisation of every job, then grpc-js over TLS (compare List of 1 job); this run does not break it down further."
          : ""
      }`,
      `${
        rssPeak > GOAL_RSS ? "Still open, server RSS: " : "Server RSS: "
      }${running} jobs added ${((rss1 - rss0) / MiB).toFixed(0)} MiB to the ${
        (rss0 / MiB).toFixed(0)
      } MiB of the idle server (Deno, grpc-js, TLS, V8 heap), ${
        (perJobRss / 1024).toFixed(0)
      } KiB per job. Per job, the server holds a \`Deno.ChildProcess\` for its launcher (jw-init) with its stdout/stderr pipes and a small reader on each, plus the Job, OutputLog and cgroup objects; each launcher is also a process of its own (see the table).`,
    ],
    plots: [],
  };
}

/** Count and summed VmRSS of the live children of process `pid`. */
function childrenRss(pid: number): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const status = Deno.readTextFileSync(`/proc/${entry.name}/status`);
      if (Number(/PPid:\s+(\d+)/.exec(status)?.[1]) !== pid) continue;
      const rss = /VmRSS:\s+(\d+)/.exec(status);
      if (!rss) continue;
      count++;
      bytes += Number(rss[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return { count, bytes };
}
