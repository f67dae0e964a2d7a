import { deepEqual, ok } from "node:assert/strict";
import { collect, withRuntime } from "./_runtime.ts";

const KiB = 1024;

Deno.test("the output cap drops the oldest output while the job keeps running, and says how much", async () => {
  await withRuntime(async (runtime, dataDir) => {
    // 40 x 64 KiB of 'x' with pauses, then a last line: 2.5 MiB under a 128 KiB cap.
    const script =
      "for i in $(seq 40); do head -c 65536 /dev/zero | tr '\\0' x; sleep 0.02; done; echo END";
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: ["-c", script],
    });
    const info = await job.done;
    deepEqual([info.state, info.exitCode], ["exited", 0]);
    deepEqual(info.outputCapBytes, 128 * KiB);
    deepEqual(info.stdoutBytes, 40 * 64 * KiB + 4);
    ok(
      info.stdoutDroppedBytes > 1024 * KiB,
      `dropped ${info.stdoutDroppedBytes}`,
    );

    // The disk holds about the cap, not the whole output.
    const { blocks } = await Deno.stat(`${dataDir}/logs/${job.id}.out`);
    ok(
      (blocks ?? 0) * 512 < 1024 * KiB,
      `${(blocks ?? 0) * 512} bytes on disk`,
    );

    // Readers start after the dropped part and never see the freed (zeroed) blocks.
    const chunks = [];
    for await (const chunk of job.output({ streams: ["stdout"] })) {
      chunks.push(chunk);
    }
    deepEqual(chunks[0].offset, info.stdoutDroppedBytes);
    const text = (await collect(job)).stdout;
    ok(!text.includes("\0"), "no zeros from dropped blocks");
    ok(text.endsWith("xxxxEND\n"));
    deepEqual(text.length, info.stdoutBytes - info.stdoutDroppedBytes);
  }, { maxLogBytes: 128 * KiB });
});
