import type { StreamName } from "./job_info.ts";
import type { OutputLog } from "./output_log.ts";

const SUFFIX: Record<string, StreamName> = {
  ".out": "stdout",
  ".err": "stderr",
};

/**
 * Watches the one flat directory that holds every running job's output files
 * (`<id>.out`, `<id>.err`) with a single inotify watch, and tells each job's
 * {@link OutputLog} when its files grow. One watcher serves any number of
 * jobs: no per-job watches, no polling.
 */
export class LogWatcher {
  readonly #watcher: Deno.FsWatcher;
  readonly #logs = new Map<string, OutputLog>();
  readonly #done: Promise<void>;

  constructor(dir: string) {
    this.#watcher = Deno.watchFs(dir, { recursive: false });
    this.#done = this.#run();
  }

  /** Starts delivering changes of job `id`'s files to `log`. */
  add(id: string, log: OutputLog): void {
    this.#logs.set(id, log);
  }

  /** Stops delivering changes for job `id`. */
  delete(id: string): void {
    this.#logs.delete(id);
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
          for (const log of this.#logs.values()) log.poke();
          continue;
        }
        if (event.kind !== "modify" && event.kind !== "any") continue;
        for (const path of event.paths) this.#dispatch(path);
      }
    } catch {
      // closed
    }
  }

  #dispatch(path: string): void {
    const name = path.slice(path.lastIndexOf("/") + 1);
    const dot = name.lastIndexOf(".");
    const stream = SUFFIX[name.slice(dot)];
    if (!stream) return;
    this.#logs.get(name.slice(0, dot))?.notify(stream);
  }
}
