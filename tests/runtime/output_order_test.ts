// The combined view is the order the job's launcher read its two pipes, with
// each piece's time: exact across streams for writes a pause apart, the same
// before and after a restart, and searchable by time and by lines.
import { deepEqual, ok } from "node:assert/strict";
import { JobRuntime, type OutputChunk } from "../../lib/mod.ts";
import type { Job, OutputOptions } from "../../lib/mod.ts";
import { collect, findCgroups, freshTestDir, withRuntime } from "./_runtime.ts";

async function chunks(job: Job, options?: OutputOptions) {
  const all: OutputChunk[] = [];
  for await (const chunk of job.output(options)) all.push(chunk);
  return all;
}

function text(list: OutputChunk[]): string {
  const decoder = new TextDecoder();
  return list.map((c) => decoder.decode(c.data)).join("");
}

Deno.test("stdout and stderr come out in the order written, live and after the end", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: [
        "-c",
        "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; sleep 0.1; done",
      ],
    });
    const live = await collect(job);
    const expected = [1, 2, 3, 4, 5].map((i) => `out${i}\nerr${i}\n`).join("");
    deepEqual(live.text, expected);
    await job.done;
    deepEqual((await collect(job)).text, expected);
    // The other way round, with a pause between every write.
    const reversed = await runtime.start({
      owner: "t",
      command: "sh",
      args: [
        "-c",
        "for i in 1 2 3; do echo err$i >&2; sleep 0.01; echo out$i; sleep 0.01; done",
      ],
    });
    deepEqual(
      (await collect(reversed)).text,
      "err1\nout1\nerr2\nout2\nerr3\nout3\n",
    );
  });
});

Deno.test("a fast writer of both streams: each stream exact, times never go back, offsets add up", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: [
        "-c",
        "i=0; while [ $i -lt 3000 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done",
      ],
    });
    const all = await chunks(job);
    const lines = (prefix: string) =>
      Array.from({ length: 3000 }, (_, i) => `${prefix}${i}\n`).join("");
    const per = { stdout: "", stderr: "" };
    const decoder = new TextDecoder();
    let position = 0;
    let time = 0n;
    for (const chunk of all) {
      per[chunk.stream] += decoder.decode(chunk.data);
      deepEqual(chunk.position, position, "positions follow one another");
      ok(chunk.time >= time, "times never go back");
      position += chunk.data.length;
      time = chunk.time;
    }
    deepEqual(per.stdout, lines("o"));
    deepEqual(per.stderr, lines("e"));
    deepEqual(text(await chunks(job, { streams: ["stdout"] })), lines("o"));
    // Any combined position resumes exactly where that position is.
    const full = (await collect(job)).all;
    for (const from of [1, 777, 12345, full.length - 3]) {
      deepEqual((await collect(job, { from })).all, full.subarray(from));
    }
  });
});

Deno.test("since, until and tail pick output by the time it was read and by lines", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: [
        "-c",
        "echo a; echo A >&2; sleep 0.3; echo b; sleep 0.3; printf 'c\\nd'",
      ],
    });
    await job.done;
    const exact = await chunks(job, { exactTimes: true });
    const at = (s: string) =>
      exact.find((c) => new TextDecoder().decode(c.data).startsWith(s))!.time;
    const [tb, tc] = [at("b"), at("c")];
    ok(tb - at("a") >= 250_000_000n, "b was read 0.3 s after a");
    deepEqual(text(await chunks(job, { since: tb })), "b\nc\nd");
    deepEqual(text(await chunks(job, { since: tb + 1n })), "c\nd");
    deepEqual(text(await chunks(job, { until: tb })), "a\nA\nb\n");
    deepEqual(text(await chunks(job, { since: tb, until: tc - 1n })), "b\n");
    deepEqual(text(await chunks(job, { tail: 1 })), "d");
    deepEqual(text(await chunks(job, { tail: 2 })), "c\nd");
    deepEqual(text(await chunks(job, { tail: 4 })), "A\nb\nc\nd");
    deepEqual(text(await chunks(job, { tail: 100 })), "a\nA\nb\nc\nd");
    deepEqual(text(await chunks(job, { tail: 0 })), "");
    deepEqual(text(await chunks(job, { tail: 1, streams: ["stderr"] })), "A\n");
    deepEqual(text(await chunks(job, { tail: 2, since: tc })), "c\nd");
    deepEqual(text(await chunks(job, { since: tc + 10n ** 12n })), "");
  });
});

