import { cString, lastError, libc } from "./libc.ts";

const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_CLOEXEC = 0o2000000;

/**
 * Disk space kept aside so that the records that matter can still be
 * written when the disk is full: a file of allocated blocks (fallocate(2)),
 * given up when a save fails for want of space, taken again once there is
 * room. A job that ended while another filled the disk then still has its
 * final state on disk.
 */
export class DiskReserve {
  readonly path: string;
  readonly bytes: number;

  constructor(path: string, bytes: number) {
    this.path = path;
    this.bytes = bytes;
  }

  /** Makes the reserve whole if it is not; false when there is no room. */
  fill(): boolean {
    try {
      const { blocks, size } = Deno.statSync(this.path);
      if (size >= this.bytes && (blocks ?? 0) * 512 >= this.bytes) return true;
    } catch {
      // not there: make it
    }
    const c = libc();
    const fd = c.open(
      cString(this.path),
      O_WRONLY | O_CREAT | O_CLOEXEC,
      0o600,
    );
    if (fd < 0) return false;
    try {
      return c.fallocate(fd, 0, 0n, BigInt(this.bytes)) === 0;
    } finally {
      c.close(fd);
    }
  }

  /** Gives the space back to the filesystem; false when there was none kept. */
  release(): boolean {
    try {
      Deno.removeSync(this.path);
      return true;
    } catch {
      return false;
    }
  }

  /** The OS reason of the last failure (for logs). */
  static lastError(): string {
    return lastError();
  }
}
