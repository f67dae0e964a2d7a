/**
 * The Prometheus endpoint of a real server process: counters move with the
 * calls, jobs, streamed bytes and refused connections they count.
 */
import assert from "node:assert/strict";
import { connect } from "./client.ts";
import { spawnMain } from "./_main_process.ts";

/** The value of the sample `name{labels}` in `text` (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

Deno.test("metrics: jobs by state, RPCs by method and code, streamed bytes, refused connections", async () => {
  await using main = await spawnMain({
    args: ["--metrics-listen=127.0.0.1:0"],
  });
  let metricsPort = 0;
  while (!metricsPort) {
    const next = await main.lines.next();
    if (next.done) throw new Error("the server ended before serving metrics");
    const record = JSON.parse(next.value);
    if (record.msg === "serving metrics") metricsPort = record.port;
  }
  const scrape = async () => {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    return await response.text();
  };
  const before = await scrape();
  assert.equal(sample(before, 'jobworker_jobs{state="exited"}'), 0);

  const alice = connect(
    `localhost:${main.port}`,
    main.ca,
    await main.pem("alice"),
  );
  try {
    const { job } = await alice.call("start", {
      command: "echo",
      args: ["hello"],
    });
    const bytes = await alice.readLogs({ jobId: job!.id, follow: true });
    assert.equal(bytes.length, 6);
    await assert.rejects(alice.call("status", { jobId: "000000000000" }));
    // A client certificate the server's CA never signed.
    const stranger = await Deno.makeTempDir();
    try {
      const { ensureDevCerts } = await import("../../certs/dev_certs.ts");
      await ensureDevCerts(stranger);
      const foreign = connect(`localhost:${main.port}`, main.ca, {
        cert: await Deno.readTextFile(`${stranger}/alice.pem`),
        key: await Deno.readTextFile(`${stranger}/alice.key`),
      });
      await assert.rejects(foreign.call("whoAmI", {}));
      foreign.close();
    } finally {
      await Deno.remove(stranger, { recursive: true });
    }
    let after = await scrape();
    for (
      let i = 0;
      i < 50 && !/jobworker_refused_connections_total\{/.test(after);
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await scrape();
    }
    assert.equal(sample(after, 'jobworker_jobs{state="exited"}'), 1);
    assert.equal(
      sample(after, 'jobworker_rpcs_total{method="Start",code="OK"}'),
      1,
    );
    assert.equal(
      sample(after, 'jobworker_rpcs_total{method="Status",code="NOT_FOUND"}'),
      1,
    );
    assert.equal(
      sample(after, 'jobworker_rpc_duration_seconds_count{method="Start"}'),
      1,
    );
    assert.equal(
      sample(after, 'jobworker_log_bytes_streamed_total{stream="stdout"}'),
      6,
    );
    assert.equal(
      sample(after, 'jobworker_refused_connections_total{reason="unknown_ca"}'),
      1,
      after,
    );
    const missing = await fetch(`http://127.0.0.1:${metricsPort}/`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    alice.close();
  }
});
