/**
 * The server's metrics, in the Prometheus text format (version 0.0.4):
 * counters and histograms the server updates as it works, and gauges read
 * from the runtime at each scrape. No client library: the format is a few
 * lines of text, and the one on npm (prom-client) depends on Node's cluster
 * and perf_hooks modules.
 *
 * @module
 */
import type { JobRuntime } from "../lib/mod.ts";
import type { JobState } from "../lib/job_info.ts";
import type { LogRecord, LogSink } from "./log.ts";

/** Upper bounds (seconds) of the RPC latency histogram's buckets. */
const LATENCY_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];
const STATES: JobState[] = [
  "running",
  "exited",
  "signaled",
  "stopped",
  "failed_to_start",
  "lost",
];

type Labels = Record<string, string>;

/** A family of counters, one per label set. */
class Counter {
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  constructor(readonly name: string, readonly help: string) {}

  add(labels: Labels, by = 1): void {
    const key = JSON.stringify(labels);
    const entry = this.#values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.#values.set(key, entry);
  }

  render(): string[] {
    const lines = [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
    ];
    for (const { labels, value } of this.#values.values()) {
      lines.push(`${this.name}${labelText(labels)} ${value}`);
    }
    return lines;
  }
}

/** A family of histograms, one per label set. */
class Histogram {
  readonly #values = new Map<
    string,
    { labels: Labels; buckets: number[]; sum: number; count: number }
  >();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const key = JSON.stringify(labels);
    let entry = this.#values.get(key);
    if (!entry) {
      entry = { labels, buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.#values.set(key, entry);
    }
    this.bounds.forEach((bound, i) => {
      if (value <= bound) entry.buckets[i]++;
    });
    entry.sum += value;
    entry.count++;
  }

  render(): string[] {
    const lines = [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
    ];
    for (const { labels, buckets, sum, count } of this.#values.values()) {
      this.bounds.forEach((bound, i) => {
        lines.push(
          `${this.name}_bucket${labelText({ ...labels, le: String(bound) })} ${
            buckets[i]
          }`,
        );
      });
      lines.push(
        `${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${count}`,
        `${this.name}_sum${labelText(labels)} ${sum}`,
        `${this.name}_count${labelText(labels)} ${count}`,
      );
    }
    return lines;
  }
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${
      v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    }"`
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}

function gauge(
  name: string,
  help: string,
  samples: [Labels, number][],
): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...samples.map(([labels, value]) => `${name}${labelText(labels)} ${value}`),
  ];
}

/**
 * What the server counts. It learns of calls, refused connections and the
 * runtime's events from the log records they already make ({@link observing}
 * wraps the log sinks of the server and of the runtime),
 * so every counted event is also a log line, and of streamed bytes from the
 * Logs handler ({@link streamed}).
 */
export class Metrics {
  readonly #rpcs = new Counter(
    "jobworker_rpcs_total",
    "RPCs handled, by method and gRPC status code.",
  );
  readonly #latency = new Histogram(
    "jobworker_rpc_duration_seconds",
    "Time from an RPC's start to its end (for Logs with follow, the whole stream).",
    LATENCY_BUCKETS,
  );
  readonly #refused = new Counter(
    "jobworker_refused_connections_total",
    "Connections refused, by reason (TLS handshake, identity, limits).",
  );
  readonly #events = new Counter(
    "jobworker_job_events_total",
    "Job events: lost, re-adopted, removed by retention.",
  );
  readonly #bytes = new Counter(
    "jobworker_log_bytes_streamed_total",
    "Bytes of job output sent to Logs clients, by stream.",
  );
  /** A log sink that counts what `record`s tell, then passes them to `log`. */
  observing(log: LogSink): LogSink {
    return (record) => {
      this.observe(record);
      log(record);
    };
  }

  /** Counts what one log record tells. */
  observe(record: LogRecord): void {
    const { msg } = record;
    if (msg === "rpc") {
      const method = String(record.method ?? "").split("/").pop() ?? "";
      this.#rpcs.add({ method, code: String(record.code) });
      if (typeof record.durationMs === "number") {
        this.#latency.observe({ method }, record.durationMs / 1000);
      }
    } else if (
      msg === "tls handshake refused" || msg === "connection refused"
    ) {
      // The log keeps a few lines a second; the rest ride on the next one.
      const also = typeof record.alsoRefused === "number"
        ? record.alsoRefused
        : 0;
      this.#refused.add(
        {
          reason: typeof record.reason === "string"
            ? record.reason
            : refusalReason(String(record.error ?? "")),
        },
        1 + also,
      );
    } else if (msg === "job lost") this.#events.add({ event: "lost" });
    else if (msg === "job re-adopted") this.#events.add({ event: "readopted" });
    else if (msg === "retention removed job") {
      this.#events.add({ event: "retention_removed" });
    }
  }

  /** Counts `bytes` of `stream` sent to a Logs client. */
  streamed(stream: string, bytes: number): void {
    this.#bytes.add({ stream }, bytes);
  }

  /** The metrics now, with `runtime`'s jobs, as Prometheus text. */
  async render(runtime: JobRuntime): Promise<string> {
    const jobs = runtime.list();
    const byState = new Map<JobState, number>(STATES.map((s) => [s, 0]));
    let cpu = 0;
    let memory = 0;
    for (const job of jobs) {
      const info = job.info();
      byState.set(info.state, (byState.get(info.state) ?? 0) + 1);
    }
    const running = jobs.filter((job) => job.info().state === "running");
    for (const info of await Promise.all(running.map((job) => job.status()))) {
      cpu += info.usage.cpuSeconds;
      memory += info.usage.memoryPeakBytes;
    }
    const lines = [
      ...gauge(
        "jobworker_jobs",
        "Jobs the server knows, by state.",
        [...byState].map(([state, n]) => [{ state }, n]),
      ),
      ...gauge(
        "jobworker_running_jobs_cpu_seconds",
        "CPU time used so far by the jobs running now, summed.",
        [[{}, cpu]],
      ),
      ...gauge(
        "jobworker_running_jobs_memory_peak_bytes",
        "Peak memory of the jobs running now, summed.",
        [[{}, memory]],
      ),
      ...this.#rpcs.render(),
      ...this.#latency.render(),
      ...this.#refused.render(),
      ...this.#events.render(),
      ...this.#bytes.render(),
    ];
    return lines.join("\n") + "\n";
  }
}

/**
 * A short, bounded label for a refusal whose log record carries none (label
 * values must not be free text): a handshake that failed or took too long.
 * Certificate refusals are labelled where they are decided (admission.ts).
 */
export function refusalReason(error: string): string {
  return /timed? ?out/i.test(error) ? "handshake_timeout" : "handshake_failed";
}

/**
 * Serves `metrics` at `GET /metrics` over plain HTTP on `listen`
 * (`HOST:PORT`; keep it on loopback or behind a firewall).
 */
export function serveMetrics(
  metrics: Metrics,
  runtime: JobRuntime,
  listen: { hostname: string; port: number },
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: listen.hostname,
    port: listen.port,
    onListen: () => {},
  }, async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method !== "GET" || path !== "/metrics") {
      return new Response("not found: try GET /metrics\n", { status: 404 });
    }
    return new Response(await metrics.render(runtime), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  });
}
