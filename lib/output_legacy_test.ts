import { deepEqual, ok } from "node:assert/strict";
import { openFollower } from "./follower.ts";
import { type OutputFiles, OutputLog } from "./output_log.ts";

async function withLegacyFiles(
  fn: (files: OutputFiles) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "jw-legacy-" });
  const files: OutputFiles = {
    stdout: `${dir}/j.out`,
    stderr: `${dir}/j.err`,
    index: `${dir}/j.idx`,
    drops: `${dir}/j.drop`,
    segments: `${dir}/j.seg`,
  };
  // What a server before the index left: the streams' turns, and a drop.
  await Deno.writeTextFile(files.stdout, "hello\nworld\n");
  await Deno.writeTextFile(files.stderr, "E1\nE2\n");
  await Deno.writeTextFile(files.segments, "o 6\ne 3\no 12\n");
  try {
    await fn(files);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function read(log: OutputLog, follow = false) {
  const decoder = new TextDecoder();
  let text = "";
  const times = new Set<bigint>();
  for await (const chunk of openFollower(log, { follow })) {
    text += decoder.decode(chunk.data);
    times.add(chunk.time);
  }
  return { text, times: [...times] };
}

Deno.test("a finished job's output of the layout before the index is converted once, in its recorded order", async () => {
  await withLegacyFiles(async (files) => {
    const started = new Date("2026-11-30T10:00:00Z");
    let converted = 0;
    const log = await OutputLog.open(files, {
      complete: true,
      legacyTime: started,
      converted: () => converted++,
    });
    deepEqual(converted, 1);
    // The turns recorded, then what came after the last one.
    const { text, times } = await read(log);
    deepEqual(text, "hello\nE1\nworld\nE2\n");
    deepEqual(times, [BigInt(started.getTime()) * 1_000_000n]);
    ok(!await Deno.lstat(files.segments).then(() => true, () => false));
    const again = await OutputLog.open(files, {
      complete: true,
      converted: () => converted++,
    });
    deepEqual(converted, 1, "converted only once");
    deepEqual((await read(again)).text, "hello\nE1\nworld\nE2\n");
  });
});

Deno.test("a job of an older launcher that still runs is indexed by the server as it writes", async () => {
  await withLegacyFiles(async (files) => {
    const log = await OutputLog.open(files, { complete: false });
    await Deno.writeTextFile(files.stdout, "more\n", { append: true });
    log.notify("stdout");
    await Deno.writeTextFile(files.stderr, "E3\n", { append: true });
    log.notify("stderr");
    log.finish();
    deepEqual((await read(log)).text, "hello\nE1\nworld\nE2\nmore\nE3\n");
    deepEqual(log.sizes(), { stdout: 17, stderr: 9 });
  });
});
