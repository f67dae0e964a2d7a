import type { OutputChunk, OutputOptions, StreamName } from "./job_info.ts";
import { type OutputRecord, streamStart, viewStart } from "./output_index.ts";
import type { OutputLog } from "./output_log.ts";

/** Largest chunk a follower reads at once. */
const CHUNK = 128 * 1024;
/** Records a follower takes from the log at once. */
const BATCH = 64;
/** How long after `until` a follower of a running job still waits for pieces read before it. */
const UNTIL_MARGIN_NS = 250_000_000n;
/** Bytes read at once when looking backwards for line ends (tail). */
const TAIL_BLOCK = 64 * 1024;

/**
 * Opens a reader over a job's output: a pull-based `ReadableStream` that
 * delivers the chosen view from where the options say, then follows new
 * output as the job's launcher indexes it (woken by the log, never by
 * polling), and closes once the job ended and the last byte was delivered
 * (or at `until`). The view walks the index in order, so both streams come
 * in the order the launcher read them. Each follower has its own file
 * handles and at most one chunk in hand, so a stalled follower costs
 * nothing to the job or to other followers; cancelling it closes its
 * files. Followers that want the same bytes at once share one read and one
 * chunk (`SharedReads`): chunks are read-only.
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
  log.refresh();
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
  /** The one stream of the view, or undefined for both. */
  readonly #only: StreamName | undefined;
  readonly #options: OutputOptions;
  readonly #abort = new AbortController();
  /** Ends waits at `until` (made once, at the first wait). */
  #deadline: AbortSignal | undefined;
  /** The next record to look at, and the view position reached. */
  #at = 0;
  #pos: number;
  #started = false;
  /** Where each stream's bytes begin to count (the lines `tail` keeps). */
  #streamFrom: Record<StreamName, number> | undefined;
  /** Bytes skipped (dropped by the cap) since the last chunk. */
  #skipped = 0;
  #batch: OutputRecord[] = [];
  #batchFrom = 0;
  /** Records of the log when the batch was taken: its last one may have grown since. */
  #batchCount = 0;
  /** Read buffer, reused: no fresh zero-filled buffer per read. */
  readonly #scratch = new Uint8Array(CHUNK);
  #files: Partial<Record<StreamName, { file: Deno.FsFile; at: number }>> = {};

  constructor(log: OutputLog, options: OutputOptions) {
    this.#log = log;
    const streams = [...new Set(options.streams ?? [])];
    this.#only = streams.length === 1 ? streams[0] : undefined;
    this.#options = options;
    this.#pos = Math.max(0, options.from ?? 0);
    log.reads.attach();
  }

  /** The next chunk, or null at the end. */
  async next(): Promise<OutputChunk | null> {
    if (!this.#started) await this.#start();
    const follow = this.#options.follow ?? true;
    const until = this.#options.until;
    while (!this.#abort.signal.aborted) {
      const complete = this.#log.complete || !follow;
      const generation = this.#log.generation;
      const chunk = await this.#step();
      if (chunk === "again") continue;
      if (chunk === "end") return null;
      if (chunk) return chunk;
      if (complete) return null;
      // Anything indexed from now on was read after `until` (the margin
      // covers a piece read just before it, not yet indexed or seen).
      if (until !== undefined && nowNs() > until + UNTIL_MARGIN_NS) return null;
      if (generation === this.#log.generation) {
        await this.#log.changed(this.#waitSignal(until));
      }
    }
    return null;
  }

  /** What ends a wait for news: closing, and with `until`, its time (and margin). */
  #waitSignal(until: bigint | undefined): AbortSignal {
    if (until === undefined) return this.#abort.signal;
    if (!this.#deadline) {
      const ms = Number((until + UNTIL_MARGIN_NS - nowNs()) / 1_000_000n) + 1;
      this.#deadline = AbortSignal.any([
        this.#abort.signal,
        AbortSignal.timeout(Math.max(1, Math.min(ms, 2 ** 31 - 1))),
      ]);
    }
    return this.#deadline;
  }

  close(): void {
    if (this.#abort.signal.aborted) return;
    this.#log.reads.detach();
    this.#abort.abort();
    for (const handle of Object.values(this.#files)) handle?.file.close();
    this.#files = {};
  }

  /** Where the view begins: the latest of `from`, `since` and `tail`. */
  async #start(): Promise<void> {
    this.#started = true;
    const { since, tail } = this.#options;
    const log = this.#log;
    if (since !== undefined) {
      const first = log.index.search(log.count, (r) => r.time >= since);
      const record = log.records(first, 1)[0];
      const start = record ? viewStart(record, this.#only) : this.#end();
      this.#pos = Math.max(this.#pos, start);
    }
    if (tail !== undefined) {
      const start = await this.#tailStart(tail);
      if (start.pos >= this.#pos) {
        this.#pos = start.pos;
        this.#streamFrom = start.from;
      }
    }
    // The record holding #pos: the last one starting at or before it.
    if (this.#pos > 0) {
      const after = log.index.search(
        log.count,
        (r) => viewStart(r, this.#only) > this.#pos,
      );
      this.#at = Math.max(0, after - 1);
    }
  }

  /** The view position now at its end. */
  #end(): number {
    const sizes = this.#log.sizes();
    return this.#only ? sizes[this.#only] : sizes.stdout + sizes.stderr;
  }

  /**
   * Where the last `lines` lines of the view begin, found by reading back
   * from the end, record by record, as far as those lines reach. Lines are
   * each stream's own (a final newline ends a stream's last line; it does
   * not start one): in the combined view the answer is where the
   * `lines`-th last line of either stream starts, and each stream's bytes
   * before its first line start after that are left out (the end of a line
   * of the other stream that began earlier).
   */
  async #tailStart(
    lines: number,
  ): Promise<{ pos: number; from?: Record<StreamName, number> }> {
    const log = this.#log;
    const ends = log.sizes();
    if (lines <= 0) return { pos: this.#end(), from: ends };
    const from: Record<StreamName, number> = { ...ends };
    let seen = 0;
    const lineAt = (stream: StreamName, offset: number) => {
      from[stream] = Math.min(from[stream], offset);
      return ++seen === lines;
    };
    for (let top = log.count; top > 0;) {
      const first = Math.max(0, top - BATCH);
      const records = log.records(first, top - first);
      top = first;
      for (const record of records.reverse()) {
        if (this.#only && record.stream !== this.#only) continue;
        const stream = record.stream;
        const base = streamStart(record);
        const at = (offset: number) =>
          viewStart(record, this.#only) + (offset - base);
        const low = Math.max(base, log.dropped[stream]);
        const end = base + record.length;
        // Line starts inside the record, last first.
        for (let high = end; high > low;) {
          const start = Math.max(low, high - TAIL_BLOCK);
          const data = await this.#readFile(stream, start, high - start);
          if (!data) break;
          for (let i = data.length - 1; i >= 0; i--) {
            const next = start + i + 1;
            if (data[i] === 10 && next < end && next >= low) {
              if (lineAt(stream, next)) return { pos: at(next), from };
            }
          }
          high = start;
        }
        // The record's own start, if a line starts there.
        if (low < end && await this.#startsLine(stream, low)) {
          if (lineAt(stream, low)) return { pos: at(low), from };
        }
      }
    }
    return { pos: 0 };
  }

  /** Whether a line of `stream` starts at `offset` (the stream's or the kept part's start, or after a newline). */
  async #startsLine(stream: StreamName, offset: number): Promise<boolean> {
    if (offset === 0 || offset === this.#log.dropped[stream]) return true;
    const before = await this.#readFile(stream, offset - 1, 1);
    return before?.[0] === 10;
  }

  #record(i: number): OutputRecord | undefined {
    const log = this.#log;
    const cached = i - this.#batchFrom;
    // The last record may still grow: always the log's own copy.
    if (
      cached >= 0 && cached < this.#batch.length && i < this.#batchCount - 1
    ) {
      return this.#batch[cached];
    }
    this.#batch = log.records(i, BATCH);
    this.#batchFrom = i;
    this.#batchCount = log.count;
    return this.#batch[0];
  }

  /** One step along the index: a chunk, "again" (moved on), null (nothing yet) or "end" (until). */
  async #step(): Promise<OutputChunk | null | "again" | "end"> {
    const log = this.#log;
    const record = this.#at < log.count ? this.#record(this.#at) : undefined;
    if (!record) return null;
    const { until, exactTimes } = this.#options;
    if (until !== undefined && record.time > until) return "end";
    if (this.#only && record.stream !== this.#only) {
      this.#at++;
      return "again";
    }
    const start = viewStart(record, this.#only);
    const end = start + record.length;
    if (this.#pos >= end) {
      // A finished record (the last one grows while its job writes).
      if (this.#at < log.count - 1 || log.complete) {
        this.#at++;
        return "again";
      }
      return null;
    }
    // Bytes the index does not describe (a record the full disk lost).
    if (this.#pos < start) this.#pos = start;
    const stream = record.stream;
    const base = streamStart(record);
    const offset = base + (this.#pos - start);
    const from = this.#streamFrom?.[stream] ?? 0;
    if (offset < from) {
      // The rest of a line that began before the tail's first line.
      this.#pos += Math.min(from, base + record.length) - offset;
      return "again";
    }
    const dropped = log.dropped[stream];
    if (offset < dropped) {
      const skip = Math.min(dropped, base + record.length) - offset;
      this.#pos += skip;
      this.#skipped += skip;
      return "again";
    }
    let length = end - this.#pos;
    if (!exactTimes) {
      // The same stream's next records, while nothing else comes between.
      for (let i = this.#at + 1; length < CHUNK && i < log.count; i++) {
        const next = this.#record(i);
        if (!next || next.stream !== stream) break;
        if (until !== undefined && next.time > until) break;
        if (viewStart(next, this.#only) !== this.#pos + length) break;
        length += next.length;
      }
    }
    let data = await this.#read(stream, offset, Math.min(length, CHUNK));
    if (!data) {
      // The file is shorter than its index says: move on.
      this.#pos = end;
      return "again";
    }
    // The cap may have dropped some while we read (those bytes may be zeros).
    const cut = Math.max(
      0,
      Math.min(data.length, log.dropped[stream] - offset),
    );
    this.#pos += cut;
    this.#skipped += cut;
    if (cut >= data.length) return "again";
    if (cut) data = data.subarray(cut);
    const chunk: OutputChunk = {
      stream,
      offset: offset + cut,
      position: record.outAt + record.errAt + (offset + cut - base),
      time: record.time,
      data,
      ...(this.#skipped ? { dropped: this.#skipped } : {}),
    };
    this.#skipped = 0;
    this.#pos += data.length;
    return chunk;
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

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
