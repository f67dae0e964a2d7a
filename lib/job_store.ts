import type { JobInfo } from "./job_info.ts";

/**
 * Keeps each job's metadata on disk (`<dir>/<id>/meta.json`), replaced
 * atomically (write, fsync, rename) at every change of state, so a
 * restarted server finds every job as it was.
 */
export class JobStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Directory of one job's state. */
  jobDir(id: string): string {
    return `${this.dir}/${id}`;
  }

  /** Writes a job's metadata atomically. */
  async save(info: JobInfo): Promise<void> {
    const path = `${this.jobDir(info.id)}/meta.json`;
    const tmp = `${path}.tmp`;
    const file = await Deno.open(tmp, {
      write: true,
      create: true,
      truncate: true,
      mode: 0o600,
    });
    try {
      await file.write(new TextEncoder().encode(JSON.stringify(info)));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  }

  /** Every job's saved metadata, oldest first; unreadable entries are skipped and named in `broken`. */
  async loadAll(): Promise<{ jobs: JobInfo[]; broken: string[] }> {
    const jobs: JobInfo[] = [];
    const broken: string[] = [];
    for await (const entry of Deno.readDir(this.dir)) {
      if (!entry.isDirectory) continue;
      try {
        jobs.push(
          revive(
            JSON.parse(
              await Deno.readTextFile(`${this.jobDir(entry.name)}/meta.json`),
            ),
          ),
        );
      } catch {
        broken.push(entry.name);
      }
    }
    jobs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return { jobs, broken };
  }

  /** Forgets a job's metadata. */
  async remove(id: string): Promise<void> {
    await Deno.remove(this.jobDir(id), { recursive: true }).catch(() => {});
  }
}

function revive(raw: JobInfo): JobInfo {
  const info: JobInfo = { ...raw, createdAt: new Date(raw.createdAt) };
  if (raw.startedAt) info.startedAt = new Date(raw.startedAt);
  if (raw.endedAt) info.endedAt = new Date(raw.endedAt);
  return info;
}
