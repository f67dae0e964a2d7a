import type { StreamName } from "./job_info.ts";
import { freeBytes } from "./libc.ts";
import {
  endsAfter,
  IndexFile,
  type OutputRecord,
  RECORD_BYTES,
  streamStart,
} from "./output_index.ts";
import { convertLegacyOutput } from "./output_legacy.ts";
import { punchHole } from "./punch_hole.ts";
import { SharedReads } from "./shared_reads.ts";

/** Block size to which dropped ranges are rounded (holes are punched per block). */
const BLOCK = 4096;
/** The cap is enforced when a stream holds this much more than it. */
const SLACK = 1.25;
/** Below this much free space the output's filesystem counts as full. */
const FULL_BELOW = 64 * 1024;
/** At most one cap check per stream in this many ms while a job writes. */
const CAP_CHECK_MS = 50;
/** Records kept in memory, for the readers that follow a running job. */
const WINDOW = 1024;
/** How far past a dropped range a reader looks for the next line's start. */
const LINE_SEARCH = 64 * 1024;

/** Where one job's output lives on disk. */
export interface OutputFiles {
  stdout: string;
  stderr: string;
  /** The order and time of every piece (see {@link OutputLog}). */
  index: string;
  /** What the output cap dropped: lines `o|e <freed up to> <readers start at>`. */
  drops: string;
  /** The order file of versions before the index (read once, converted). */
  segments: string;
}

const CODE: Record<StreamName, string> = { stdout: "o", stderr: "e" };
const STREAM: Record<string, StreamName> = { o: "stdout", e: "stderr" };

/**
 * One job's output. The job's launcher (jw-init) holds the read ends of the
 * command's stdout and stderr pipes and writes what it reads to one file
 * per stream and, in the order it read them, one index record per piece
 * with the time it read it (`OutputRecord`). The index defines the
 * combined view and its offsets, the same live, after the job ended and
 * after a server restart; the server only reads it, when its watcher
 * reports a change ({@link refresh}).
 *
 * The server's own part is the output cap: it frees the oldest blocks of a
 * stream that holds more than the cap and notes in the drops file where
 * readers start again: at the first line that begins after the freed
 * range, so no reader is handed half a line.
 *
 * Readers (`openFollower`) wait on {@link changed} instead of polling.
 */
export class OutputLog {
  readonly files: OutputFiles;
  readonly index: IndexFile;
  /** Reads its followers share. */
  readonly reads: SharedReads = new SharedReads();
  #count = 0;
  /** The last records ({@link WINDOW} at most); the first is record `#count - #window.length`. */
  #window: OutputRecord[] = [];
  #ends: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  #complete = false;
  #generation = 0;
  #waiters = new Set<() => void>();
  #cap: number | undefined;
  #freed: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  #dropped: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  #checked: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  #capError: string | undefined;
  /** A job of an older launcher, which writes no index: the server keeps it. */
  #selfIndexed = false;

  private constructor(files: OutputFiles, cap?: number) {
    this.files = files;
    this.index = new IndexFile(files.index);
    this.#cap = cap;
  }

  /**
   * Creates empty output files for a job about to start. With `cap`, each
   * stream keeps at most about `cap` bytes on disk: older output is dropped
   * (its blocks freed; offsets stay valid) while the job keeps running.
   */
  static async create(files: OutputFiles, cap?: number): Promise<OutputLog> {
    await Promise.all(
      [files.stdout, files.stderr, files.index, files.drops].map((path) =>
        Deno.writeFile(path, new Uint8Array(), { mode: 0o640, createNew: true })
      ),
    );
    return new OutputLog(files, cap);
  }

