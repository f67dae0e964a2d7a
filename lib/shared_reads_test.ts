import assert from "node:assert/strict";
import { release } from "./release.ts";
import { SharedReads } from "./shared_reads.ts";

function counting(result: () => Promise<Uint8Array | null>) {
  const calls = { n: 0 };
  return {
    calls,
    read: () => {
      calls.n++;
      return result();
    },
  };
}

Deno.test("followers that want the same bytes at once share one read and one chunk", async () => {
  const reads = new SharedReads();
  reads.attach();
  reads.attach();
  const { calls, read } = counting(() =>
    Promise.resolve(new Uint8Array([1, 2, 3]))
  );
  const [a, b] = await Promise.all([
    reads.read("stdout", 0, read),
    reads.read("stdout", 0, read),
  ]);
  assert.equal(calls.n, 1);
  assert.equal(a, b);
  // Another place or stream is another read.
  await reads.read("stdout", 3, read);
  await reads.read("stderr", 0, read);
  assert.equal(calls.n, 3);
  // Each follower releases its chunk; the kept read still holds it.
  release(a!);
  release(b!);
  assert.deepEqual([...a!], [1, 2, 3]);
  // The last follower to go drops what is kept: the chunk is freed.
  reads.detach();
  reads.detach();
  await Promise.resolve();
  assert.equal(a!.byteLength, 0, "freed");
});

Deno.test("nothing found, or another follower's failed read, is not handed on", async () => {
  const reads = new SharedReads();
  reads.attach();
  const empty = Promise.withResolvers<Uint8Array | null>();
  const first = reads.read("stdout", 0, () => empty.promise);
  const mine = counting(() => Promise.resolve(new Uint8Array([9])));
  const second = reads.read("stdout", 0, mine.read);
  empty.resolve(null); // EOF for the first (or it was cancelled)
  assert.equal(await first, null);
  assert.deepEqual([...(await second)!], [9], "the second read for itself");

  const failing = Promise.withResolvers<Uint8Array | null>();
  const third = reads.read("stderr", 5, () => failing.promise);
  const fourth = reads.read("stderr", 5, mine.read);
  failing.reject(new Error("Bad resource ID"));
  await assert.rejects(third, /Bad resource/);
  assert.deepEqual([...(await fourth)!], [9]);
  assert.equal(mine.calls.n, 2);
  reads.detach();
});
