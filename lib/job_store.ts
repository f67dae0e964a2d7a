import type { JobInfo } from "./job_info.ts";
import type { DiskReserve } from "./disk_reserve.ts";
import { BadRecord, MAX_RECORD_BYTES, parseRecord } from "./job_record.ts";

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
  readonly #reserve?: DiskReserve;
  readonly #onReserveUsed: () => void;

  /**
   * With `reserve`, a save that fails for want of space gives the reserve
   * up and tries once more (and `onReserveUsed` is told).
   */
  constructor(
    dir: string,
    reserve?: DiskReserve,
    onReserveUsed: () => void = () => {},
  ) {
    this.dir = dir;
    this.#reserve = reserve;
    this.#onReserveUsed = onReserveUsed;
  }

  /** Directory of one job's state. */
  jobDir(id: string): string {
    return `${this.dir}/${id}`;
  }

  /**
   * Writes a job's metadata atomically, as it is now, after the saves of
   * that job asked for before. With `sync: false` it is not fsynced: it
   * outlives the server (the page cache), not the machine, until a later
   * save syncs it (a start's first record: a machine that goes down takes
   * the job with it anyway).
   */
  save(info: JobInfo, { sync = true } = {}): Promise<void> {
    const text = JSON.stringify(info);
    const before = this.#pending.get(info.id);
    const saved = before
      ? before.catch(() => {}).then(() => this.#write(info.id, text, sync))
      : this.#write(info.id, text, sync);
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

  async #write(id: string, text: string, sync: boolean): Promise<void> {
    try {
      await this.#writeOnce(id, text, sync);
    } catch (err) {
      const code = (err as { code?: string })?.code;
      if (
        (code !== "ENOSPC" && code !== "EDQUOT") || !this.#reserve?.release()
      ) {
        throw err;
      }
      this.#onReserveUsed();
      await this.#writeOnce(id, text, sync);
    }
  }

  async #writeOnce(id: string, text: string, sync: boolean): Promise<void> {
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
      if (sync) await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  }

  /**
   * Every job's saved metadata, oldest first. A record that cannot be read
   * or fails {@link parseRecord} (and anything else found there) is moved
   * to `corruptDir` and named in `broken` with the reason; the rest load.
   */
  async loadAll(
    corruptDir: string,
  ): Promise<{ jobs: JobInfo[]; broken: { name: string; reason: string }[] }> {
    const jobs: JobInfo[] = [];
    const broken: { name: string; reason: string }[] = [];
    for await (const entry of Deno.readDir(this.dir)) {
      try {
        if (!entry.isDirectory) throw new BadRecord("not a job directory");
        jobs.push(await this.#read(entry.name));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        const moved = `${corruptDir}/${entry.name}.${Date.now()}`;
        await Deno.mkdir(corruptDir, { recursive: true, mode: 0o700 });
        await Deno.rename(`${this.dir}/${entry.name}`, moved);
        broken.push({ name: entry.name, reason });
      }
    }
    jobs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return { jobs, broken };
  }

  async #read(name: string): Promise<JobInfo> {
    const path = `${this.jobDir(name)}/meta.json`;
    const { size } = await Deno.stat(path);
    if (size > MAX_RECORD_BYTES) {
      throw new BadRecord(`meta.json is ${size} bytes`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(await Deno.readTextFile(path));
    } catch (err) {
      throw new BadRecord(`meta.json is not JSON: ${(err as Error).message}`);
    }
    return parseRecord(raw, name);
  }

  /** Forgets a job's metadata (after any save of it still under way). */
  async remove(id: string): Promise<void> {
    await this.#pending.get(id)?.catch(() => {});
    await Deno.remove(this.jobDir(id), { recursive: true }).catch(() => {});
  }
}
