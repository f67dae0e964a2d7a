import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import {
  LogsRequestSchema,
  type LogsResponse,
  LogsResponseSchema,
  OutputStream,
} from "../gen/jobworker/v1/jobworker_pb.ts";
import {
  type LogsRequestInit,
  reconnectDelayMs,
  resumeLogs,
  resumeRequest,
} from "./resume_logs.ts";

function serviceError(code: status, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), {
    code,
    details,
  });
}

function chunk(data: string, offset: bigint, position: bigint): LogsResponse {
  return create(LogsResponseSchema, {
    data: new TextEncoder().encode(data),
    stream: OutputStream.STDOUT,
    offset,
    position,
  });
}

const SINCE = { seconds: 1_764_777_600n, nanos: 0 };
const UNTIL = { seconds: 1_764_781_200n, nanos: 0 };

Deno.test("both streams resume at position + length, one stream at offset + length", () => {
  const both: LogsRequestInit = {
    jobId: "j",
    follow: true,
    streams: [],
    tail: 10n,
    since: SINCE,
    until: UNTIL,
    exactTimes: true,
  };
  assert.deepEqual(resumeRequest(both, chunk("abc", 5n, 40n)), {
    jobId: "j",
    follow: true,
    streams: [],
    until: UNTIL,
    exactTimes: true,
    offset: 43n,
  });
  const one: LogsRequestInit = {
    jobId: "j",
    follow: true,
    streams: [OutputStream.STDERR],
    offset: 2n,
    tail: 0n,
  };
  assert.deepEqual(resumeRequest(one, chunk("abcd", 5n, 40n)), {
    jobId: "j",
    follow: true,
    streams: [OutputStream.STDERR],
    offset: 9n,
  });
  const resumed = create(
    LogsRequestSchema,
    resumeRequest(both, chunk("", 5n, 40n)),
  );
  assert.equal(resumed.tail, undefined, "tail is unset on the wire");
  assert.equal(resumed.since, undefined);
  assert.equal(resumed.offset, 40n);
});

Deno.test("reconnects wait 100 ms, doubling, at most 2 s", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 30].map(reconnectDelayMs),
    [100, 200, 400, 800, 1600, 2000, 2000],
  );
});

/** A fake `client.logs`: each call plays the next script (chunks, then an error or the end). */
function fakeLogs(scripts: (LogsResponse | Error)[][]) {
  const requests: LogsRequestInit[] = [];
  const open = (request: LogsRequestInit) => {
    requests.push(request);
    const script = scripts.shift() ?? [];
    return (async function* () {
      for (const step of script) {
        if (step instanceof Error) throw step;
        yield step;
      }
    })();
  };
  return { open, requests };
}

async function collect(chunks: AsyncIterable<LogsResponse>): Promise<string> {
  let text = "";
  for await (const c of chunks) text += new TextDecoder().decode(c.data);
  return text;
}

Deno.test("a followed log that loses its connection resumes where it was", async () => {
  const dropped = serviceError(status.UNAVAILABLE, "Connection dropped");
  const refused = serviceError(status.UNAVAILABLE, "connect ECONNREFUSED");
  const { open, requests } = fakeLogs([
    [chunk("one\n", 0n, 0n), chunk("tw", 4n, 6n), dropped],
    [refused],
    [serviceError(status.CANCELLED, "Call cancelled")],
    [chunk("o\n", 6n, 8n), dropped],
    [chunk("three\n", 8n, 10n)],
  ]);
  const notes: number[] = [];
  const waits: number[] = [];
  const text = await collect(
    resumeLogs(open, { jobId: "j", follow: true, tail: 5n }, {
      onReconnect: (attempt) => void notes.push(attempt),
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    }),
  );
  assert.equal(text, "one\ntwo\nthree\n");
  assert.deepEqual(requests.map((r) => [r.offset, r.tail]), [
    [undefined, 5n],
    [8n, undefined],
    [8n, undefined],
    [8n, undefined],
    [10n, undefined],
  ]);
  assert.deepEqual(notes, [1, 2, 3, 1], "a chunk resets the count");
  assert.deepEqual(waits, [100, 200, 400, 100]);
});

Deno.test("a connection lost before the first chunk retries the request as it was", async () => {
  const { open, requests } = fakeLogs([
    [serviceError(status.UNAVAILABLE, "connect ECONNREFUSED")],
    [chunk("x", 0n, 0n)],
  ]);
  const request = { jobId: "j", follow: true, tail: 3n };
  assert.equal(
    await collect(
      resumeLogs(open, request, { sleep: () => Promise.resolve() }),
    ),
    "x",
  );
  assert.deepEqual(requests, [request, request]);
});

Deno.test("reconnecting gives up after maxReconnects with the last error", async () => {
  const refused = serviceError(status.UNAVAILABLE, "connect ECONNREFUSED");
  const { open, requests } = fakeLogs(
    Array.from({ length: 10 }, () => [refused]),
  );
  const notes: number[] = [];
  await assert.rejects(
    collect(resumeLogs(open, { jobId: "j", follow: true }, {
      maxReconnects: 3,
      onReconnect: (attempt) => void notes.push(attempt),
      sleep: () => Promise.resolve(),
    })),
    (err) => err === refused,
  );
  assert.equal(requests.length, 4, "the first call and three reconnects");
  assert.deepEqual(notes, [1, 2, 3]);
});

Deno.test("answers from the server and our own cancel are not retried", async () => {
  const notFound = serviceError(status.NOT_FOUND, "job j");
  const { open, requests } = fakeLogs([[chunk("a", 0n, 0n), notFound]]);
  await assert.rejects(
    collect(
      resumeLogs(open, { jobId: "j" }, { sleep: () => Promise.resolve() }),
    ),
    (err) => err === notFound,
  );
  assert.equal(requests.length, 1);

  const leave = new AbortController();
  const cancelled = serviceError(status.CANCELLED, "Call cancelled");
  const ours = fakeLogs([[chunk("a", 0n, 0n), cancelled]]);
  const chunks = resumeLogs(ours.open, { jobId: "j" }, {
    signal: leave.signal,
    sleep: () => Promise.resolve(),
  });
  await assert.rejects(
    (async () => {
      for await (const _ of chunks) leave.abort();
    })(),
    (err) => err === cancelled,
  );
  assert.equal(ours.requests.length, 1);
});

Deno.test("aborting during the wait between attempts ends at once", async () => {
  const leave = new AbortController();
  const { open } = fakeLogs([[serviceError(status.UNAVAILABLE, "down")]]);
  const started = Date.now();
  const chunks = resumeLogs(open, { jobId: "j" }, {
    signal: leave.signal,
    onReconnect: () =>
      void setTimeout(() => leave.abort(new Error("left")), 10),
  });
  await assert.rejects(collect(chunks), /left/);
  assert.ok(Date.now() - started < 90, "did not wait out the 100 ms");
});
