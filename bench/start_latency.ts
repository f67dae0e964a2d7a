/**
 * Benchmark 1: how long `JobRuntime.start()` takes until the command runs,
 * against the raw wrapper chain jw-init replaces (sh joins a cgroup, then
 * unshare + setpriv + true), and against the same chain with the sandbox
 * built by bubblewrap (own root, binds, /proc, /dev, tmpfs, pivot_root),
 * interleaved in one run.
 *
 * @module
 */
import { resolveLimits } from "../lib/mod.ts";
import { openBenchRuntime } from "./_bench_runtime.ts";
import { bwrapChain, RAW_CHAIN } from "./_raw_cgroup.ts";
import { type BenchContext, ratio, type Section } from "./_report.ts";
import { p50p95, summarize } from "./_stats.ts";
import { latencyPlot } from "./_svg.ts";

const WARMUP = 10;
const ROUNDS = 200;
const GOAL = 1.3;

/** Runs the start-latency benchmark. */
export async function startLatency(
  ctx: BenchContext,
): Promise<Omit<Section, "id" | "seconds">> {
  await using bench = await openBenchRuntime(ctx);
  const { runtime } = bench;
  const limits = resolveLimits(await runtime.policy(), undefined);
  const raw = await bench.rawCgroup(limits);
  const bwrap = bwrapChain();
  const sandboxed: number[] = [];
  const chain: number[] = [];
  const running: number[] = [];
  const exited: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    if (performance.now() > ctx.deadline) break;
    const rawMs = await raw.run(`${RAW_CHAIN} true`);
    const bwrapMs = bwrap ? await raw.run(`${bwrap} true`) : NaN;
    const t0 = performance.now();
    const job = await runtime.start({ owner: "bench", command: "true" });
    const t1 = performance.now();
    const info = await job.done;
    const t2 = performance.now();
    if (info.exitCode !== 0) throw new Error(`true ended ${info.state}`);
    await bench.dropOutput(job.id);
    if (i < WARMUP) continue;
    chain.push(rawMs);
    if (bwrap) sandboxed.push(bwrapMs);
    running.push(t1 - t0);
    exited.push(t2 - t0);
  }
  const c = summarize(chain);
  const b = sandboxed.length ? summarize(sandboxed) : undefined;
  const r = summarize(running);
  const e = summarize(exited);
  // The goal is against the baseline that does the same work: since jobs
  // got their own root, that is the sandboxed chain (the raw chain is still
  // reported, for the cost of the sandbox itself).
  const goalBase = b ?? c;
  const met = r.p50 <= GOAL * goalBase.p50 && r.p95 <= GOAL * goalBase.p95;
  return {
    title: "Start latency",
    setup: [
      `${r.n} rounds after ${WARMUP} warm-up rounds, raw chain and runtime interleaved.`,
      `Runtime: \`runtime.start({command: "true"})\` with the default policy limits (${
        JSON.stringify(limits)
      }); "running" is when start() resolves (jw-init reported \`started\`), "exit" when \`job.done\` resolves (includes reading cgroup stats and removing the cgroup).`,
      `Raw chain: \`sh -c 'echo $$ > <cgroup.procs of each hierarchy>; exec ${RAW_CHAIN} true'\` spawned by Deno.Command into a throwaway cgroup with the same limits, timed spawn to exit.`,
      `Sandboxed chain: the same with the job's sandbox built by bubblewrap (\`${
        bwrap ?? "bwrap not installed: apt-get install bubblewrap"
      } true\`): its own root with the same read-only system paths, /proc, /dev, private /tmp, /var/tmp and /dev/shm, a working directory, pivot_root; no seccomp filter (jw-init loads one, a few dozen rules).`,
      "jw-init does what the sandboxed chain does, plus a seccomp filter (a program compiled once per policy, loaded at each start) and an init that stays as PID 1 and forks the command. The goal is against the sandboxed chain, which does the same work (against the raw chain when bwrap is missing).",
    ],
    figures: [
      ...(b
        ? [{
          name: "start → running p50 / p95, against the sandboxed chain",
          value: p50p95(r),
          baseline: `bwrap chain spawn → exit ${p50p95(b)}`,
          ratio: `${ratio(r.p50, b.p50)} / ${ratio(r.p95, b.p95)}`,
          goal: `≤ ${GOAL}× sandboxed chain`,
          met,
        }]
        : []),
      {
        name: "start → running p50 / p95, against the raw chain",
        value: p50p95(r),
        baseline: `raw chain spawn → exit ${p50p95(c)}`,
        ratio: `${ratio(r.p50, c.p50)} / ${ratio(r.p95, c.p95)}`,
        ...(b ? {} : { goal: `≤ ${GOAL}× raw chain`, met }),
      },
      ...(b
        ? [{
          name:
            "cost of the sandbox in the baseline (bwrap chain − raw chain) p50",
          value: `${(b.p50 - c.p50).toFixed(2)} ms`,
        }]
        : []),
      {
        name: "start → exit of `true` p50 / p95",
        value: p50p95(e),
        baseline: `raw chain ${p50p95(c)}`,
        ratio: `${ratio(e.p50, c.p50)} / ${ratio(e.p95, c.p95)}`,
      },
    ],
    notes: [],
    plots: [latencyPlot("start_latency.svg", "Start latency distribution", [
      { label: "raw chain (spawn → exit)", samples: chain },
      ...(b
        ? [{ label: "bwrap chain (spawn → exit)", samples: sandboxed }]
        : []),
      { label: "runtime start → running", samples: running },
      { label: "runtime start → exit", samples: exited },
    ])],
  };
}
