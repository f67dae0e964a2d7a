import { deepEqual, match, ok } from "node:assert/strict";
import { runShell, withRuntime } from "./_runtime.ts";

const MiB = 1024 * 1024;

Deno.test("a fork bomb is held by the pids limit", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start(
      {
        owner: "t",
        command: "sh",
        args: ["-c", "f() { f | f & }; f; sleep 1; echo survived"],
        limits: { pids: 32 },
      },
      { customLimits: true },
    );
    const info = await job.done.then((i) => i);
    // The shell could not fork at will, and the host (this test) lives on.
    const text = await new Response(
      job.output({ streams: ["stderr"] }).pipeThrough(
        new TransformStream({ transform: (c, ctl) => ctl.enqueue(c.data) }),
      ),
    ).text();
    match(text, /fork|Resource temporarily unavailable/i);
    deepEqual(info.limits.pids, 32);
  });
});

Deno.test("a memory hog over its limit is OOM-killed and says so", async () => {
  await withRuntime(async (runtime) => {
    // dd allocates and fills a 256 MiB buffer.
    const { info } = await runShell(
      runtime,
      "exec dd if=/dev/zero of=/dev/null bs=256M count=1",
      {
        limits: { memoryBytes: 32 * MiB },
      },
    );
    deepEqual(info.oomKilled, true);
    deepEqual(info.state, "signaled");
    deepEqual(info.signal, 9);
    ok(
      info.usage.memoryPeakBytes <= 32 * MiB,
      `peak ${info.usage.memoryPeakBytes}`,
    );
  });
});

Deno.test("a CPU burner at cpu 0.2 gets about a fifth of a core", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start(
      {
        owner: "t",
        command: "sh",
        args: ["-c", "while :; do :; done"],
        limits: { cpu: 0.2 },
      },
      { customLimits: true },
    );
    const started = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    const { usage } = await job.status();
    const share = usage.cpuSeconds / ((performance.now() - started) / 1000);
    await job.stop(0);
    ok(share > 0.1 && share < 0.35, `cpu share ${share}`);
    ok(usage.cpuThrottledSeconds > 0, "throttled time grows");
  });
});

Deno.test("a direct-IO write is throttled by ioWriteBps", async () => {
  await withRuntime(async (runtime) => {
    // 6 MiB at 2 MiB/s takes at least ~2 s (the first burst may pass at once).
    const { info, out } = await runShell(
      runtime,
      "start=$(date +%s%N); dd if=/dev/zero of=out.bin bs=1M count=6 oflag=direct 2>/dev/null; " +
        "echo $(( ($(date +%s%N) - start) / 1000000 ))",
      { limits: { ioWriteBps: 2 * MiB } },
    );
    deepEqual(info.exitCode, 0, out.stderr);
    const ms = Number(out.stdout.trim());
    ok(ms >= 2000, `6 MiB written in ${ms} ms`);
    ok(
      info.usage.ioWriteBytes >= 6 * MiB,
      `io write bytes ${info.usage.ioWriteBytes}`,
    );
  });
});
