/**
 * Logs through the real server: bytes arrive exactly as written, followers
 * agree, cancelled streams release the server, and many readers at once
 * are served.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { OutputStream } from "../../gen/jobworker/v1/jobworker_pb.ts";
import { concat } from "./client.ts";
import { startTestServer } from "./test_server.ts";

Deno.test("Logs", async (t) => {
  await using server = await startTestServer();
  const alice = await server.client("alice");
  const admin = await server.client("admin");

  await t.step("binary output round-trips byte-identical", async () => {
    const bytes = new Uint8Array(300_000);
    for (let i = 0; i < 256 * 8; i++) bytes[i] = i % 256;
    crypto.getRandomValues(bytes.subarray(256 * 8, 65_536 + 256 * 8));
    const file = await Deno.makeTempFile({
      dir: server.shared,
      prefix: "logs-",
    });
    try {
      await Deno.writeFile(file, bytes);
      await Deno.chmod(file, 0o644);
      const { job } = await alice.call("start", {
        command: "cat",
        args: [file],
      });
      const stdout = await alice.readLogs({
        jobId: job!.id,
        follow: true,
        streams: [OutputStream.STDOUT],
      });
      assert.equal(stdout.length, bytes.length);
      assert.deepEqual(stdout, bytes);
      // Once over, a plain read from offset 0 gives the same bytes again.
      assert.deepEqual(await alice.readLogs({ jobId: job!.id }), bytes);
      const tail = await alice.readLogs({
        jobId: job!.id,
        streams: [OutputStream.STDOUT],
        offset: 299_000n,
      });
      assert.deepEqual(tail, bytes.subarray(299_000));
    } finally {
      await Deno.remove(file);
    }
  });

  await t.step("two followers of one job receive identical bytes", async () => {
    const { job } = await alice.call("start", {
      command: "sh",
      args: [
        "-c",
        "for i in $(seq 1 20); do head -c 3000 /dev/urandom; echo e >&2; sleep 0.02; done",
      ],
    });
    const [a, b] = await Promise.all([
      alice.readLogs({ jobId: job!.id, follow: true }),
      admin.readLogs({ jobId: job!.id, follow: true }),
    ]);
    assert.equal(a.length, 20 * 3000 + 20 * 2);
    assert.deepEqual(a, b);
  });

  await t.step("chunks carry their stream and offset", async () => {
    const { job } = await alice.call("start", {
      command: "sh",
      args: ["-c", "printf out1; printf err1 >&2; printf out2"],
    });
    const offsets: Record<number, bigint> = {
      [OutputStream.STDOUT]: 0n,
      [OutputStream.STDERR]: 0n,
    };
    const perStream: Record<number, Uint8Array[]> = {
      [OutputStream.STDOUT]: [],
      [OutputStream.STDERR]: [],
    };
    for await (const message of alice.logs({ jobId: job!.id, follow: true })) {
      assert.equal(message.offset, offsets[message.stream]);
      offsets[message.stream] += BigInt(message.data.length);
      perStream[message.stream].push(message.data);
    }
    const text = (parts: Uint8Array[]) =>
      new TextDecoder().decode(concat(parts));
    assert.equal(text(perStream[OutputStream.STDOUT]), "out1out2");
    assert.equal(text(perStream[OutputStream.STDERR]), "err1");
  });

  await t.step(
    "the combined view: order written, positions, times, since, until and tail",
    async () => {
      const { job } = await alice.call("start", {
        command: "sh",
        args: [
          "-c",
          "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.1; done",
        ],
      });
      const messages = [];
      for await (
        const message of alice.logs({
          jobId: job!.id,
          follow: true,
          exactTimes: true,
        })
      ) messages.push(message);
      const decoder = new TextDecoder();
      const text = (list: { data: Uint8Array }[]) =>
        list.map((m) => decoder.decode(m.data)).join("");
      assert.equal(text(messages), "out1\nerr1\nout2\nerr2\nout3\nerr3\n");
      let position = 0n;
      for (const message of messages) {
        assert.equal(message.position, position);
        position += BigInt(message.data.length);
        assert.ok(message.time!.seconds > 1_700_000_000n);
      }
      // The line "out2" and what follows, by its time; the last two lines.
      const second = messages.find((m) => decoder.decode(m.data) === "out2\n")!;
      const since = await alice.readLogs({
        jobId: job!.id,
        since: second.time,
      });
      assert.equal(decoder.decode(since), "out2\nerr2\nout3\nerr3\n");
      const until = await alice.readLogs({
        jobId: job!.id,
        until: second.time,
      });
      assert.equal(decoder.decode(until), "out1\nerr1\nout2\n");
      const tail = await alice.readLogs({ jobId: job!.id, tail: 2n });
      assert.equal(decoder.decode(tail), "out3\nerr3\n");
      const resumed = await alice.readLogs({
        jobId: job!.id,
        offset: messages[3].position,
      });
      assert.equal(decoder.decode(resumed), "err2\nout3\nerr3\n");
      await assert.rejects(
        alice.readLogs({
          jobId: job!.id,
          since: { seconds: 1n, nanos: 2_000_000_000 },
        }),
        (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT,
      );
    },
  );

  await t.step(
    "a client cancelling a follow ends the call and the server carries on",
    async () => {
      const { job } = await alice.call("start", {
        command: "sh",
        args: ["-c", "while true; do echo tick; sleep 0.05; done"],
      });
      const call = alice.logs({ jobId: job!.id, follow: true });
      const ended = new Promise<grpc.status>((resolve) => {
        call.on("error", (err: grpc.ServiceError) => resolve(err.code));
        call.on("end", () => resolve(grpc.status.OK));
      });
      await new Promise((resolve) => call.once("data", resolve));
      call.cancel();
      assert.equal(await ended, grpc.status.CANCELLED);
      while (
        !server.logs.some((r) =>
          r.method === "/jobworker.v1.JobWorker/Logs" && r.job === job!.id &&
          r.code === "CANCELLED"
        )
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await alice.call("stop", { jobId: job!.id, grace: { seconds: 0n } });
      assert.equal((await alice.call("whoAmI", {})).user, "alice");
    },
  );

  await t.step("1,000 concurrent Logs calls are all served", async () => {
    const { job } = await alice.call("start", {
      command: "sh",
      args: ["-c", "head -c 20000 /dev/urandom"],
    });
    const expected = await alice.readLogs({ jobId: job!.id, follow: true });
    assert.equal(expected.length, 20_000);
    const clients = await Promise.all(
      [1, 2, 3, 4].map(() => server.client("alice")),
    );
    const results = await Promise.all(
      Array.from(
        { length: 1000 },
        // A generous deadline: 1,000 streams on the emulated cgroup v2 VM
        // took close to the default minute. What counts is that all are served.
        (_, i) => clients[i % 4].readLogs({ jobId: job!.id }, 240_000),
      ),
    );
    for (const result of results) assert.deepEqual(result, expected);
  });
});
