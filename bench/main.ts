/**
 * `deno task bench`: runs every benchmark, each in a child process of its
 * own (so one benchmark's heap does not skew the next one's RSS figures, and
 * a benchmark over its time budget can be killed), checks that each left no
 * cgroup or temporary directory behind, and rewrites bench/RESULTS.md and
 * the SVG plots beside it.
 *
 * `deno run -A bench/main.ts --only start_latency,output_writing` runs a
 * subset (RESULTS.md is then left alone unless `--write` is given).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { removeCgroups } from "./_cgroup_leftovers.ts";
import { describeMachine } from "./_machine.ts";
import type { BenchContext, Benchmark, Section } from "./_report.ts";
import { resultsMarkdown } from "./_results_md.ts";
import { apiStart } from "./api_start.ts";
import { cliStart } from "./cli_start.ts";
import { grpcLogs } from "./grpc_logs.ts";
import { flood } from "./flood.ts";
import { logQueries } from "./log_queries.ts";
import { manyJobs } from "./many_jobs.ts";
import { manyReaders } from "./many_readers.ts";
import { outputWriting } from "./output_writing.ts";
import { startLatency } from "./start_latency.ts";
import { taskSpooler } from "./task_spooler.ts";

/** Each benchmark with its time budget in seconds. */
const BENCHMARKS: { id: string; run: Benchmark; budget: number }[] = [
  { id: "start_latency", run: startLatency, budget: 45 },
  { id: "api_start", run: apiStart, budget: 60 },
  { id: "output_writing", run: outputWriting, budget: 140 },
  { id: "log_queries", run: logQueries, budget: 60 },
  { id: "many_readers", run: manyReaders, budget: 60 },
  { id: "task_spooler", run: taskSpooler, budget: 80 },
  { id: "grpc_logs", run: grpcLogs, budget: 150 },
  { id: "cli_start", run: cliStart, budget: 75 },
  { id: "many_jobs", run: manyJobs, budget: 100 },
  { id: "flood", run: flood, budget: 60 },
];

const HERE = new URL(".", import.meta.url).pathname;
const DATA_PARENT = "/var/tmp";

function newCgroupName(): string {
  return `jwbench-${crypto.randomUUID().slice(0, 8)}`;
}

/** Child mode: runs one benchmark and writes its section as JSON. */
async function runOne(args: Record<string, string>): Promise<void> {
  const entry = BENCHMARKS.find((b) => b.id === args.one);
  if (!entry) throw new Error(`no benchmark ${args.one}`);
  const ctx: BenchContext = {
    tmp: args.tmp,
    cgroupName: args.cgroup,
    deadline: performance.now() + entry.budget * 1000,
  };
  const t0 = performance.now();
  const section = await entry.run(ctx);
  const result: Section = {
    id: entry.id,
    ...section,
    seconds: (performance.now() - t0) / 1000,
  };
  await Deno.writeTextFile(args.out, JSON.stringify(result));
}

/** Parent mode: one child per benchmark, with cleanup checks. */
async function runChild(
  id: string,
  budget: number,
): Promise<Section> {
  const tmp = await Deno.makeTempDir({ dir: DATA_PARENT, prefix: "jwbench-" });
  const cgroup = newCgroupName();
  const out = `${tmp}.json`;
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${HERE}main.ts`,
      "--one",
      id,
      "--tmp",
      tmp,
      "--cgroup",
      cgroup,
      "--out",
      out,
    ],
    stdin: "null",
  }).spawn();
  // The child watches its own deadline; this is the hard stop behind it.
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, (budget + 20) * 1000);
  const status = await child.status;
  clearTimeout(killer);
  const seconds = (performance.now() - t0) / 1000;
  const leftovers = await removeCgroups(cgroup);
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  let section: Section;
  try {
    section = JSON.parse(await Deno.readTextFile(out));
    await Deno.remove(out);
  } catch {
    section = {
      id,
      title: id,
      setup: [],
      figures: [],
      notes: [
        `**Failed**: the benchmark exited with ${status.code}${
          status.signal ? ` (${status.signal})` : ""
        } after ${
          seconds.toFixed(0)
        } s without a result; see the run's stderr.`,
      ],
      plots: [],
      seconds,
    };
  }
  if (leftovers.length > 0) {
    section.notes.push(
      `**Cleanup**: the benchmark left cgroups behind (${
        leftovers.join(", ")
      }); bench/main.ts removed them.`,
    );
  }
  return section;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      one: { type: "string" },
      tmp: { type: "string" },
      cgroup: { type: "string" },
      out: { type: "string" },
      only: { type: "string" },
      write: { type: "boolean" },
    },
  });
  if (values.one) {
    await runOne(values as Record<string, string>);
    return;
  }
  const only = values.only?.split(",");
  const chosen = BENCHMARKS.filter((b) => !only || only.includes(b.id));
  const machine = await describeMachine(newCgroupName(), DATA_PARENT);
  const t0 = performance.now();
  const sections: Section[] = [];
  for (const bench of chosen) {
    console.error(`bench: ${bench.id} (budget ${bench.budget} s)`);
    const section = await runChild(bench.id, bench.budget);
    console.error(`bench: ${bench.id} took ${section.seconds.toFixed(1)} s`);
    for (const f of section.figures) {
      console.error(
        `  ${f.name}: ${f.value}${f.ratio ? ` (${f.ratio})` : ""}${
          f.goal ? ` goal ${f.goal}: ${f.met ? "met" : "MISSED"}` : ""
        }`,
      );
    }
    for (const n of section.notes) console.error(`  note: ${n}`);
    sections.push(section);
  }
  const total = (performance.now() - t0) / 1000;
  console.error(`bench: all done in ${total.toFixed(0)} s`);
  if (only && !values.write) return;
  const command = only
    ? `deno run -A bench/main.ts --only ${only.join(",")} --write`
    : "deno task bench  (sh lib/init/build.sh && deno run -A bench/main.ts)";
  for (const section of sections) {
    for (const plot of section.plots) {
      await Deno.writeTextFile(`${HERE}${plot.file}`, plot.svg);
    }
  }
  await Deno.writeTextFile(
    `${HERE}RESULTS.md`,
    resultsMarkdown(machine, command, sections, total),
  );
  // Written as deno fmt would, so that `deno fmt --check` (CI) passes.
  const written = [
    `${HERE}RESULTS.md`,
    ...sections.flatMap((section) =>
      section.plots.map((plot) => `${HERE}${plot.file}`)
    ),
  ];
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", ...written] })
    .output();
  console.error(`bench: wrote ${HERE}RESULTS.md`);
}

if (import.meta.main) await main();
