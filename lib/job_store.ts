import type { JobInfo } from "./job_info.ts";

/**
 * Keeps each job's metadata on disk (`<dir>/<id>/meta.json`), replaced
 * atomically (write, fsync, rename) at every change of state, so a
 * restarted server finds every job as it was. The saves of one job run one
 * after another, in the order they were asked for: two at once would share
 * the temporary file, so one could rename the other's half-written bytes
 * into place or find the file gone.
 */
export class JobStore {
  readonly dir: string;
  /** The last save asked for, per job, until it has landed. */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Directory of one job's state. */
  jobDir(id: string): string {
    return `${this.dir}/${id}`;
  }

  /**
   * Writes a job's metadata atomically, as it is now, after the saves of
   * that job asked for before.
   */
  save(info: JobInfo): Promise<void> {
    const text = JSON.stringify(info);
    const before = this.#pending.get(info.id);
    const saved = before
      ? before.catch(() => {}).then(() => this.#write(info.id, text))
      : this.#write(info.id, text);
    this.#pending.set(info.id, saved);
    const settle = () => {
      if (this.#pending.get(info.id) === saved) this.#pending.delete(info.id);
    };
    saved.then(settle, settle);
    return saved;
  }

  /** Resolves once every save asked for so far has landed or failed. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pending.values()]);
  }

  async #write(id: string, text: string): Promise<void> {
    const path = `${this.jobDir(id)}/meta.json`;
    const tmp = `${path}.tmp`;
    const file = await Deno.open(tmp, {
      write: true,
      create: true,
      truncate: true,
      mode: 0o600,
    });
    try {
      const bytes = new TextEncoder().encode(text);
      for (let at = 0; at < bytes.length;) {
        at += await file.write(bytes.subarray(at));
      }
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

  /** Forgets a job's metadata (after any save of it still under way). */
  async remove(id: string): Promise<void> {
    await this.#pending.get(id)?.catch(() => {});
    await Deno.remove(this.jobDir(id), { recursive: true }).catch(() => {});
  }
}

function revive(raw: JobInfo): JobInfo {
  const info: JobInfo = { ...raw, createdAt: new Date(raw.createdAt) };
  if (raw.startedAt) info.startedAt = new Date(raw.startedAt);
  if (raw.endedAt) info.endedAt = new Date(raw.endedAt);
  return info;
}
