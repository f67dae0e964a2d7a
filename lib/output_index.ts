import type { StreamName } from "./job_info.ts";

/** Bytes of one index record, and of the header before the first. */
export const RECORD_BYTES = 32;
const MAGIC = new TextEncoder().encode("JWLOGIX1");

const STREAM_CODE: Record<StreamName, number> = { stdout: 1, stderr: 2 };
const CODE_STREAM: Record<number, StreamName> = { 1: "stdout", 2: "stderr" };

/**
 * One piece of a job's output as its launcher read it (lib/init/output.c has
 * the layout): `length` bytes of `stream`, read at `time` (ns since the
 * epoch, never decreasing along the index), after `outAt` bytes of stdout
 * and `errAt` of stderr. In the combined view the piece starts at
 * `outAt + errAt`; in its stream, at its stream's own count.
 */
export interface OutputRecord {
  time: bigint;
  outAt: number;
  errAt: number;
  length: number;
  stream: StreamName;
}

/** Where `record` starts: in the combined view (no stream), or in `stream`. */
export function viewStart(record: OutputRecord, stream?: StreamName): number {
  if (stream === "stdout") return record.outAt;
  if (stream === "stderr") return record.errAt;
  return record.outAt + record.errAt;
}

/** Where `record` starts within its own stream's file. */
export function streamStart(record: OutputRecord): number {
  return record.stream === "stdout" ? record.outAt : record.errAt;
}

/** Bytes of each stream once `record` is written. */
export function endsAfter(record: OutputRecord): Record<StreamName, number> {
  return {
    stdout: record.outAt + (record.stream === "stdout" ? record.length : 0),
    stderr: record.errAt + (record.stream === "stderr" ? record.length : 0),
  };
}

/** The index header (magic and record size). */
export function encodeHeader(): Uint8Array {
  const header = new Uint8Array(RECORD_BYTES);
  header.set(MAGIC);
  new DataView(header.buffer).setUint32(8, RECORD_BYTES, true);
  return header;
}

export function encodeRecords(records: readonly OutputRecord[]): Uint8Array {
  const bytes = new Uint8Array(records.length * RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  records.forEach((r, i) => {
    const at = i * RECORD_BYTES;
    view.setBigUint64(at, r.time, true);
    view.setBigUint64(at + 8, BigInt(r.outAt), true);
    view.setBigUint64(at + 16, BigInt(r.errAt), true);
    view.setUint32(at + 24, r.length, true);
    view.setUint8(at + 28, STREAM_CODE[r.stream]);
  });
  return bytes;
}

/** Decodes whole records from `bytes`; a malformed one ends the list. */
export function decodeRecords(bytes: Uint8Array): OutputRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: OutputRecord[] = [];
  for (let at = 0; at + RECORD_BYTES <= bytes.length; at += RECORD_BYTES) {
    const stream = CODE_STREAM[view.getUint8(at + 28)];
    if (!stream) break;
    records.push({
      time: view.getBigUint64(at, true),
      outAt: Number(view.getBigUint64(at + 8, true)),
      errAt: Number(view.getBigUint64(at + 16, true)),
      length: view.getUint32(at + 24, true),
      stream,
    });
  }
  return records;
}

/**
 * Reads a job's output index. Reads are synchronous and short (an index is
 * a few hundred bytes per second of output, served from the page cache),
 * so no reader can see the file between two parts of another's read; the
 * file is opened per read, so an idle log holds no descriptor.
 */
export class IndexFile {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** Records in the file now (a record still being written is not counted). */
  count(): number {
    try {
      const size = Deno.statSync(this.path).size;
      return Math.max(0, Math.floor(size / RECORD_BYTES) - 1);
    } catch {
      return 0;
    }
  }

  /** Up to `n` records from record `from` (fewer at the end of the file). */
  read(from: number, n: number): OutputRecord[] {
    if (n <= 0) return [];
    const file = this.#open();
    if (!file) return [];
    try {
      return readRecords(file, from, n);
    } finally {
      file.close();
    }
  }

  /**
   * The first record index in [0, count) for which `after` holds, `count`
   * if none does; `after` must be false, then true, along the index (time,
   * or a view's start, only grow).
   */
  search(count: number, after: (record: OutputRecord) => boolean): number {
    let lo = 0;
    let hi = count;
    if (lo >= hi) return lo;
    const file = this.#open();
    if (!file) return lo;
    try {
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        const [record] = readRecords(file, mid, 1);
        if (record && !after(record)) lo = mid + 1;
        else hi = mid;
      }
    } finally {
      file.close();
    }
    return lo;
  }

  #open(): Deno.FsFile | undefined {
    try {
      return Deno.openSync(this.path, { read: true });
    } catch {
      return undefined;
    }
  }

  /** Writes a fresh index holding `records` (a converted older log). */
  static create(path: string, records: readonly OutputRecord[]): void {
    const header = encodeHeader();
    const body = encodeRecords(records);
    const bytes = new Uint8Array(header.length + body.length);
    bytes.set(header);
    bytes.set(body, header.length);
    Deno.writeFileSync(path, bytes, { mode: 0o640 });
  }

  /** Appends `records` (a log the server indexes itself). */
  append(records: readonly OutputRecord[]): void {
    Deno.writeFileSync(this.path, encodeRecords(records), { append: true });
  }
}

function readRecords(
  file: Deno.FsFile,
  from: number,
  n: number,
): OutputRecord[] {
  file.seekSync((from + 1) * RECORD_BYTES, Deno.SeekMode.Start);
  const bytes = new Uint8Array(n * RECORD_BYTES);
  let got = 0;
  while (got < bytes.length) {
    const r = file.readSync(bytes.subarray(got));
    if (!r) break;
    got += r;
  }
  return decodeRecords(bytes.subarray(0, got - got % RECORD_BYTES));
}
