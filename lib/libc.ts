/**
 * The few libc calls Deno has no API for (inotify, fallocate), through one
 * lazily opened `Deno.dlopen` of the C library.
 */
const SYMBOLS = {
  inotify_init1: { parameters: ["i32"], result: "i32" },
  inotify_add_watch: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  read: {
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  fallocate: { parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  statvfs: { parameters: ["buffer", "buffer"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** The C library's symbols used here. */
export function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

/** A NUL-terminated path for libc. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${text}\0`);
}

/** The message of the calling thread's errno (after a failed synchronous call). */
export function lastError(): string {
  const c = libc();
  const location = c.__errno_location();
  const errno = location ? new Deno.UnsafePointerView(location).getInt32() : 0;
  const message = c.strerror(errno);
  return message
    ? Deno.UnsafePointerView.getCString(message)
    : `errno ${errno}`;
}

/** Size in bytes of the filesystem of `path` (statvfs f_blocks × f_frsize). */
export function totalBytes(path: string): number {
  const buffer = new BigUint64Array(16);
  if (libc().statvfs(cString(path), new Uint8Array(buffer.buffer)) < 0) {
    throw new Error(`statvfs ${path}: ${lastError()}`);
  }
  return Number(buffer[2] * buffer[1]);
}

/** Bytes an unprivileged writer can still write on the filesystem of `path` (statvfs f_bavail × f_frsize). */
export function freeBytes(path: string): number {
  // struct statvfs on 64-bit Linux: f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, ...
  const buffer = new BigUint64Array(16);
  if (libc().statvfs(cString(path), new Uint8Array(buffer.buffer)) < 0) {
    throw new Error(`statvfs ${path}: ${lastError()}`);
  }
  return Number(buffer[4] * buffer[1]);
}
