import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  type LogsResponse,
  LogsResponseSchema,
  OutputStream,
} from "../gen/jobworker/v1/jobworker_pb.ts";
import { copyLogs } from "./copy_logs.ts";
import type { Output } from "./output.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const T0 = BigInt(Date.UTC(2026, 11, 3, 16, 27, 55));

function chunk(
  data: string,
  stream: OutputStream,
  ms: number,
  nanos = 0,
  droppedBytes = 0n,
): LogsResponse {
  return create(LogsResponseSchema, {
    data: encoder.encode(data),
    stream,
    time: { seconds: (T0 + BigInt(ms)) / 1000n, nanos: nanos },
    droppedBytes,
  });
}

async function* from(chunks: LogsResponse[]) {
  yield* chunks;
}

/** An Output that records what was written where. */
function recorder(): Output & { stdout: string; stderr: string } {
  const seen = {
    stdout: "",
    stderr: "",
    tty: false,
    out: (data: Uint8Array | string) => {
      seen.stdout += typeof data === "string" ? data : decoder.decode(data);
      return Promise.resolve();
    },
    err: (data: Uint8Array | string) => {
      seen.stderr += typeof data === "string" ? data : decoder.decode(data);
      return Promise.resolve();
    },
  };
  return seen;
}

const { STDOUT, STDERR } = OutputStream;

Deno.test("-t stamps each line with its first byte's chunk time, per stream", async () => {
  const output = recorder();
  await copyLogs(
    from([
      chunk("one\ntw", STDOUT, 0, 123_456_789),
      chunk("warn", STDERR, 1000, 5),
      chunk("o\nthree\n", STDOUT, 2000, 0),
      chunk("ing\n", STDERR, 3000, 0),
    ]),
    "both",
    output,
    { timestamps: true },
  );
  assert.equal(
    output.stdout,
    "2026-12-03T16:27:55.123456789Z one\n" +
      "2026-12-03T16:27:55.123456789Z two\n" +
      "2026-12-03T16:27:57.000000000Z three\n",
  );
  assert.equal(output.stderr, "2026-12-03T16:27:56.000000005Z warning\n");
});

Deno.test("one chosen stream goes to stdout, stamped as one stream", async () => {
  const output = recorder();
  await copyLogs(
    from([chunk("a", STDERR, 0), chunk("b\n", STDERR, 1000)]),
    "stderr",
    output,
    { timestamps: true },
  );
  assert.deepEqual([output.stdout, output.stderr], [
    "2026-12-03T16:27:55.000000000Z ab\n",
    "",
  ]);
});

Deno.test("without -t the bytes are untouched", async () => {
  const output = recorder();
  await copyLogs(
    from([chunk("a\nb", STDOUT, 0), chunk("e\n", STDERR, 0)]),
    "both",
    output,
  );
  assert.deepEqual([output.stdout, output.stderr], ["a\nb", "e\n"]);
});

Deno.test("dropped output is noted on stderr once per chunk that says so", async () => {
  const output = recorder();
  await copyLogs(
    from([
      chunk("x\n", STDOUT, 0, 0, 4096n),
      chunk("y\n", STDOUT, 0),
      chunk("", STDOUT, 0, 0, 7n),
    ]),
    "stdout",
    output,
  );
  assert.equal(output.stdout, "x\ny\n");
  assert.equal(
    output.stderr,
    "jw: 4096 bytes of output dropped by the server's output cap\n" +
      "jw: 7 bytes of output dropped by the server's output cap\n",
  );
});
