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

Deno.test("refusal reasons are a small fixed set", () => {
  assert.equal(refusalReason("certificate is not valid now"), "expired");
  assert.equal(refusalReason("no client certificate"), "no_certificate");
  assert.equal(
    refusalReason("certificate is not for client authentication"),
    "wrong_eku",
  );
  assert.equal(
    refusalReason("certificate of bob has no known role (OU)"),
    "bad_identity",
  );
  assert.equal(refusalReason("socket hang up"), "handshake_failed");
  assert.equal(refusalReason("something new"), "other");
});
