import type { CgroupManager } from "./cgroup/cgroup_manager.ts";
import { JobError } from "./errors.ts";
import { openFollower } from "./follower.ts";
import type { JobInfo, OutputChunk, OutputOptions } from "./job_info.ts";
import type { ExitStatus } from "./launcher.ts";
import type { OutputLog } from "./output_log.ts";

/** Default time between SIGTERM and SIGKILL when stopping a job. */
export const DEFAULT_GRACE_MS = 10_000;

/** The longest grace a stop may give (a timer past 2^31 ms would fire at once). */
export const MAX_GRACE_MS = 24 * 3_600_000;

/** What a job hands back to its runtime once it is over. */
export type JobEnded = (job: Job) => void | Promise<void>;

/**
 * One job: its command running in its own cgroup and namespaces, and its
 * output on disk. The job owns its cgroup (removed once the job is over and
 * its final figures are read) and its log.
 */
export class Job {
  readonly id: string;
  readonly owner: string;
  /** The owner's label for it, unique among their jobs; "" for none. */
  readonly name: string;
  /** Resolves with the final snapshot once the job is over. */
  readonly done: Promise<JobInfo>;
  readonly #info: JobInfo;
  readonly #log: OutputLog;
  #cgroup: CgroupManager | null;
  #stopping: Promise<JobInfo> | null = null;
  #detached = false;
  /** Makes the launcher drop further output; none for a job that has ended. */
  readonly #cut?: () => void;
  #outputCut = false;
  /** Settles when {@link detach} leaves the job running to a next server. */
  readonly #left = Promise.withResolvers<never>();

  /**
   * A job that is running (`exit` given) or already over (`exit` null, `info`
   * final). `ended` runs once the job is over, before `done` resolves.
   */
  constructor(
    info: JobInfo,
    log: OutputLog,
    cgroup: CgroupManager | null,
    exit: Promise<ExitStatus> | null,
    ended: JobEnded,
    cutOutput?: () => void,
  ) {
    this.id = info.id;
    this.owner = info.owner;
    this.name = info.name;
    this.#left.promise.catch(() => {}); // told to waiters only
    this.#info = info;
    this.#log = log;
    this.#cgroup = cgroup;
    this.#cut = cutOutput;
    this.done = exit ? this.#finish(exit, ended) : Promise.resolve(this.info());
  }

