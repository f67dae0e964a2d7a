import type { StreamName } from "./job_info.ts";
import type { OutputLog } from "./output_log.ts";

const SUFFIX: Record<string, StreamName> = {
  ".out": "stdout",
  ".err": "stderr",
};

/** What the watcher tells about one job. */
export interface WatchedJob {
  log: OutputLog;
  /** Called when the job launcher's status file (`<id>.status`) changes. */
  statusChanged?: () => void;
}

/**
 * Watches the one flat directory that holds every running job's output files
 * (`<id>.out`, `<id>.err`, `<id>.status`) with a single inotify watch, and
 * tells each job's {@link OutputLog} when its files grow. One watcher serves any number of
 * jobs: no per-job watches, no polling.
 */
export class LogWatcher {
  readonly #watcher: Deno.FsWatcher;
  readonly #jobs = new Map<string, WatchedJob>();
  readonly #done: Promise<void>;

  constructor(dir: string) {
    this.#watcher = Deno.watchFs(dir, { recursive: false });
    this.#done = this.#run();
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
    try {
      this.#watcher.close();
    } catch {
      // already closed
    }
    await this.#done;
  }

  async #run(): Promise<void> {
    try {
      for await (const event of this.#watcher) {
        if (event.flag === "rescan") {
          // The kernel dropped events: wake everyone so they re-read.
          for (const job of this.#jobs.values()) {
            job.log.poke();
            job.statusChanged?.();
          }
          continue;
        }
        for (const path of event.paths) this.#dispatch(path, event.kind);
      }
    } catch {
      // closed
    }
  }

  #dispatch(path: string, kind: Deno.FsEvent["kind"]): void {
    const name = path.slice(path.lastIndexOf("/") + 1);
    const dot = name.lastIndexOf(".");
    const job = this.#jobs.get(name.slice(0, dot));
    if (!job) return;
    const suffix = name.slice(dot);
    if (suffix === ".status") job.statusChanged?.();
    else if (SUFFIX[suffix] && (kind === "modify" || kind === "any")) {
      job.log.notify(SUFFIX[suffix]);
    }
  }
}
