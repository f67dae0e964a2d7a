import { cString, lastError, libc } from "./libc.ts";

const O_WRONLY = 0o1;
const O_CLOEXEC = 0o2000000;
const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;

/**
 * Frees the disk blocks of `length` bytes at `offset` of `path` without
 * changing its size or the offsets after it (fallocate(2) with
 * FALLOC_FL_PUNCH_HOLE; Deno has no fallocate). Reads of the range then
 * return zeros. Throws with the OS reason when the filesystem cannot do it.
 */
export function punchHole(path: string, offset: number, length: number): void {
  const c = libc();
  const fd = c.open(cString(path), O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0) throw new Error(`open ${path}: ${lastError()}`);
  try {
    const mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    if (c.fallocate(fd, mode, BigInt(offset), BigInt(length)) < 0) {
      throw new Error(`punch hole in ${path}: ${lastError()}`);
    }
  } finally {
    c.close(fd);
  }
}
