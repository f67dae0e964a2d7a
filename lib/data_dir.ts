import { JobError } from "./errors.ts";
import type { OutputFiles } from "./output_log.ts";

/**
 * The data directory's layout:
 * - `logs/<id>.out|.err|.seg|.status`: output and launcher reports, in one
 *   flat directory so that one inotify watch covers every job (root only);
 * - `jobs/<id>/meta.json`: each job's metadata (root only);
 * - `work/<id>/`: each job's working directory, owned by the job's uid and
 *   bound at /work in its view;
 * - `root/`: an empty directory each job mounts its own root on, in its own
 *   mount namespace (so the host never sees those mounts);
 * - `seccomp/`: the jobs' compiled seccomp filters;
 * - `corrupt/`: job records that could not be read back, moved aside;
 * - `lock`: held by the one runtime serving the directory (its PID inside);
 * - `records.reserve`: disk space kept for job records (see DiskReserve).
 * Only root can enter any of it: jobs reach their directory through the
 * bind, not through the host's path.
 */
export class DataDir {
  readonly root: string;
  readonly logs: string;
  readonly jobs: string;
  readonly work: string;
  readonly rootMount: string;
  readonly seccomp: string;
  readonly corrupt: string;
  /** Held (flock) by the runtime that serves this directory. */
  readonly lock: string;
  /** Allocated space kept for job records when the disk is full. */
  readonly reserve: string;

  constructor(root: string) {
    this.root = root.replace(/\/+$/, "") || "/";
    this.logs = `${this.root}/logs`;
    this.jobs = `${this.root}/jobs`;
    this.work = `${this.root}/work`;
    this.rootMount = `${this.root}/root`;
    this.seccomp = `${this.root}/seccomp`;
    this.corrupt = `${this.root}/corrupt`;
    this.lock = `${this.root}/lock`;
    this.reserve = `${this.root}/records.reserve`;
  }

  /** Creates the directories (root only). */
  async prepare(): Promise<void> {
    for (
      const dir of [this.root, this.logs, this.jobs, this.work, this.seccomp]
    ) {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      await Deno.chmod(dir, 0o700);
    }
    await Deno.mkdir(this.rootMount, { recursive: true, mode: 0o700 });
  }

  output(id: string): OutputFiles {
    return {
      stdout: `${this.logs}/${id}.out`,
      stderr: `${this.logs}/${id}.err`,
      index: `${this.logs}/${id}.idx`,
      drops: `${this.logs}/${id}.drop`,
      segments: `${this.logs}/${id}.seg`,
    };
  }

  status(id: string): string {
    return `${this.logs}/${id}.status`;
  }

  workDir(id: string): string {
    return `${this.work}/${id}`;
  }

  /**
   * Bytes of disk that `id`'s output takes: allocated blocks, not apparent
   * size (a job that seeks its stdout to 1 TiB holds a few KiB).
   */
  async outputBytes(id: string): Promise<number> {
    let total = 0;
    for (const path of Object.values(this.output(id))) {
      total += await Deno.stat(path).then(
        (s) => s.blocks === null ? s.size : s.blocks * 512,
        () => 0,
      );
    }
    return total;
  }

  /** Removes a job's output, report and working directory. */
  async removeJob(id: string): Promise<void> {
    const paths = [
      ...Object.values(this.output(id)),
      this.status(id),
      `${this.status(id)}.tmp`,
    ];
    await Promise.all(paths.map((path) => Deno.remove(path).catch(() => {})));
    await Deno.remove(this.workDir(id), { recursive: true }).catch(() => {});
  }
}

/** Turns a storage failure into a clear error (a full or read-only data directory). */
export function storageError(err: unknown): unknown {
  const code = (err as { code?: string })?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new JobError(
      "resource_exhausted",
      "the server's data directory is full",
      { cause: err },
    );
  }
  if (code === "EROFS" || code === "EACCES") {
    return new JobError(
      "unavailable",
      "the server's data directory is not writable",
      { cause: err },
    );
  }
  return err;
}
