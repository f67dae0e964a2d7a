import type { StreamName } from "./job_info.ts";
import { freeBytes } from "./libc.ts";
import { punchHole } from "./punch_hole.ts";
import { SharedReads } from "./shared_reads.ts";

/** Block size to which dropped ranges are rounded (holes are punched per block). */
const BLOCK = 4096;
/** The cap is enforced when a stream holds this much more than it. */
const SLACK = 1.25;
/** Below this much free space the output's filesystem counts as full. */
const FULL_BELOW = 64 * 1024;
/** At most one size check per stream in this many ms while a job writes. */
const CAP_CHECK_MS = 50;

/** Where one job's output lives on disk. */
export interface OutputFiles {
  stdout: string;
  stderr: string;
  /** The order of the two streams in the combined view (see {@link OutputLog}). */
  segments: string;
}

/** A closed stretch of the combined view: `stream` up to byte `end`. */
export interface Segment {
  stream: StreamName;
  end: number;
}

const CODE: Record<StreamName, string> = { stdout: "o", stderr: "e" };
const STREAM: Record<string, StreamName> = { o: "stdout", e: "stderr" };

/**
 * One job's output: two files the job writes itself (the kernel appends to
 * them, so the job never waits for the server or a reader), and the order in
 * which the streams took turns, for the combined view.
 *
 * The server learns of new output through {@link notify} (fed by a
 * `LogWatcher`). When the writing stream changes, the stretch of the previous
 * stream is closed at that stream's size and recorded as a {@link Segment},
 * in memory and in the segments file, so the combined view reads the same
 * live, after the job ended, and after a restart. Within one stream, order is
 * exact; across streams it is the order in which the server saw them.
 *
 * Readers ({@link openFollower}) wait on {@link changed} instead of polling.
 */
export class OutputLog {
  readonly files: OutputFiles;
  /** Reads its followers share. */
  readonly reads: SharedReads = new SharedReads();
  #segments: Segment[] = [];
  #ends: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  #open: StreamName | null = null;
  #complete = false;
  #generation = 0;
  #waiters = new Set<() => void>();
  #cap: number | undefined;
  #dropped: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  #checked: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  #capError: string | undefined;
  #sized: { generation: number; sizes: Record<StreamName, number> } | undefined;

  private constructor(files: OutputFiles, cap?: number) {
    this.files = files;
    this.#cap = cap;
  }

  /**
   * Creates empty output files for a job about to start. With `cap`, each
   * stream keeps at most about `cap` bytes on disk: older output is dropped
   * (its blocks freed; offsets stay valid) while the job keeps running.
   */
  static async create(files: OutputFiles, cap?: number): Promise<OutputLog> {
    for (const path of [files.stdout, files.stderr, files.segments]) {
      await Deno.writeFile(path, new Uint8Array(), {
        mode: 0o640,
        createNew: true,
      });
    }
    return new OutputLog(files, cap);
  }

