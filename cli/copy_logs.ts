import {
  type LogsResponse,
  OutputStream,
} from "../gen/jobworker/v1/jobworker_pb.ts";
import type { StreamChoice } from "./args.ts";
import type { Output } from "./output.ts";

/**
 * Copies a job's output, byte for byte, as it arrives: the job's stderr to
 * our stderr when both streams are shown, everything else to our stdout.
 * Each chunk is written before the next is read, so a slow reader slows the
 * stream down instead of filling memory.
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
): Promise<void> {
  for await (const chunk of chunks) {
    if (chunk.data.length === 0) continue;
    if (choice === "both" && chunk.stream === OutputStream.STDERR) {
      await output.err(chunk.data);
    } else {
      await output.out(chunk.data);
    }
  }
}