Deno.test("tail counts each stream's own lines, and leaves out the end of a line that began before them", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: [
        "-c",
        "printf 'one\\ntw'; sleep 0.05; echo warn >&2; sleep 0.05; printf 'o\\nthree\\n'",
      ],
    });
    await job.done;
    deepEqual((await collect(job)).text, "one\ntwwarn\no\nthree\n");
    deepEqual(text(await chunks(job, { tail: 1 })), "three\n");
    deepEqual(text(await chunks(job, { tail: 2 })), "warn\nthree\n");
    deepEqual(text(await chunks(job, { tail: 3 })), "twwarn\no\nthree\n");
    deepEqual(
      text(await chunks(job, { tail: 2, streams: ["stdout"] })),
      "two\nthree\n",
    );
  });
});

Deno.test("a follower with until ends at that time while the job goes on", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: ["-c", "echo first; sleep 0.5; echo later; sleep 1000"],
    });
    const until = BigInt(Date.now()) * 1_000_000n + 200_000_000n;
    deepEqual(text(await chunks(job, { until })), "first\n");
    await job.stop(0);
  });
});

Deno.test("a reader cut by a server restart resumes at its offset with every byte once, combined and per stream", async () => {
  const { dataDir, cgroupName } = await freshTestDir("jw-resume-");
  let runtime = await JobRuntime.open({ dataDir, cgroupName });
  try {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: [
        "-c",
        "i=0; while [ $i -lt 400 ]; do echo out$i; echo err$i >&2; i=$((i+1)); [ $((i % 50)) = 0 ] && sleep 0.1; done",
      ],
    });
    const before: Record<string, Uint8Array[]> = { both: [], stdout: [] };
    let position = 0;
    let offset = 0;
    for await (const chunk of job.output()) {
      before.both.push(chunk.data);
      position = chunk.position + chunk.data.length;
      if (position > 2000) break;
    }
    for await (const chunk of job.output({ streams: ["stdout"] })) {
      before.stdout.push(chunk.data);
      offset = chunk.offset + chunk.data.length;
      if (offset > 1500) break;
    }
    await runtime.close({ keepJobs: true });
    runtime = await JobRuntime.open({ dataDir, cgroupName });
    const again = runtime.get(job.id);
    const rest = await collect(again, { from: position });
    const restOut = await collect(again, { streams: ["stdout"], from: offset });
    await again.done;
    const whole = await collect(again);
    const joined = new Uint8Array(
      await new Blob([...before.both, rest.all] as BlobPart[]).arrayBuffer(),
    );
    deepEqual(joined, whole.all);
    const out = new TextDecoder().decode(
      await new Blob([...before.stdout, restOut.all] as BlobPart[])
        .arrayBuffer(),
    );
    deepEqual(out, whole.stdout);
    deepEqual(whole.stdout.split("\n").length, 401);
  } finally {
    await runtime.close({ graceMs: 0 });
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    deepEqual(await findCgroups(cgroupName), []);
  }
});

Deno.test("a reader after the output cap dropped old output is told how much and starts at a line", async () => {
  await withRuntime(async (runtime) => {
    const job = await runtime.start({
      owner: "t",
      command: "sh",
      args: ["-c", "seq 1 200000"],
    });
    const info = await job.done;
    ok(info.stdoutDroppedBytes > 0);
    const [first] = await chunks(job, { streams: ["stdout"] });
    deepEqual(first.dropped, info.stdoutDroppedBytes);
    deepEqual(first.offset, info.stdoutDroppedBytes);
    const text = new TextDecoder().decode(first.data);
    const line = Number(text.slice(0, text.indexOf("\n")));
    // It starts where `seq` began line `line`: lines 1 .. line-1 come before.
    let start = 0;
    for (let n = 1; n < line; n++) start += String(n).length + 1;
    deepEqual(first.offset, start);
    const all = (await collect(job, { streams: ["stdout"] })).stdout;
    ok(all.endsWith("\n200000\n"));
    deepEqual(all.split("\n")[0], String(line));
    deepEqual(all.split("\n").length - 1, 200000 - line + 1);
    // tail reads only what is kept.
    deepEqual(
      (await collect(job, { tail: 2 })).text,
      "199999\n200000\n",
    );
  }, { maxLogBytes: 64 * 1024 });
});

Deno.test("finished jobs give back every descriptor they used", async () => {
  await withRuntime(async (runtime) => {
    const open = () => [...Deno.readDirSync("/proc/self/fd")].length;
    const warm = await runtime.start({ owner: "t", command: "true" });
    await collect(warm);
    await warm.done;
    const before = open();
    for (let i = 0; i < 30; i++) {
      const job = await runtime.start({
        owner: "t",
        command: "echo",
        args: ["x"],
      });
      await collect(job);
      await job.done;
    }
    const after = open();
    ok(after - before < 5, `descriptors ${before} -> ${after} after 30 jobs`);
  });
});
