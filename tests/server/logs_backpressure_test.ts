/**
 * Logs honours HTTP/2 flow control: a client that stops reading makes the
 * server stop reading the job's output, instead of buffering it.
 */
import assert from "node:assert/strict";
import { OutputStream } from "../../gen/jobworker/v1/jobworker_pb.ts";
import { startTestServer } from "./test_server.ts";

const MiB = 1024 * 1024;

Deno.test("a paused Logs client does not make the server buffer the job's output", async () => {
  await using server = await startTestServer();
  const admin = await server.client("admin");
  // Twice what the bound allows, so a server that buffered it would fail.
  const total = 128 * MiB;
  const { job } = await admin.call("start", {
    command: "head",
    args: ["-c", String(total), "/dev/zero"],
    // Room for the page cache of the output file.
    limits: { memoryBytes: 2048n * BigInt(MiB) },
  });
  // Emulated machines (the cgroup v2 VM) stream slowly: allow minutes.
  const call = admin.logs(
    { jobId: job!.id, follow: true, streams: [OutputStream.STDOUT] },
    10 * 60_000,
  );
  let received = 0;
  const first = new Promise<void>((resolve) =>
    call.once("data", () => resolve())
  );
  call.on("data", (message) => received += message.data.length);
  await first;
  call.pause();
  const rssBefore = Deno.memoryUsage().rss;
  // The job writes all of it to disk while nobody reads.
  while (
    (await admin.call("status", { jobId: job!.id })).job?.stdoutBytes !==
      BigInt(total)
  ) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 500));
  const grown = Deno.memoryUsage().rss - rssBefore;
  assert.ok(
    grown < 64 * MiB,
    `server and client grew ${grown} bytes while the client was paused`,
  );
  // Resumed, every byte arrives.
  const ended = new Promise<void>((resolve, reject) => {
    call.on("end", resolve);
    call.on("error", reject);
  });
  call.resume();
  await ended;
  assert.equal(received, total);
});
