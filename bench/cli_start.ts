/**
 * Benchmark 4b: `jw start` as a whole process (Deno start-up, module
 * loading, mTLS handshake, Start call, exit) against `deno run` of a script
 * that only imports grpc-js.
 *
 * @module
 */
import { type BenchContext, ratio, type Section } from "./_report.ts";
import { spawnServer } from "./_server_child.ts";
import { ms, p50p95, summarize } from "./_stats.ts";
import { latencyPlot } from "./_svg.ts";

const HERE = new URL(".", import.meta.url).pathname;
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const WARMUP = 2;
const ROUNDS = 20;
const GOAL_MS = 150;
const GOAL_RATIO = 1.5;

async function timed(args: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - t0;
  if (!out.success) {
    throw new Error(
      `deno ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return elapsed;
}

/** Runs the `jw start` process benchmark. */
export async function cliStart(
  ctx: BenchContext,
): Promise<Omit<Section, "id" | "seconds">> {
  await using server = await spawnServer("jobworker", ctx.tmp, {
    cgroup: ctx.cgroupName,
  });
  const jw = [
    "run",
    "-A",
    CLI,
    "--server",
    server.address,
    "--ca",
    `${server.certs}/ca.pem`,
    "--cert",
    `${server.certs}/alice.pem`,
    "--key",
    `${server.certs}/alice.key`,
    "start",
    "true",
  ];
  const grpcOnly = ["run", "-A", `${HERE}_import_grpc.ts`];
  const empty = ["eval", ""];
  const help = ["run", "-A", CLI, "--help"];
  const helps: number[] = [];
  const cli: number[] = [];
  const base: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    if (performance.now() > ctx.deadline) break;
    const a = await timed(jw);
    const b = await timed(grpcOnly);
    const c = await timed(empty);
    const d = await timed(help);
    if (i < WARMUP) continue;
    helps.push(d);
    cli.push(a);
    base.push(b);
    bare.push(c);
  }
  const c = summarize(cli);
  const b = summarize(base);
  const e = summarize(bare);
  const h = summarize(helps);
  const met = c.p50 <= GOAL_MS && c.p50 <= GOAL_RATIO * b.p50;
  const exit = await server.close();
  const exits = exit ? [exit] : [];
  return {
    title: "`jw start` as a process",
    setup: [
      `\`deno run -A cli.ts --server … --ca … --cert alice.pem --key alice.key start true\` against the bench's server process; ${c.n} rounds after ${WARMUP} warm-up rounds (module cache warm), interleaved with \`deno run -A bench/_import_grpc.ts\` (only \`import "@grpc/grpc-js"\`) \`deno run -A cli.ts --help\` and \`deno eval ""\`. Timed spawn → exit.`,
    ],
    figures: [
      {
        name: "`jw start` p50 / p95",
        value: p50p95(c),
        baseline: `deno run importing grpc-js ${p50p95(b)}`,
        ratio: `${ratio(c.p50, b.p50)} / ${ratio(c.p95, b.p95)}`,
        goal: `p50 ≤ ${GOAL_MS} ms and ≤ ${GOAL_RATIO}× baseline`,
        met,
      },
      {
        name: "`jw --help` p50 / p95 (loads the CLI's modules, no connection)",
        value: p50p95(h),
        baseline: `deno run importing grpc-js ${p50p95(b)}`,
        ratio: `${ratio(h.p50, b.p50)} / ${ratio(h.p95, b.p95)}`,
      },
      {
        name: '`deno eval ""` p50 / p95 (Deno start-up alone)',
        value: p50p95(e),
      },
    ],
    notes: [
      ...exits,
      ...(met ? [] : [
        `Still open (nothing here was changed). Where the time goes: Deno itself (\`deno eval ""\`) ${
          ms(e.p50)
        } ms; loading grpc-js ${
          ms(b.p50 - e.p50)
        } ms more; the CLI's other modules (protobuf-es, generated descriptors, cert and argument code; \`jw --help\` − grpc-js only) ${
          ms(h.p50 - b.p50)
        } ms; the TLS 1.3 handshake with client certificate and the Start call, whose server-side start alone is ~the start latency above (\`jw start\` − \`jw --help\`), ${
          ms(c.p50 - h.p50)
        } ms. Deno's own start-up is ${
          (100 * e.p50 / GOAL_MS).toFixed(0)
        }% of the ${GOAL_MS} ms goal on this machine now. What could be cut, not done: module loading (a \`deno compile\`d jw, or lazy imports so \`start\` loads only what it uses) and the connection setup.`,
      ]),
    ],
    plots: [latencyPlot("cli_start.svg", "`jw start` process latency", [
      { label: 'deno eval ""', samples: bare },
      { label: "jw --help", samples: helps },
      { label: "deno run (import grpc-js)", samples: base },
      { label: "jw start", samples: cli },
    ])],
  };
}
