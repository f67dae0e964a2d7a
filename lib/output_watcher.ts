import {
  DirectoryWatcher,
  IN_MODIFY,
  IN_MOVED_TO,
  IN_Q_OVERFLOW,
} from "./inotify.ts";
import type { StreamName } from "./job_info.ts";
import type { OutputLog } from "./output_log.ts";

const SUFFIX: Record<string, "index" | StreamName> = {
  ".idx": "index",
  ".out": "stdout",
  ".err": "stderr",
};

/** What the watcher tells about one job. */
export interface WatchedJob {
  log: OutputLog;
  /** Called when the job launcher's status file (`<id>.status`) changes. */
  statusChanged?: () => void;
  /** Called after the log was told of a batch of changes to its output. */
  grown?: () => void;
}

/**
 * Watches the one flat directory that holds every job's output files
 * (`<id>.out`, `<id>.err`, and the index `<id>.idx` their launcher keeps)
 * and launcher reports (`<id>.status`) with a single inotify watch, and
 * tells each job's {@link OutputLog} when its files grow.
 * One watcher serves any number of jobs: no per-job watches, no polling.
 */
export class OutputWatcher {
  readonly #watcher: DirectoryWatcher;
  readonly #jobs = new Map<string, WatchedJob>();
  /** Logs told of in the batch of events being read, each told once at its end. */
  readonly #changed = new Map<WatchedJob, Set<"index" | StreamName>>();

  constructor(dir: string) {
    this.#watcher = new DirectoryWatcher(
      dir,
      (name, mask) => this.#dispatch(name, mask),
    );
  }

  /** Starts delivering changes of job `id`'s files. */
  add(id: string, job: WatchedJob): void {
    this.#jobs.set(id, job);
  }

  /** Stops delivering changes for job `id`. */
  delete(id: string): void {
    this.#jobs.delete(id);
  }

  async close(): Promise<void> {
    await this.#watcher.close();
  }

  #dispatch(name: string, mask: number): void {
    if (mask & IN_Q_OVERFLOW) {
      // The kernel dropped events: wake everyone so they look again.
      for (const job of this.#jobs.values()) {
        job.log.poke();
        job.statusChanged?.();
      }
      return;
    }
    const dot = name.lastIndexOf(".");
    const job = this.#jobs.get(name.slice(0, dot));
    if (!job) return;
    const suffix = name.slice(dot);
    if (suffix === ".status") {
      if (mask & IN_MOVED_TO) job.statusChanged?.();
    } else if (SUFFIX[suffix] && mask & IN_MODIFY) {
      // A launcher writes a stream's file and the index in turn, so their
      // events never merge in the kernel: a batch held a dozen for one job,
      // and each made the log read its index again.
      if (!this.#changed.size) queueMicrotask(() => this.#tell());
      const files = this.#changed.get(job) ?? new Set();
      files.add(SUFFIX[suffix]);
      this.#changed.set(job, files);
    }
  }

  #tell(): void {
    const changed = [...this.#changed];
    this.#changed.clear();
    for (const [job, files] of changed) {
      for (const file of files) job.log.notify(file);
      job.grown?.();
    }
  }
}
