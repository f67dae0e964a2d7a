/**
 * Benchmark 2b: queries on a finished job's log, in-process through the
 * runtime: `tail: 10` and `since` (a time in the middle of the log) on a
 * 1 GiB log of short lines, against the same queries on a 10 MiB log of the
 * same lines, interleaved in one run. Timed from `job.output()` to the whole
 * answer (for `since`, whose answer is half the log, to its first chunk and
 * its first MiB; the whole of it a few times, for its throughput).
 *
 * @module
 */
import type { Job, OutputOptions } from "../lib/mod.ts";
import { release } from "../lib/mod.ts";
import { IndexFile } from "../lib/output_index.ts";
import { openBenchRuntime } from "./_bench_runtime.ts";
import {
  type BenchContext,
  type Figure,
  ratio,
  type Section,
} from "./_report.ts";
import {
  GiB,
  MiB,
  mibPerSecond,
  ms,
  p50p95,
  summarize,
  type Summary,
} from "./_stats.ts";

/** 32 bytes: both sizes hold whole lines, so the last line ends with "\n". */
const LINE = "some line of text in the log...\n";
const BIG = GiB;
const SMALL = 10 * MiB;
const RUNS = 20;
const WARM_UP = 2;
const TAIL = 10;
/** How much of the `since` answer the bounded query waits for. */
const PREFIX = MiB;
/** Runs of the query that reads all of `since`'s answer (half the log). */
const WHOLE_RUNS = 3;
const GOAL_MS = 50;
const MEMORY = 2 * GiB;

/** One query, and what its answer must be. */
interface Query {
  name: string;
  options: (log: Log) => OutputOptions;
  /** Bytes after which the reader is cancelled (1: the first chunk); default all. */
  limit?: number;
  /** Keep the answer as text (a short one). */
  text?: boolean;
  /** Runs, if not {@link RUNS} (then without warm-up), and whether it has the goal. */
  runs?: number;
  check: (log: Log, answer: Answer) => void;
}

/** A finished job's log, with the times the queries use. */
interface Log {
  size: number;
  job: Job;
  /** The time halfway between the first and the last record's. */
  middle: bigint;
  /** Where the answer to `since: middle` starts (the first record read at or after it). */
  middleAt: number;
  records: number;
  indexBytes: number;
}

/** What a query's reader got. */
interface Answer {
  bytes: number;
  /** Where the first chunk starts in the combined view, and its time. */
  position?: number;
  time?: bigint;
  text?: string;
}

const QUERIES: Query[] = [
  {
    name: `tail: ${TAIL} → whole answer`,
    options: () => ({ tail: TAIL }),
    text: true,
    check: (_log, answer) => {
      if (answer.text !== LINE.repeat(TAIL)) {
        throw new Error(`tail answered ${JSON.stringify(answer.text)}`);
      }
    },
  },
  {
    name: "since (middle) → first chunk",
    options: (log) => ({ since: log.middle }),
    limit: 1,
    check: checkSince,
  },
  {
    name: `since (middle) → first ${PREFIX / MiB} MiB`,
    options: (log) => ({ since: log.middle }),
    limit: PREFIX,
    check: (log, answer) => {
      checkSince(log, answer);
      if (answer.bytes < PREFIX) throw new Error(`got ${answer.bytes} bytes`);
    },
  },
  {
    name: "since (middle) → whole answer (the second half)",
    options: (log) => ({ since: log.middle }),
    runs: WHOLE_RUNS,
    check: (log, answer) => {
      checkSince(log, answer);
      if (answer.bytes !== log.size - log.middleAt) {
        throw new Error(`got ${answer.bytes} bytes from ${log.middleAt}`);
      }
    },
  },
];

function checkSince(log: Log, answer: Answer): void {
  if (answer.position !== log.middleAt || answer.time! < log.middle) {
    throw new Error(`since answered from ${answer.position} (${answer.time})`);
  }
}

/** Runs a query once: ms from opening the follower to (its part of) the answer. */
async function ask(
  log: Log,
  query: Query,
): Promise<{ ms: number; bytes: number }> {
  const limit = query.limit ?? Infinity;
  const t0 = performance.now();
  const stream = log.job.output({ ...query.options(log), follow: false });
  const answer: Answer = { bytes: 0 };
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) {
    if (answer.bytes === 0) {
      answer.position = chunk.position;
      answer.time = chunk.time;
    }
    answer.bytes += chunk.data.length;
    if (query.text) parts.push(chunk.data);
    else release(chunk.data);
    // Leaving the loop cancels the reader (its files are closed).
    if (answer.bytes >= limit) break;
  }
  const elapsed = performance.now() - t0;
  if (query.text) {
    answer.text = new TextDecoder().decode(concat(parts));
    for (const part of parts) release(part);
  }
  query.check(log, answer);
  return { ms: elapsed, bytes: answer.bytes };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Runs the log-queries benchmark. */
