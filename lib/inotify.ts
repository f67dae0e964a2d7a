import { cString, lastError, libc } from "./libc.ts";

/** inotify event bits (linux/inotify.h). */
export const IN_MODIFY = 0x002;
export const IN_CLOSE_WRITE = 0x008;
export const IN_MOVED_TO = 0x080;
export const IN_CREATE = 0x100;
export const IN_Q_OVERFLOW = 0x4000;
const IN_CLOEXEC = 0o2000000;

/** How long the watcher lets events gather between reads: consecutive
 * IN_MODIFY events of one file merge in the kernel meanwhile, so a job doing
 * 100,000 small writes costs a few hundred events, not 100,000. */
const BATCH_MS = 5;
const WAKE_FILE = ".wake";

/**
 * One inotify watch on one directory, read directly (Deno.dlopen of libc)
 * rather than through `Deno.watchFs`, whose watcher thread drains every event
 * the moment it is queued and then resolves and stats each path: for a job
 * writing 8 KiB at a time that was a third of a core and made the writer
 * itself 2-3x slower. Here events are read in batches, names only.
 *
 * @example
 * ```ts
 * const watcher = new DirectoryWatcher("/var/lib/jobworker/logs", (name, mask) => console.log(name, mask));
 * await watcher.close();
 * ```
 */
export class DirectoryWatcher {
  readonly #dir: string;
  readonly #fd: number;
  readonly #done: Promise<void>;
  #closed = false;

  /** Watches `dir` for `mask` events; `onEvent` gets each file name (empty on overflow). */
  constructor(
    dir: string,
    onEvent: (name: string, mask: number) => void,
    mask = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE,
  ) {
    const c = libc();
    this.#dir = dir;
    const fd = c.inotify_init1(IN_CLOEXEC);
    if (fd < 0) throw new Error(`inotify_init1 for ${dir}: ${lastError()}`);
    if (c.inotify_add_watch(fd, cString(dir), mask) < 0) {
      const why = lastError();
      c.close(fd);
      throw new Error(`inotify_add_watch ${dir}: ${why}`);
    }
    this.#fd = fd;
    this.#done = this.#run(onEvent);
  }

  /** Stops watching; resolves once the reader has stopped. */
  async close(): Promise<void> {
    if (this.#closed) return await this.#done;
    this.#closed = true;
    // Wakes a read that is waiting for events.
    await Deno.writeFile(`${this.#dir}/${WAKE_FILE}`, new Uint8Array()).catch(
      () => {},
    );
    await this.#done;
    await Deno.remove(`${this.#dir}/${WAKE_FILE}`).catch(() => {});
  }

  async #run(onEvent: (name: string, mask: number) => void): Promise<void> {
    const c = libc();
    const buffer = new Uint8Array(64 * 1024);
    const view = new DataView(buffer.buffer);
    const decoder = new TextDecoder();
    try {
      while (!this.#closed) {
        const n = Number(
          await c.read(this.#fd, buffer, BigInt(buffer.length)),
        );
        if (n <= 0 || this.#closed) break;
        for (let at = 0; at + 16 <= n;) {
          const mask = view.getUint32(at + 4, true);
          const length = view.getUint32(at + 12, true);
          const raw = buffer.subarray(at + 16, at + 16 + length);
          const end = raw.indexOf(0);
          const name = decoder.decode(end < 0 ? raw : raw.subarray(0, end));
          at += 16 + length;
          if (name !== WAKE_FILE) onEvent(name, mask);
        }
        await new Promise((resolve) => setTimeout(resolve, BATCH_MS));
      }
    } finally {
      c.close(this.#fd);
    }
  }
}