  /** A snapshot of the job (usage as last read). */
  info(): JobInfo {
    const sizes = this.#log.sizes();
    const { bytes: cap, error: capError } = this.#log.cap;
    return {
      ...this.#info,
      ...(cap === undefined ? {} : { outputCapBytes: cap }),
      ...(capError && !this.#info.error ? { error: capError } : {}),
      stdoutDroppedBytes: this.#log.dropped.stdout,
      stderrDroppedBytes: this.#log.dropped.stderr,
      args: [...this.#info.args],
      limits: { ...this.#info.limits },
      usage: { ...this.#info.usage },
      stdoutBytes: sizes.stdout,
      stderrBytes: sizes.stderr,
    };
  }

  /** A snapshot with usage read from the cgroup now, for a running job. */
  async status(): Promise<JobInfo> {
    const cgroup = this.#cgroup;
    if (this.#info.state === "running" && cgroup) {
      try {
        const { oomKilled, ...usage } = await cgroup.stats();
        this.#info.usage = usage;
        this.#info.oomKilled ||= oomKilled;
      } catch {
        // The job ended meanwhile; its final figures come with `done`.
      }
    }
    return this.info();
  }

  /**
   * Stops the job: SIGTERM to every process in its cgroup, then after
   * `graceMs` the whole cgroup is killed. Resolves with the final snapshot.
   * A second call while stopping shares the first; stopping a job that
   * already ended fails with `failed_precondition`.
   */
  stop(graceMs: number = DEFAULT_GRACE_MS): Promise<JobInfo> {
    if (this.#info.state !== "running" || !this.#cgroup) {
      return Promise.reject(
        new JobError("failed_precondition", `job ${this.id} has already ended`),
      );
    }
    if (!Number.isFinite(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) {
      return Promise.reject(
        new JobError(
          "invalid_argument",
          `grace must be between 0 and 24h, got ${graceMs} ms`,
        ),
      );
    }
    this.#stopping ??= this.#stop(this.#cgroup, graceMs);
    return this.#stopping;
  }

  /**
   * Sends `signal` to every process of the job, now; `failed_precondition`
   * once it has ended. What the signal does is the job's business.
   */
  async kill(signal: Deno.Signal): Promise<JobInfo> {
    const cgroup = this.#cgroup;
    if (this.#info.state !== "running" || !cgroup) {
      throw new JobError(
        "failed_precondition",
        `job ${this.id} has already ended`,
      );
    }
    await cgroup.signalAll(signal);
    return this.info();
  }

  /**
   * Leaves the job to whoever serves the data directory next (a server
   * exiting without stopping its jobs): how it ends is no longer this
   * object's business, so it touches neither the job's cgroup nor its
   * record when its launcher reports. Its launcher goes on and writes the
   * final report to its status file, as after a crash.
   */
  detach(): void {
    this.#detached = true;
    this.#left.reject(
      new JobError(
        "unavailable",
        `the server is restarting; job ${this.id} goes on (ask again)`,
      ),
    );
  }

  /**
   * The final snapshot once the job has ended, at once when it already
   * has. Rejects with `signal`'s reason when it aborts first, and with
   * `unavailable` when this server leaves the job running to the next.
   */
  async wait(signal: AbortSignal): Promise<JobInfo> {
    signal.throwIfAborted();
    const aborted = Promise.withResolvers<never>();
    const onAbort = () => aborted.reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      // Left first: a detached job's `done` may resolve, still running.
      return await Promise.race([
        this.#left.promise,
        this.done,
        aborted.promise,
      ]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Makes the job's launcher drop its further output, as a full disk does
   * (its owner's disk quota is reached); the job runs on. True if this cut
   * it, false if it was cut before or cannot be (ended, detached).
   */
  cutOutput(): boolean {
    if (this.#outputCut || !this.#cut || this.#info.state !== "running") {
      return false;
    }
    this.#outputCut = true;
    this.#cut();
    return true;
  }

  /** Bytes of disk the job's output takes (see `OutputLog.keptBytes`). */
  keptBytes(): number {
    return this.#log.keptBytes();
  }

  /** A fresh reader over the job's output (see {@link openFollower}). */
  output(options?: OutputOptions): ReadableStream<OutputChunk> {
    return openFollower(this.#log, options);
  }

  async #stop(cgroup: CgroupManager, graceMs: number): Promise<JobInfo> {
    await cgroup.signalAll("SIGTERM").catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const timedOut = await Promise.race([
      this.done.then(() => false),
      graceOver,
    ]);
    clearTimeout(timer);
    if (timedOut) await cgroup.kill().catch(() => {});
    return await this.done;
  }

  async #finish(exit: Promise<ExitStatus>, ended: JobEnded): Promise<JobInfo> {
    const info = this.#info;
    let status: ExitStatus | null = null;
    try {
      status = await exit;
    } catch (err) {
      info.error = err instanceof Error ? err.message : String(err);
    }
    if (this.#detached) return this.info();
    const cgroup = this.#cgroup;
    if (cgroup) {
      // Whatever is left (a lost job) goes with the cgroup.
      try {
        const { oomKilled, ...usage } = await cgroup.stats();
        info.usage = usage;
        info.oomKilled ||= oomKilled;
      } catch {
        // keep the last figures
      }
      await cgroup.destroy().catch((err) => {
        info.error ??= `cgroup not removed: ${
          err instanceof Error ? err.message : err
        }`;
      });
    }
    this.#log.trimToCap();
    this.#log.finish();
    if (status?.cutBytes) {
      info.error ??=
        `output cut: its owner's jobs reached their disk quota; ${status.cutBytes} bytes of output were dropped`;
    }
    if (status?.lostBytes) {
      info.error ??=
        `output truncated: the server's disk for job output is full; ${status.lostBytes} bytes of output were lost`;
    }
    const full = this.#log.diskFull();
    if (full) info.error ??= full;
    info.endedAt = new Date();
    if (!status) info.state = "lost";
    else if (this.#stopping) info.state = "stopped";
    else info.state = status.kind === "exited" ? "exited" : "signaled";
    if (status?.kind === "exited") info.exitCode = status.code;
    if (status?.kind === "signaled") info.signal = status.signal;
    this.#cgroup = null;
    await ended(this);
    return this.info();
  }
}
