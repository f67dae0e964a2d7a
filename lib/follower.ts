import type { OutputChunk, OutputOptions, StreamName } from "./job_info.ts";
import type { OutputLog } from "./output_log.ts";

/** Largest chunk a follower reads at once. */
const CHUNK = 128 * 1024;

/**
 * Opens a reader over a job's output: a pull-based `ReadableStream` that
 * delivers everything from `from`, then follows new output as the job writes
 * it (woken by the log, never by polling), and closes once the job ended and
 * the last byte was delivered. Each follower has its own file handles and at
 * most one chunk in hand, so a stalled follower costs nothing to the job or
 * to other followers; cancelling it closes its files. Followers that want
 * the same bytes at once share one read and one chunk (`SharedReads`):
 * chunks are read-only.
 *
 * @example
 * ```ts
 * for await (const chunk of openFollower(log, { streams: ["stdout"] })) {
 *   await Deno.stdout.write(chunk.data);
 * }
 * ```
 */
export function openFollower(
  log: OutputLog,
  options: OutputOptions = {},
): ReadableStream<OutputChunk> {
  log.sync();
  const follower = new Follower(log, options);
  return new ReadableStream<OutputChunk>({
    async pull(controller) {
      try {
        const chunk = await follower.next();
        if (chunk) controller.enqueue(chunk);
        else {
          follower.close();
          controller.close();
        }
      } catch (err) {
        follower.close();
        controller.error(err);
      }
    },
    cancel() {
      follower.close();
    },
  }, { highWaterMark: 1 });
}

class Follower {
  readonly #log: OutputLog;
  readonly #only: StreamName | null;
  readonly #follow: boolean;
  readonly #abort = new AbortController();
  #pos: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  #segment = 0;
  #skip: number;
  /** Read buffer, reused: no fresh zero-filled buffer per read. */
  readonly #scratch = new Uint8Array(CHUNK);
  #files: Partial<Record<StreamName, { file: Deno.FsFile; at: number }>> = {};

  constructor(log: OutputLog, options: OutputOptions) {
    this.#log = log;
    const streams = options.streams?.length
      ? [...new Set(options.streams)]
      : [];
    this.#only = streams.length === 1 ? streams[0] : null;
    this.#follow = options.follow ?? true;
    this.#skip = Math.max(0, options.from ?? 0);
    if (this.#only) {
      this.#pos[this.#only] = this.#skip;
      this.#skip = 0;
    }
    log.reads.attach();
  }

  /** The next chunk, or null at the end. */
  async next(): Promise<OutputChunk | null> {
    while (!this.#abort.signal.aborted) {
      const complete = this.#log.complete || !this.#follow;
      const generation = this.#log.generation;
      const chunk = this.#only
        ? await this.#readStream(this.#only)
        : await this.#readCombined();
      if (chunk === "again") continue;
      if (chunk) return chunk;
      if (complete) return null;
      if (generation === this.#log.generation) {
        await this.#log.changed(this.#abort.signal);
      }
    }
    return null;
  }

  close(): void {
    if (this.#abort.signal.aborted) return;
    this.#log.reads.detach();
    this.#abort.abort();
    for (const handle of Object.values(this.#files)) handle?.file.close();
    this.#files = {};
  }

  async #readStream(stream: StreamName): Promise<OutputChunk | null | "again"> {
    this.#skipDropped(stream, Infinity);
    const offset = this.#pos[stream];
    const data = await this.#read(stream, offset, CHUNK);
    return data ? this.#emit(stream, offset, data) : null;
  }

  /** Walks the closed segments, then the open one; "again" means: state moved, look again. */
  async #readCombined(): Promise<OutputChunk | null | "again"> {
    const segments = this.#log.segments;
    if (this.#segment < segments.length) {
      const { stream, end } = segments[this.#segment];
      this.#skipDropped(stream, end);
      const offset = this.#pos[stream];
      const left = end - offset;
      if (left <= 0) {
        this.#segment++;
        return "again";
      }
      if (this.#skip > 0) {
        const step = Math.min(this.#skip, left);
        this.#pos[stream] += step;
        this.#skip -= step;
        return "again";
      }
      const data = await this.#read(stream, offset, Math.min(CHUNK, left));
      if (!data) {
        // The file is shorter than recorded (it was truncated): move on.
        this.#segment++;
        return "again";
      }
      return this.#emit(stream, offset, data);
    }
    const stream = this.#log.open;
    if (!stream) return null;
    this.#skipDropped(stream, Infinity);
    const offset = this.#pos[stream];
    let data = await this.#read(stream, offset, CHUNK);
    // A turn of streams recorded while we read ends this stretch: keep only its part.
    if (this.#log.segments.length > this.#segment) {
      const end = this.#log.segments[this.#segment].end;
      if (data && offset + data.length > end) {
        data = data.subarray(0, Math.max(0, end - offset));
      }
      if (!data?.length) return "again";
    }
    return data ? this.#emit(stream, offset, data) : null;
  }

  /** Moves past what the output cap dropped (up to `limit`), counting it against `from`. */
  #skipDropped(stream: StreamName, limit: number): void {
    const target = Math.min(this.#log.dropped[stream], limit);
    const gap = target - this.#pos[stream];
    if (gap <= 0) return;
    this.#pos[stream] = target;
    this.#skip = Math.max(0, this.#skip - gap);
  }

  /**
   * Moves past `data` read at `offset` and returns the part to deliver:
   * without what `from` skips, and without what the cap dropped while we
   * read (those bytes may already be zeros).
   */
  #emit(
    stream: StreamName,
    offset: number,
    data: Uint8Array,
  ): OutputChunk | "again" {
    this.#pos[stream] = offset + data.length;
    const skipped = Math.min(this.#skip, data.length);
    this.#skip -= skipped;
    const cut = Math.max(
      skipped,
      Math.min(data.length, this.#log.dropped[stream] - offset),
    );
    if (cut >= data.length) return "again";
    return {
      stream,
      offset: offset + cut,
      data: cut > 0 ? data.subarray(cut) : data,
    };
  }

  /**
   * Up to `max` bytes of `stream` at `offset`, or null at its current end:
   * read once for all the followers that want them (`SharedReads`).
   */
  async #read(
    stream: StreamName,
    offset: number,
    max: number,
  ): Promise<Uint8Array | null> {
    const data = await this.#log.reads.read(
      stream,
      offset,
      () => this.#readFile(stream, offset, max),
    );
    return data && data.length > max ? data.subarray(0, max) : data;
  }

  /** Up to `max` bytes of `stream` at `offset` from this follower's own file. */
  async #readFile(
    stream: StreamName,
    offset: number,
    max: number,
  ): Promise<Uint8Array | null> {
    let handle = this.#files[stream];
    if (!handle) {
      handle = {
        file: await Deno.open(this.#log.files[stream], { read: true }),
        at: 0,
      };
      if (this.#abort.signal.aborted) {
        handle.file.close();
        return null;
      }
      this.#files[stream] = handle;
    }
    if (handle.at !== offset) {
      await handle.file.seek(offset, Deno.SeekMode.Start);
      handle.at = offset;
    }
    const n = await handle.file.read(this.#scratch.subarray(0, max));
    if (n === null || n === 0) return null;
    handle.at += n;
    // The chunk leaves with the readers: a copy of exactly what was read.
    return this.#scratch.slice(0, n);
  }
}
