import assert from "node:assert/strict";
import type { JobRuntime } from "../lib/mod.ts";
import { Metrics, refusalReason } from "./metrics.ts";

const NO_JOBS = { list: () => [] } as unknown as JobRuntime;

Deno.test("RPC records become counters and latency buckets; label values are escaped", async () => {
  const metrics = new Metrics();
  const seen: unknown[] = [];
  const log = metrics.observing((record) => seen.push(record));
  log({
    msg: "rpc",
    method: "/jobworker.v1.JobWorker/Start",
    code: "OK",
    durationMs: 3,
  });
  log({
    msg: "rpc",
    method: "/jobworker.v1.JobWorker/Start",
    code: "OK",
    durationMs: 30,
  });
  log({
    msg: "connection refused",
    reason: "connection_limit",
    error: 'user "x" has 64 connections open',
    alsoRefused: 4,
  });
  metrics.streamed('std"out', 10);
  assert.equal(seen.length, 3, "records pass on to the log");
  const text = await metrics.render(NO_JOBS);
  const lines = text.split("\n");
  assert.ok(lines.includes('jobworker_rpcs_total{method="Start",code="OK"} 2'));
  assert.ok(
    lines.includes(
      'jobworker_rpc_duration_seconds_bucket{method="Start",le="0.005"} 1',
    ),
  );
  assert.ok(
    lines.includes(
      'jobworker_rpc_duration_seconds_bucket{method="Start",le="0.05"} 2',
    ),
  );
  assert.ok(
    lines.includes(
      'jobworker_rpc_duration_seconds_bucket{method="Start",le="+Inf"} 2',
    ),
  );
  assert.ok(
    lines.includes('jobworker_rpc_duration_seconds_sum{method="Start"} 0.033'),
  );
  assert.ok(
    lines.includes(
      'jobworker_refused_connections_total{reason="connection_limit"} 5',
    ),
  );
  assert.ok(
    lines.includes('jobworker_log_bytes_streamed_total{stream="std\\"out"} 10'),
  );
  assert.ok(lines.includes('jobworker_jobs{state="lost"} 0'));
});

Deno.test("refusals without a reason are labelled by what the TLS layer said", () => {
  assert.equal(refusalReason("TLS handshake timed out"), "handshake_timeout");
  assert.equal(refusalReason("socket hang up"), "handshake_failed");
  assert.equal(refusalReason("something new"), "handshake_failed");
});