export async function logQueries(
  ctx: BenchContext,
): Promise<Omit<Section, "id" | "seconds">> {
  await using bench = await openBenchRuntime(ctx);
  const { runtime } = bench;
  const logs: Log[] = [];
  try {
    for (const size of [BIG, SMALL]) {
      if (size % LINE.length) throw new Error(`${size} bytes end mid-line`);
      const t0 = performance.now();
      const job = await runtime.start({
        owner: "bench",
        command: "sh",
        args: ["-c", `yes '${LINE.slice(0, -1)}' | head -c ${size}`],
        limits: { memoryBytes: MEMORY },
      }, { customLimits: true });
      const info = await job.done;
      if (info.exitCode !== 0 || info.stdoutBytes !== size) {
        throw new Error(`job ended ${info.state} with ${info.stdoutBytes}`);
      }
      const index = new IndexFile(`${bench.dataDir}/logs/${job.id}.idx`);
      const records = index.read(0, index.count());
      const middle = (records[0].time + records.at(-1)!.time) / 2n;
      const at = records.find((r) => r.time >= middle)!;
      logs.push({
        size,
        job,
        middle,
        middleAt: at.outAt + at.errAt,
        records: records.length,
        indexBytes: (await Deno.stat(index.path)).size,
      });
      console.error(
        `  log_queries: ${size} bytes written in ${
          ms(performance.now() - t0)
        } ms, ${records.length} records`,
      );
    }
    const [big, small] = logs;
    // Interleaved: each run asks every query of both logs, in turn.
    const times = new Map<string, number[]>();
    for (let run = 0; run < WARM_UP + RUNS; run++) {
      if (performance.now() > ctx.deadline) break;
      for (const query of QUERIES) {
        if (query.runs && (run < WARM_UP || run >= WARM_UP + query.runs)) {
          continue;
        }
        for (const log of logs) {
          const got = await ask(log, query);
          if (run < WARM_UP) continue;
          const key = `${query.name} ${log.size}`;
          times.set(key, [...times.get(key) ?? [], got.ms]);
        }
      }
    }
    const of = (query: Query, log: Log): Summary =>
      summarize(times.get(`${query.name} ${log.size}`) ?? []);
    const timed = QUERIES.filter((query) => !query.runs);
    const figures: Figure[] = timed.map((query) => {
      const b = of(query, big);
      const s = of(query, small);
      return {
        name: `${query.name}, p50 / p95 of ${b.n}`,
        value: `1 GiB log: ${p50p95(b)}`,
        baseline: `10 MiB log: ${p50p95(s)}`,
        ratio: `${ratio(b.p50, s.p50)} / ${ratio(b.p95, s.p95)}`,
        goal: `p95 ≤ ${GOAL_MS} ms`,
        met: b.p95 <= GOAL_MS,
      };
    });
    for (const query of QUERIES.filter((query) => query.runs)) {
      const b = of(query, big).p50;
      const s = of(query, small).p50;
      figures.push({
        name: `${query.name}, median of ${of(query, big).n}`,
        value: `1 GiB log: ${ms(b)} ms for ${
          ((big.size - big.middleAt) / MiB).toFixed(0)
        } MiB (${mibPerSecond(big.size - big.middleAt, b)})`,
        baseline: `10 MiB log: ${ms(s)} ms for ${
          ((small.size - small.middleAt) / MiB).toFixed(1)
        } MiB (${mibPerSecond(small.size - small.middleAt, s)})`,
        ratio: ratio(b, s),
      });
    }
    figures.push({
      name: "index file",
      value: `1 GiB log: ${
        (big.indexBytes / 1024).toFixed(1)
      } KiB (${big.records} records, ${
        (big.size / big.records / MiB).toFixed(2)
      } MiB each)`,
      baseline: `10 MiB log: ${
        (small.indexBytes / 1024).toFixed(1)
      } KiB (${small.records} records)`,
      ratio: ratio(big.indexBytes, small.indexBytes),
    });
    const spread = QUERIES.map((query) => {
      const b = of(query, big);
      const s = of(query, small);
      return `${query.name}: 1 GiB ${ms(b.min)}–${ms(b.max)}, 10 MiB ${
        ms(s.min)
      }–${ms(s.max)}`;
    });
    const met = figures.filter((f) => f.goal).every((f) => f.met);
    const worst = Math.max(
      ...timed.map((query) => of(query, big).p50 / of(query, small).p50),
    );
    return {
      title: "Log queries on a finished job",
      setup: [
        `Logs: \`sh -c "yes '${
          LINE.slice(0, -1)
        }' | head -c <size>"\` through runtime.start() (memoryBytes ${
          MEMORY / GiB
        } GiB), ${BIG / GiB} GiB and ${
          SMALL / MiB
        } MiB of ${LINE.length}-byte lines, both finished before the first query; their files are in the page cache (warm reads), and the runtime that ran them serves the queries.`,
        `Queries: \`job.output({ ...options, follow: false })\`, timed from that call to the whole answer (\`tail\`: the ${TAIL} lines), or, for \`since\`, whose whole answer is the rest of the log, to its first chunk and to its first ${
          PREFIX / MiB
        } MiB (then the reader is cancelled). \`since\` is the time halfway between the first and the last index record's. Answers are checked: the ${TAIL} lines exactly; \`since\` from the first record read at or after it.`,
        `${RUNS} runs after ${WARM_UP} warm-up runs, each asking every query of the 1 GiB log, then of the 10 MiB one; the whole \`since\` answer ${WHOLE_RUNS} times, for its throughput.`,
      ],
      figures,
      notes: [
        `${met ? "All" : "Not all"} queries ${
          met ? "are" : "were"
        } within ${GOAL_MS} ms at p95 on the 1 GiB log; the largest ratio of medians (1 GiB / 10 MiB) was ${
          worst.toFixed(2)
        }×, for ${
          (BIG / SMALL).toFixed(0)
        }× the log. \`since\` is a binary search of the index (${
          Math.ceil(Math.log2(big.records + 1))
        } one-record reads for ${big.records} records); \`tail\` reads the log backwards from its end only as far as the lines reach (one 64 KiB read here), then the view's start is found by a binary search too.`,
        `Spread, min–max (ms): ${spread.join("; ")}.`,
      ],
      plots: [],
    };
  } finally {
    for (const log of logs) await bench.dropOutput(log.job.id);
  }
}
