import type { StreamName } from "./job_info.ts";
import { hold, release } from "./release.ts";

/** Reads kept per log for followers that come for the same bytes. */
const KEPT = 8;

/**
 * One read of a job's output for all the followers that want the bytes at
 * the same place: followers of a live job are woken together at the same
 * offset, and readers of a finished one move in near lockstep, so without
 * this each of N followers would read and copy every chunk itself.
 *
 * Output files only grow (bytes at an offset never change; what the output
 * cap drops is cut by the follower after the read), so a read can be
 * handed on as it is. The last {@link KEPT} reads are kept while any
 * follower is open; a read that found nothing or failed is not kept. Each
 * handed-out chunk counts as a holder ({@link hold}), so a consumer's
 * `release()` frees it only once no one else has it.
 */
export class SharedReads {
  readonly #reads = new Map<string, Promise<Uint8Array | null>>();
  #open = 0;

  /** A follower starts reading. */
  attach(): void {
    this.#open++;
  }

  /** A follower is done; the last one drops what is kept. */
  detach(): void {
    if (--this.#open > 0) return;
    this.#open = 0;
    for (const key of [...this.#reads.keys()]) this.#drop(key);
  }

  /**
   * The bytes of `stream` at `offset`: those a read under way or kept
   * found, else what `read()` (the caller's own read) finds. The chunk may
   * be longer or shorter than the caller's read would have been; it is
   * shared, so no one may modify it, and each caller releases it at most
   * once.
   */
  async read(
    stream: StreamName,
    offset: number,
    read: () => Promise<Uint8Array | null>,
  ): Promise<Uint8Array | null> {
    const key = `${stream}:${offset}`;
    let found = this.#reads.get(key);
    const mine = !found;
    if (!found) {
      found = read();
      this.#reads.set(key, found);
      found.then(
        (data) => data === null && this.#forget(key, found!),
        () => this.#forget(key, found!),
      );
      while (this.#reads.size > KEPT) {
        this.#drop(this.#reads.keys().next().value!);
      }
    }
    let data: Uint8Array | null;
    try {
      data = await found;
    } catch (err) {
      // Another follower's read failed (say, it was cancelled and closed
      // its file): that says nothing about this one's.
      if (mine) throw err;
      return await read();
    }
    // Nothing there yet, the follower that read was cancelled, or the chunk
    // was freed (a consumer released it more than once): read for ourselves.
    if (!mine && (data === null || data.byteLength === 0)) return await read();
    if (data) hold(data);
    return data;
  }

  #forget(key: string, read: Promise<Uint8Array | null>): void {
    if (this.#reads.get(key) === read) this.#reads.delete(key);
  }

  /** Stops keeping a read: its own hold on the chunk is released. */
  #drop(key: string): void {
    const read = this.#reads.get(key);
    this.#reads.delete(key);
    read?.then((data) => data && release(data), () => {});
  }
}
