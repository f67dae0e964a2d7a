import { createHash } from "node:crypto";
import { type OutputChunk, release } from "../lib/mod.ts";

/** What a reader saw: byte count, when it got the last byte, and optionally a digest. */
export interface Drained {
  bytes: number;
  /** performance.now() at the last chunk. */
  end: number;
  sha256?: string;
}

/**
 * Reads a follower to its end without keeping the data: counts bytes and,
 * with `hash`, feeds a SHA-256 incrementally. Each chunk is freed once read
 * (lib's `release`), as the server's Logs handler does once it is encoded.
 */
export async function drain(
  stream: ReadableStream<OutputChunk | { data: Uint8Array }>,
  hash = false,
): Promise<Drained> {
  const digest = hash ? createHash("sha256") : null;
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += chunk.data.length;
    digest?.update(chunk.data);
    release(chunk.data);
  }
  return { bytes, end: performance.now(), sha256: digest?.digest("hex") };
}