  /**
   * Opens the output of a job an earlier server started: reads the recorded
   * order; `complete` closes what is left (the job is over), otherwise the log
   * goes on following a job that still runs.
   */
  static async open(
    files: OutputFiles,
    options: { complete: boolean; cap?: number },
  ): Promise<OutputLog> {
    const log = new OutputLog(files, options.cap);
    const text = await Deno.readTextFile(files.segments).catch(() => "");
    for (const line of text.split("\n")) {
      const [code, end, dropped] = line.split(" ");
      if (code === "d" && STREAM[end]) {
        log.#dropped[STREAM[end]] = Math.max(
          log.#dropped[STREAM[end]],
          Number(dropped) || 0,
        );
        continue;
      }
      const stream = STREAM[code];
      if (stream && Number(end) > log.#ends[stream]) {
        log.#segments.push({ stream, end: Number(end) });
        log.#ends[stream] = Number(end);
      }
    }
    if (options.complete) log.finish();
    else log.sync();
    return log;
  }

  /** Closed stretches of the combined view, in order. Grows; never changes. */
  get segments(): readonly Segment[] {
    return this.#segments;
  }

  /** The stream being written since the last closed segment, if any. */
  get open(): StreamName | null {
    return this.#open;
  }

  /** True once the job's output is final. */
  get complete(): boolean {
    return this.#complete;
  }

  /** Bumped at every change; a reader that saw EOF compares it before waiting. */
  get generation(): number {
    return this.#generation;
  }

  /** Bytes dropped from the start of each stream by the cap (reads begin after them). */
  get dropped(): Readonly<Record<StreamName, number>> {
    return this.#dropped;
  }

  /** The per-stream cap, and why it could not be enforced, if so. */
  get cap(): { bytes?: number; error?: string } {
    return { bytes: this.#cap, error: this.#capError };
  }

  /** Bytes written so far to each stream (read from disk only when something changed). */
  sizes(): Record<StreamName, number> {
    if (this.#sized?.generation !== this.#generation) {
      const sizes = {
        stdout: this.#size("stdout"),
        stderr: this.#size("stderr"),
      };
      this.#sized = { generation: this.#generation, sizes };
    }
    return { ...this.#sized.sizes };
  }

  /** Tells the log that `stream` grew; wakes readers. */
  notify(stream: StreamName): void {
    if (this.#complete) return;
    if (this.#open !== stream) {
      if (this.#open) this.#close(this.#open);
      this.#open = stream;
    }
    this.#wake();
    this.#enforceCap(stream);
  }

  /**
   * Catches up with output the watcher has not reported yet (a reader that
   * opens now sees everything written so far).
   */
  sync(): void {
    if (this.#complete) return;
    for (const stream of ["stdout", "stderr"] as const) {
      if (stream !== this.#open && this.#size(stream) > this.#ends[stream]) {
        this.notify(stream);
      }
    }
  }

  /**
   * Why the job's output may be incomplete when the filesystem holding it is
   * full now (the job's own writes then failed with ENOSPC), else undefined.
   */
  diskFull(): string | undefined {
    try {
      if (freeBytes(this.files.stdout) >= FULL_BELOW) return undefined;
    } catch {
      return undefined;
    }
    return "output may be truncated: the server's disk for job output is full";
  }

  /** Wakes readers without saying which stream changed (e.g. after lost events). */
  poke(): void {
    this.#wake();
  }

  /** Marks the output final once the job and all its processes are gone. */
  finish(): void {
    if (this.#complete) return;
    const first = this.#open ?? "stdout";
    this.#close(first);
    this.#close(first === "stdout" ? "stderr" : "stdout");
    this.#open = null;
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

  #size(stream: StreamName): number {
    try {
      return Deno.statSync(this.files[stream]).size;
    } catch {
      return this.#ends[stream];
    }
  }

  /** Records `stream`'s stretch up to its current size, synchronously, so no reader can be ahead of it. */
  #close(stream: StreamName): void {
    const end = this.#size(stream);
    if (end <= this.#ends[stream]) return;
    this.#ends[stream] = end;
    this.#segments.push({ stream, end });
    this.#record(`${CODE[stream]} ${end}`);
  }

  /** Drops the oldest output of `stream` once it holds more than the cap (plus slack). */
  #enforceCap(stream: StreamName): void {
    if (this.#cap === undefined || this.#capError) return;
    const now = performance.now();
    if (now - this.#checked[stream] < CAP_CHECK_MS) return;
    this.#checked[stream] = now;
    if (this.#size(stream) - this.#dropped[stream] > this.#cap * SLACK) {
      this.#trim(stream);
    }
  }

  /**
   * Brings each stream down to the cap, exactly (block-rounded): once the job
   * ended, so that what stays on disk is what the status says.
   */
  trimToCap(): void {
    if (this.#cap === undefined) return;
    for (const stream of ["stdout", "stderr"] as const) {
      if (!this.#capError) this.#trim(stream);
    }
  }

  /** Punches out everything of `stream` before its last `cap` bytes. */
  #trim(stream: StreamName): void {
    const from = this.#dropped[stream];
    const upTo = Math.floor((this.#size(stream) - this.#cap!) / BLOCK) * BLOCK;
    if (upTo <= from) return;
    try {
      punchHole(this.files[stream], from, upTo - from);
    } catch (err) {
      this.#capError = `output cap not enforced: ${
        err instanceof Error ? err.message : err
      }`;
      return;
    }
    // Synchronous: no reader ran between the punch and this line, and a read
    // that was under way is cut at the new start when it returns.
    this.#dropped[stream] = upTo;
    this.#record(`d ${CODE[stream]} ${upTo}`);
  }

  #record(line: string): void {
    try {
      Deno.writeTextFileSync(this.files.segments, `${line}\n`, {
        append: true,
      });
    } catch {
      // The order is kept in memory; on disk it is a best effort (disk full).
    }
  }

  #wake(): void {
    this.#generation++;
    for (const waiter of [...this.#waiters]) waiter();
  }
}
