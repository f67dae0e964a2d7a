import {
  type LogsResponse,
  OutputStream,
} from "../gen/jobworker/v1/jobworker_pb.ts";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { StreamChoice } from "./args.ts";
import { LinePrefixer } from "./line_prefixer.ts";
import type { Output } from "./output.ts";
import { formatRfc3339Nano } from "./rfc3339.ts";

/** How {@link copyLogs} renders. */
export interface CopyOptions {
  /**
   * Start every line with the time its first byte was read, in RFC 3339 UTC
   * with nanoseconds, and a space (`docker logs -t`).
   */
  timestamps?: boolean;
}

/**
 * Copies a job's output, byte for byte, as it arrives: the job's stderr to
 * our stderr when both streams are shown, everything else to our stdout.
 * Each chunk is written before the next is read, so a slow reader slows the
 * stream down instead of filling memory. Output the server's cap dropped is
 * noted on our stderr, never in the job's bytes.
 *
 * @example
 * ```ts
 * await copyLogs(client.logs({ jobId, follow: true }), "both", processOutput());
 * ```
 */
export async function copyLogs(
  chunks: AsyncIterable<LogsResponse>,
  choice: StreamChoice,
  output: Output,
  options: CopyOptions = {},
): Promise<void> {
  const lines = { out: new LinePrefixer(), err: new LinePrefixer() };
  for await (const chunk of chunks) {
    if (chunk.droppedBytes > 0n) {
      await output.err(
        `jw: ${chunk.droppedBytes} bytes of output dropped by the server's output cap\n`,
      );
    }
    if (chunk.data.length === 0) continue;
    const to = choice === "both" && chunk.stream === OutputStream.STDERR
      ? "err"
      : "out";
    const data = options.timestamps
      ? lines[to].prefix(chunk.data, `${formatRfc3339Nano(ns(chunk.time))} `)
      : chunk.data;
    await output[to](data);
  }
}

/** The chunk's time in ns; the epoch if a server sent none. */
function ns(time: Timestamp | undefined): bigint {
  return time ? time.seconds * 1_000_000_000n + BigInt(time.nanos) : 0n;
}
