/**
 * Benchmark 5: the peer. Debian's task-spooler (`tsp`) against the runtime:
 * request → command running (seen by the command writing to a FIFO the
 * bench reads, for both), and 500 queued `true` jobs.
 *
 * @module
 */
import { openBenchRuntime } from "./_bench_runtime.ts";
import { type BenchContext, ratio, type Section } from "./_report.ts";
import { p50p95, summarize } from "./_stats.ts";
import { findTaskSpooler } from "./_task_spooler_binary.ts";

const WARMUP = 5;
const ROUNDS = 100;
const QUEUED = 500;

/** Runs the task-spooler comparison. */
export async function taskSpooler(
  ctx: BenchContext,
): Promise<Omit<Section, "id" | "seconds">> {
  const title = "Peer: task-spooler";
  const found = await findTaskSpooler();
  if ("skip" in found) {
    return {
      title,
      setup: [],
      figures: [],
      notes: [`Skipped: ${found.skip}`],
      plots: [],
    };
  }
  const tsp = new TaskSpooler(found.path, ctx.tmp);
  const fifo = `${ctx.tmp}/fifo`;
  await mkfifo(fifo);
  // Jobs see the FIFO through a bind into their own root.
  await using bench = await openBenchRuntime(ctx, [fifo]);
  const { runtime } = bench;
  using probe = await FifoProbe.open(fifo);
  try {
    const viaTsp: number[] = [];
    const viaRuntime: number[] = [];
    const startResolved: number[] = [];
    const script = `echo x > ${fifo}`;
    // Leave time for the queued jobs.
    const roundsDeadline = ctx.deadline - 50_000;
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      if (performance.now() > roundsDeadline) break;
      const a = await probe.time(() => tsp.run(["-n", "sh", "-c", script]));
      let resolved = 0;
      const b = await probe.time(async () => {
        const t0 = performance.now();
        const job = await runtime.start({
          owner: "bench",
          command: "sh",
          args: ["-c", script],
        });
        resolved = performance.now() - t0;
        return job.done;
      });
      if (i < WARMUP) continue;
      viaTsp.push(a);
      viaRuntime.push(b);
      startResolved.push(resolved);
    }
    const t = summarize(viaTsp);
    const r = summarize(viaRuntime);
    const s = summarize(startResolved);

    // 500 queued jobs: submit one after another, then wait for all.
    const submitTsp: number[] = [];
    const q0 = performance.now();
    for (let i = 0; i < QUEUED && performance.now() < ctx.deadline; i++) {
      const t0 = performance.now();
      await tsp.run(["-n", "true"]);
      submitTsp.push(performance.now() - t0);
    }
    await tsp.run(["-w"]);
    const allTsp = performance.now() - q0;
    const submitRuntime: number[] = [];
    const jobs = [];
    const r0 = performance.now();
    for (let i = 0; i < QUEUED && performance.now() < ctx.deadline; i++) {
      const t0 = performance.now();
      jobs.push(await runtime.start({ owner: "bench", command: "true" }));
      submitRuntime.push(performance.now() - t0);
    }
    await Promise.all(jobs.map((job) => job.done));
    const allRuntime = performance.now() - r0;
    const st = summarize(submitTsp);
    const sr = summarize(submitRuntime);
    return {
      title,
      setup: [
        `${found.path} (task-spooler 1.0.1${
          found.installed ? ", installed by this run with apt-get" : ""
        }), own socket and TMPDIR, \`-n\` (no output file), default 1 slot; it runs commands as the calling user (root here) with no cgroup, namespaces or privilege drop.`,
        `Start → running: ${t.n} interleaved rounds after ${WARMUP} warm-up; each request runs \`sh -c '${script}'\` and the time is from issuing the request (spawning the \`tsp\` client / calling runtime.start()) until the bench reads the FIFO.`,
        `${QUEUED} queued jobs: ${QUEUED} \`true\` jobs submitted one after another, then wait for all (tsp \`-w\`; runtime: every \`job.done\`). tsp runs them one at a time (1 slot); the runtime runs them at once.`,
      ],
      figures: [
        {
          name: "request → command running p50 / p95",
          value: `jobworker runtime ${p50p95(r)}`,
          baseline: `tsp ${p50p95(t)}`,
          ratio: `${ratio(r.p50, t.p50)} / ${ratio(r.p95, t.p95)}`,
        },
        {
          name: "runtime.start() resolved (same rounds)",
          value: p50p95(s),
        },
        {
          name: `submit one of ${sr.n} (tsp ${st.n}) p50 / p95`,
          value: `jobworker runtime ${p50p95(sr)}`,
          baseline: `tsp ${p50p95(st)}`,
          ratio: `${ratio(sr.p50, st.p50)} / ${ratio(sr.p95, st.p95)}`,
        },
        {
          name: `${sr.n} jobs (tsp ${st.n}) submitted and finished`,
          value: `jobworker runtime ${(allRuntime / 1000).toFixed(2)} s (${
            (sr.n / (allRuntime / 1000)).toFixed(0)
          } jobs/s)`,
          baseline: `tsp ${(allTsp / 1000).toFixed(2)} s (${
            (st.n / (allTsp / 1000)).toFixed(0)
          } jobs/s)`,
          ratio: ratio(allRuntime, allTsp),
        },
      ],
      notes: [],
      plots: [],
    };
  } finally {
    await tsp.kill();
  }
}

/** A task-spooler server private to this benchmark. */
class TaskSpooler {
  readonly #path: string;
  readonly #env: Record<string, string>;

  constructor(path: string, dir: string) {
    this.#path = path;
    this.#env = { TS_SOCKET: `${dir}/tsp.socket`, TMPDIR: dir };
  }

  async run(args: string[]): Promise<void> {
    const out = await new Deno.Command(this.#path, {
      args,
      env: this.#env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `tsp ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
  }

  async kill(): Promise<void> {
    await this.run(["-K"]).catch(() => {});
  }
}

async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: ["-m", "666", path] })
    .output();
  if (!out.success) throw new Error(`mkfifo ${path} failed`);
  await Deno.chmod(path, 0o666);
}

/**
 * A FIFO the jobs write to, held open for reading and writing so that
 * neither side's open() ever waits for the other; a read waits for data.
 */
class FifoProbe implements Disposable {
  readonly #file: Deno.FsFile;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  static async open(path: string): Promise<FifoProbe> {
    return new FifoProbe(await Deno.open(path, { read: true, write: true }));
  }

  /** Time from calling `request` until a job wrote to the FIFO; waits for `request` too. */
  async time(request: () => Promise<unknown>): Promise<number> {
    const t0 = performance.now();
    const read = this.#file.read(new Uint8Array(16)).then(() =>
      performance.now() - t0
    );
    await request();
    return await read;
  }

  [Symbol.dispose](): void {
    this.#file.close();
  }
}
