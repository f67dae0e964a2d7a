import { deepEqual, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  collect,
  runShell,
  TEST_DATA_PARENT,
  withRuntime,
} from "./_runtime.ts";
import { type JobRuntime, release } from "../../lib/mod.ts";

/**
 * Runs `fn` in a runtime whose jobs can read one random 64 KiB block (a host
 * file bound into their view), with a shell script that writes the block
 * `times` times, and the sha256 of what it writes.
 */
async function withRandomBlock(
  times: number,
  fn: (runtime: JobRuntime, script: string, expected: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({
    dir: TEST_DATA_PARENT,
    prefix: "jw-source-",
  });
  try {
    const source = `${dir}/source.bin`;
    const block = crypto.getRandomValues(new Uint8Array(64 * 1024));
    await Deno.writeFile(source, block, { mode: 0o644 });
    await Deno.chmod(source, 0o644);
    const reference = createHash("sha256");
    for (let i = 0; i < times; i++) reference.update(block);
    const script =
      `i=0; while [ $i -lt ${times} ]; do cat ${source}; i=$((i+1)); done`;
    await withRuntime(
      (runtime) => fn(runtime, script, reference.digest("hex")),
      { viewPaths: [source] },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("echo round trip: stdout and stderr come back, each tagged", async () => {
  await withRuntime(async (runtime) => {
    const { info, out } = await runShell(runtime, "echo hello; echo oops >&2");
    deepEqual(info.state, "exited");
    deepEqual(info.exitCode, 0);
    deepEqual(out.stdout, "hello\n");
    deepEqual(out.stderr, "oops\n");
    deepEqual(info.stdoutBytes, 6);
    deepEqual(info.stderrBytes, 5);
  });
});

Deno.test("the combined view keeps the order of turns between streams", async () => {
  await withRuntime(async (runtime) => {
    // Separate processes with pauses: the server sees each turn.
    const script =
      "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; sleep 0.2; echo four >&2";
    const { job, out } = await runShell(runtime, script);
    deepEqual(out.text, "one\ntwo\nthree\nfour\n");
    // Read again after the end: the same order, from the recorded turns.
    deepEqual((await collect(job)).text, "one\ntwo\nthree\nfour\n");
    deepEqual(
      (await collect(job, { streams: ["stderr"] })).text,
      "two\nfour\n",
    );
    deepEqual(
      (await collect(job, { streams: ["stdout"] })).text,
      "one\nthree\n",
    );
  });
});

Deno.test("chunks carry stream offsets; `from` starts mid-stream and mid-combined", async () => {
  await withRuntime(async (runtime) => {
    const { job } = await runShell(
      runtime,
      "printf abcdef; sleep 0.2; printf XYZ >&2; sleep 0.2; printf ghi",
    );
    const offsets: string[] = [];
    for await (const chunk of job.output()) {
      offsets.push(`${chunk.stream}@${chunk.offset}`);
    }
    deepEqual(offsets[0], "stdout@0");
    ok(offsets.includes("stderr@0"));
    deepEqual(
      (await collect(job, { streams: ["stdout"], from: 4 })).text,
      "efghi",
    );
    deepEqual((await collect(job, { from: 7 })).text, "YZghi");
    deepEqual((await collect(job, { from: 100 })).text, "");
  });
});

Deno.test("50 MiB of binary output reaches 20 concurrent readers byte-identical, one stalled", async () => {
  // 800 blocks of 64 KiB of random bytes = 50 MiB, with every byte value.
  await withRandomBlock(800, async (runtime, script, expected) => {
    const rssBefore = Deno.memoryUsage().rss;
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: ["-c", script],
    });
    const stalled = job.output().getReader();
    await stalled.read(); // takes one chunk, then never reads again
    let peakRss = 0;
    // Readers hash as they go and keep nothing: what memory grows is the server side's.
    const readers = Array.from({ length: 19 }, async () => {
      const hash = createHash("sha256");
      let chunks = 0;
      for await (const chunk of job.output({ streams: ["stdout"] })) {
        hash.update(chunk.data);
        if (++chunks % 64 === 0) {
          peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
        }
      }
      return hash.digest("hex");
    });
    const digests = await Promise.all(readers);
    const info = await job.done;
    deepEqual(info.state, "exited");
    deepEqual(info.stdoutBytes, 50 * 1024 * 1024);
    deepEqual(digests, Array(19).fill(expected));
    await stalled.cancel();
    const grown = peakRss - rssBefore;
    ok(
      grown < 128 * 1024 * 1024,
      `rss grew ${grown} bytes for 20 readers of 50 MiB`,
    );
  });
});

Deno.test("a reader that joins after the job ended gets everything from byte 0", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "seq",
      args: ["1", "20000"],
    });
    await job.done;
    const out = await collect(job);
    deepEqual(out.text.split("\n").length, 20001);
    ok(out.text.startsWith("1\n2\n3\n"));
  });
});

Deno.test("a follower that joins mid-run gets the start and follows to the end", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: ["-c", "echo first; sleep 0.5; echo second; sleep 0.5; echo third"],
    });
    await new Promise((r) => setTimeout(r, 200));
    deepEqual((await collect(job)).text, "first\nsecond\nthird\n");
  });
});

Deno.test("follow: false returns what is there now and ends", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: ["-c", "echo now; sleep 1000"],
    });
    while (job.info().stdoutBytes === 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    deepEqual((await collect(job, { follow: false })).text, "now\n");
    await job.stop(0);
  });
});

Deno.test("cancelling a reader of a running job releases it", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sleep",
      args: ["1000"],
    });
    const reader = job.output().getReader();
    const pending = reader.read();
    await reader.cancel();
    deepEqual((await pending).done, true);
    await job.stop(0);
  });
});

Deno.test("followers that share reads each get every byte, while others are cancelled and release theirs", async () => {
  // 16 MiB, written while followers read it.
  await withRandomBlock(256, async (runtime, script, expected) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: ["-c", script],
    });
    const read = async (cancelAfter?: number) => {
      const hash = createHash("sha256");
      let chunks = 0;
      for await (const chunk of job.output()) {
        hash.update(chunk.data);
        // Consumers free what they are done with, as the Logs handler does:
        // a chunk shared with others must stay readable for them.
        release(chunk.data);
        if (++chunks === cancelAfter) return "cancelled";
      }
      return hash.digest("hex");
    };
    const results = await Promise.all([
      ...Array.from({ length: 8 }, () => read()),
      ...Array.from({ length: 8 }, (_, i) => read(1 + i * 3)),
    ]);
    await job.done;
    deepEqual(results.slice(0, 8), Array(8).fill(expected));
    deepEqual(results.slice(8), Array(8).fill("cancelled"));
    // Joining after the end, from the file alone.
    deepEqual(await read(), expected);
  });
});