  /**
   * Opens the output of a job an earlier server started. `complete`: the job
   * is over. A log of a version before the index is converted first
   * (`converted` tells; its pieces get the time `legacyTime`); if its job
   * still runs, the server indexes what its launcher writes from then on.
   */
  static async open(
    files: OutputFiles,
    options: {
      complete: boolean;
      cap?: number;
      legacyTime?: Date;
      converted?: () => void;
    },
  ): Promise<OutputLog> {
    const log = new OutputLog(files, options.cap);
    if (await convertLegacyOutput(files, options.legacyTime ?? new Date())) {
      options.converted?.();
      log.#selfIndexed = !options.complete;
    }
    const text = await Deno.readTextFile(files.drops).catch(() => "");
    for (const line of text.split("\n")) {
      const [code, freed, start] = line.split(" ");
      const stream = STREAM[code];
      if (!stream) continue;
      log.#freed[stream] = Math.max(log.#freed[stream], Number(freed) || 0);
      log.#dropped[stream] = Math.max(
        log.#dropped[stream],
        Number(start) || Number(freed) || 0,
      );
    }
    log.refresh();
    if (options.complete) log.finish();
    return log;
  }

  /** Records in the index so far. */
  get count(): number {
    return this.#count;
  }

  /** True once the job's output is final. */
  get complete(): boolean {
    return this.#complete;
  }

  /** Bumped at every change; a reader that saw the end compares it before waiting. */
  get generation(): number {
    return this.#generation;
  }

  /** Where readers of each stream start: before it, the cap dropped the output. */
  get dropped(): Readonly<Record<StreamName, number>> {
    return this.#dropped;
  }

  /** The per-stream cap, and why it could not be enforced, if so. */
  get cap(): { bytes?: number; error?: string } {
    return { bytes: this.#cap, error: this.#capError };
  }

  /**
   * Bytes of disk the output takes, as far as the log knows: what each
   * stream holds past what the cap freed, and the index.
   */
  keptBytes(): number {
    return this.#ends.stdout - this.#freed.stdout + this.#ends.stderr -
      this.#freed.stderr + (this.#count + 1) * RECORD_BYTES;
  }

  /** Bytes written so far to each stream. */
  sizes(): Record<StreamName, number> {
    return { ...this.#ends };
  }

  /**
   * Up to `n` records from record `from`: those of a running job's last
   * stretch from memory, older ones from the index file.
   */
  records(from: number, n: number): OutputRecord[] {
    const first = this.#count - this.#window.length;
    if (from >= first) {
      return this.#window.slice(from - first, from - first + n);
    }
    return this.index.read(from, Math.min(n, this.#count - from));
  }

  /** Reads what the launcher added to the index (its last record may have grown); wakes readers. */
  refresh(): void {
    if (this.#complete) return;
    if (this.#selfIndexed) {
      this.#readIndex();
      this.#indexFiles();
    }
    if (!this.#readIndex()) return;
    this.#wake();
    this.#enforceCap("stdout");
    this.#enforceCap("stderr");
  }

  /** Takes in the index's new records; false if there were none. */
  #readIndex(): boolean {
    const count = this.index.count();
    if (count < this.#count) return false;
    const from = Math.max(0, this.#count - 1);
    const fresh = this.index.read(from, count - from);
    if (!fresh.length) return false;
    const known = this.#window.at(-1);
    if (
      from + fresh.length === this.#count && known &&
      known.length === fresh[fresh.length - 1].length
    ) return false;
    const first = this.#count - this.#window.length;
    this.#window.splice(from - first, this.#window.length, ...fresh);
    if (this.#window.length > WINDOW) {
      this.#window.splice(0, this.#window.length - WINDOW);
    }
    this.#count = from + fresh.length;
    this.#ends = endsAfter(fresh[fresh.length - 1]);
    return true;
  }

  /** Tells the log that one of its files changed (the watcher's report). */
  notify(file: "index" | StreamName): void {
    if (file === "index" || this.#selfIndexed) this.refresh();
  }

  /**
   * Why the job's output may be incomplete when the filesystem holding it is
   * full now (its launcher then dropped what it could not write), else
   * undefined.
   */
  diskFull(): string | undefined {
    try {
      if (freeBytes(this.files.stdout) >= FULL_BELOW) return undefined;
    } catch {
      return undefined;
    }
    return "output may be truncated: the server's disk for job output is full";
  }

  /** Wakes readers without news (e.g. after lost events). */
  poke(): void {
    this.refresh();
    this.#wake();
  }

  /** Marks the output final once the job's launcher is done with it. */
  finish(): void {
    if (this.#complete) return;
    this.refresh();
    this.#complete = true;
    this.#wake();
  }

  /** Resolves at the next change (or at once if complete); `signal` drops the wait. */
  changed(signal?: AbortSignal): Promise<void> {
    if (this.#complete || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * Brings each stream down to the cap, exactly (block-rounded): once the job
   * ended, so that what stays on disk is what the status says.
   */
  trimToCap(): void {
    if (this.#cap === undefined) return;
    this.refresh();
    for (const stream of ["stdout", "stderr"] as const) {
      if (!this.#capError) this.#trim(stream);
    }
  }

  /** Drops the oldest output of `stream` once it holds more than the cap (plus slack). */
  #enforceCap(stream: StreamName): void {
    if (this.#cap === undefined || this.#capError) return;
    if (this.#ends[stream] - this.#freed[stream] <= this.#cap * SLACK) return;
    const now = performance.now();
    if (now - this.#checked[stream] < CAP_CHECK_MS) return;
    this.#checked[stream] = now;
    this.#trim(stream);
  }

  /** Frees everything of `stream` before its last `cap` bytes. */
  #trim(stream: StreamName): void {
    const from = this.#freed[stream];
    const upTo = Math.floor((this.#ends[stream] - this.#cap!) / BLOCK) * BLOCK;
    if (upTo <= from) return;
    const start = this.#lineAfter(stream, upTo);
    // Readers move past the range before its blocks go (synchronously: no
    // read starts in between; one under way is cut when it returns).
    this.#dropped[stream] = Math.max(this.#dropped[stream], start);
    try {
      punchHole(this.files[stream], from, upTo - from);
    } catch (err) {
      this.#capError = `output cap not enforced: ${
        err instanceof Error ? err.message : err
      }`;
      return;
    }
    this.#freed[stream] = upTo;
    try {
      Deno.writeTextFileSync(
        this.files.drops,
        `${CODE[stream]} ${upTo} ${start}\n`,
        { append: true },
      );
    } catch {
      // Kept in memory; a restart without it starts readers at the freed
      // range's end instead of the next line.
    }
  }

  /** The first offset at or after `at` where a line of `stream` begins (`at` if none near). */
  #lineAfter(stream: StreamName, at: number): number {
    if (at === 0) return 0;
    try {
      using file = Deno.openSync(this.files[stream], { read: true });
      file.seekSync(at - 1, Deno.SeekMode.Start);
      const bytes = new Uint8Array(
        Math.min(LINE_SEARCH, this.#ends[stream] - at + 1),
      );
      const n = file.readSync(bytes) ?? 0;
      const nl = bytes.subarray(0, n).indexOf(10);
      return nl < 0 ? at : at + nl;
    } catch {
      return at;
    }
  }

  /** For a job of an older launcher: indexes what it wrote since the last look. */
  #indexFiles(): void {
    const ends = { ...this.#ends };
    const records: OutputRecord[] = [];
    for (const stream of ["stdout", "stderr"] as const) {
      let size: number;
      try {
        size = Deno.statSync(this.files[stream]).size;
      } catch {
        continue;
      }
      while (size > ends[stream]) {
        const length = Math.min(size - ends[stream], 2 ** 31);
        const record: OutputRecord = {
          time: BigInt(Date.now()) * 1_000_000n,
          outAt: ends.stdout,
          errAt: ends.stderr,
          length,
          stream,
        };
        records.push(record);
        ends[stream] = streamStart(record) + length;
      }
    }
    if (!records.length) return;
    try {
      this.index.append(records);
    } catch {
      // Disk full: indexed at the next look.
    }
  }

  #wake(): void {
    this.#generation++;
    for (const waiter of [...this.#waiters]) waiter();
  }
}
