import type { StreamName } from "./job_info.ts";
import { IndexFile, type OutputRecord } from "./output_index.ts";
import type { OutputFiles } from "./output_log.ts";

const STREAM: Record<string, StreamName> = { o: "stdout", e: "stderr" };
/** An index record's length is 32 bits. */
const MAX_LENGTH = 2 ** 31;

/**
 * Converts the output of a job written before the index (versions up to
 * 0.21: the job wrote its two files itself and the server kept the order
 * of the streams' turns in a segments file, `o|e END` per turn and `d o|e
 * N` per cap drop) into today's layout: an index with one record per turn,
 * each given `time` (the old layout kept none), and a drops file. Returns
 * false when there is nothing to convert (an index exists, or no output).
 */
export async function convertLegacyOutput(
  files: OutputFiles,
  time: Date,
): Promise<boolean> {
  if (await exists(files.index)) return false;
  const text = await Deno.readTextFile(files.segments).catch(() => null);
  if (text === null && !await exists(files.stdout)) return false;
  const ns = BigInt(time.getTime()) * 1_000_000n;
  const ends: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  const records: OutputRecord[] = [];
  const drops: string[] = [];
  const turn = (stream: StreamName, end: number) => {
    while (end > ends[stream]) {
      const length = Math.min(end - ends[stream], MAX_LENGTH);
      records.push({
        time: ns,
        outAt: ends.stdout,
        errAt: ends.stderr,
        length,
        stream,
      });
      ends[stream] += length;
    }
  };
  for (const line of (text ?? "").split("\n")) {
    const [code, a, b] = line.split(" ");
    if (code === "d" && STREAM[a] && Number(b) > 0) {
      drops.push(`${a} ${Number(b)} ${Number(b)}\n`);
    } else if (STREAM[code] && Number(a) > 0) turn(STREAM[code], Number(a));
  }
  // What was written after the last recorded turn.
  for (const stream of ["stdout", "stderr"] as const) {
    turn(stream, await Deno.stat(files[stream]).then((s) => s.size, () => 0));
  }
  await Deno.writeTextFile(files.drops, drops.join(""), { mode: 0o640 });
  IndexFile.create(files.index, records);
  await Deno.remove(files.segments).catch(() => {});
  return true;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}
