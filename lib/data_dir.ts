import { JobError } from "./errors.ts";
import type { OutputFiles } from "./output_log.ts";

/**
 * The data directory's layout:
 * - `logs/<id>.out|.err|.seg|.status`: output and launcher reports, in one
 *   flat directory so that one inotify watch covers every job (root only);
 * - `jobs/<id>/meta.json`: each job's metadata (root only);
 * - `work/<id>/`: default working directories, owned by the job user.
 */
export class DataDir {
  readonly root: string;
  readonly logs: string;
  readonly jobs: string;
  readonly work: string;

  constructor(root: string) {
    this.root = root.replace(/\/+$/, "") || "/";
    this.logs = `${this.root}/logs`;
    this.jobs = `${this.root}/jobs`;
    this.work = `${this.root}/work`;
  }

  /** Creates the directories, and checks the job user can reach `work/`. */
  async prepare(): Promise<void> {
    await Deno.mkdir(this.root, { recursive: true, mode: 0o711 });
    await Deno.chmod(this.root, 0o711);
    await Deno.mkdir(this.logs, { recursive: true, mode: 0o700 });
    await Deno.mkdir(this.jobs, { recursive: true, mode: 0o700 });
    await Deno.mkdir(this.work, { recursive: true, mode: 0o711 });
    await Deno.chmod(this.work, 0o711);
    await checkReachable(this.root);
  }

  output(id: string): OutputFiles {
    return {
      stdout: `${this.logs}/${id}.out`,
      stderr: `${this.logs}/${id}.err`,
      segments: `${this.logs}/${id}.seg`,
    };
  }

  status(id: string): string {
    return `${this.logs}/${id}.status`;
  }

  workDir(id: string): string {
    return `${this.work}/${id}`;
  }

  /** Bytes of output kept for `id`. */
  async outputBytes(id: string): Promise<number> {
    let total = 0;
    for (const path of Object.values(this.output(id))) {
      total += await Deno.stat(path).then((s) => s.size, () => 0);
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

/** Every parent of `dir` must let others through, or jobs cannot enter their working directories. */
async function checkReachable(dir: string): Promise<void> {
  for (
    let path = dir;
    path !== "/" && path !== "";
    path = path.slice(0, path.lastIndexOf("/")) || "/"
  ) {
    const { mode } = await Deno.stat(path);
    if (mode !== null && (mode & 0o001) === 0) {
      throw new JobError(
        "failed_precondition",
        `the job user cannot reach ${dir}: ${path} has mode ${
          (mode & 0o777).toString(8)
        } (needs o+x)`,
      );
    }
  }
}

/** Turns a storage failure into a clear error (a full or read-only data directory). */
export function storageError(err: unknown, root: string): unknown {
  const code = (err as { code?: string })?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new JobError(
      "resource_exhausted",
      `the data directory ${root} is full`,
      { cause: err },
    );
  }
  if (code === "EROFS" || code === "EACCES") {
    return new JobError(
      "unavailable",
      `the data directory ${root} is not writable`,
      { cause: err },
    );
  }
  return err;
}
