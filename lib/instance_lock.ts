import { JobError } from "./errors.ts";
import { cString, lastError, libc } from "./libc.ts";

const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_CLOEXEC = 0o2000000;
const LOCK_EX = 2;
const LOCK_NB = 4;

/**
 * An exclusive lock held for a server's life (flock(2) on `path`, which
 * then holds the holder's PID): a second server on the same data directory
 * or instance name would adopt the first's jobs, or remove its cgroups.
 * The kernel drops the lock when the process dies, so a crash leaves no
 * stale lock.
 */
export class InstanceLock implements Disposable {
  readonly #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Takes the lock on `path` (made if missing), or throws
   * `failed_precondition` naming `what` and the holder's PID.
   */
  static take(path: string, what: string): InstanceLock {
    const c = libc();
    const fd = c.open(cString(path), O_RDWR | O_CREAT | O_CLOEXEC, 0o600);
    if (fd < 0) {
      throw new JobError(
        "failed_precondition",
        `cannot open the lock ${path}: ${lastError()}`,
      );
    }
    if (c.flock(fd, LOCK_EX | LOCK_NB) < 0) {
      const holder = Deno.readTextFileSync(path).trim();
      c.close(fd);
      throw new JobError(
        "failed_precondition",
        `${what} is in use by ${holder ? `pid ${holder}` : "another server"}`,
      );
    }
    Deno.writeTextFileSync(path, `${Deno.pid}\n`);
    return new InstanceLock(fd);
  }

  /** Lets the lock go (also done by the kernel at exit). */
  release(): void {
    libc().close(this.#fd);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
