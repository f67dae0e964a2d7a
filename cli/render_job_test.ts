import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobSchema, JobState } from "../gen/jobworker/v1/jobworker_pb.ts";
import {
  renderDetails,
  renderTable,
  shellQuote,
  shortAge,
} from "./render_job.ts";

const NOW = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
const job = (init: Parameters<typeof create<typeof JobSchema>>[1]) =>
  create(JobSchema, {
    createdAt: timestampFromMs(NOW.getTime() - 90_000),
    ...init,
  });

const jobs = [
  job({
    id: "a1",
    owner: "alice",
    state: JobState.RUNNING,
    command: "sleep",
    args: ["60"],
  }),
  job({
    id: "b2",
    owner: "bob",
    name: "build",
    state: JobState.EXITED,
    exitCode: 3,
    command: "sh",
    args: ["-c", "exit 3"],
  }),
  job({
    id: "c3",
    owner: "alice",
    state: JobState.SIGNALED,
    signal: 9,
    oomKilled: true,
    command: "hog",
  }),
  job({
    id: "d4",
    owner: "alice",
    state: JobState.STOPPED,
    signal: 15,
    command: "srv",
  }),
  job({
    id: "e5",
    owner: "alice",
    state: JobState.STOPPED,
    exitCode: 5,
    command: "sh",
  }),
];

Deno.test("the ls table has aligned columns, short ages, and the exit of every ended job", () => {
  assert.equal(
    renderTable(jobs, { tty: false, now: NOW }),
    [
      "ID  OWNER  NAME   STATE             EXIT           AGE  COMMAND",
      "a1  alice         running                          1m   sleep 60",
      "b2  bob    build  exited            3              1m   sh -c 'exit 3'",
      "c3  alice         signaled          SIGKILL (oom)  1m   hog",
      "d4  alice         stopped           SIGTERM        1m   srv",
      "e5  alice         stopped (exit 5)  5              1m   sh",
    ].join("\n"),
  );
});

Deno.test("ages are in their largest whole unit", () => {
  assert.deepEqual(
    [0, 59_999, 60_000, 3_599_999, 3_600_000, 47 * 3_600_000, 48 * 3_600_000]
      .map(shortAge),
    ["0s", "59s", "1m", "59m", "1h", "47h", "2d"],
  );
});

Deno.test("NO_COLOR keeps a terminal's table plain", () => {
  Deno.env.set("NO_COLOR", "1");
  try {
    assert.ok(!renderTable(jobs, { tty: true, now: NOW }).includes("\x1b["));
  } finally {
    Deno.env.delete("NO_COLOR");
  }
});

Deno.test("--no-color keeps a terminal's table and details plain", () => {
  const options = { tty: true, now: NOW, colour: false };
  assert.ok(!renderTable(jobs, options).includes("\x1b["));
  assert.ok(!renderDetails(jobs[0], options).includes("\x1b["));
  assert.ok(renderTable(jobs, { ...options, colour: true }).includes("\x1b["));
});

Deno.test("on a terminal the table has human ages and colour", () => {
  const text = renderTable(jobs, { tty: true, now: NOW });
  assert.match(text, / 1m /);
  assert.ok(text.includes("\x1b[32mrunning\x1b[0m"), "running in green");
  // Without escapes the layout is the same as off a terminal, save the age.
  // deno-lint-ignore no-control-regex
  const plain = text.replace(/\x1b\[\d+m/g, "");
  assert.equal(
    plain.split("\n")[1],
    "a1  alice         running                          1m   sleep 60",
  );
});

Deno.test("status details list what is known, ISO times off a terminal", () => {
  const text = renderDetails(
    job({
      id: "b2",
      owner: "bob",
      state: JobState.EXITED,
      exitCode: 3,
      command: "sh",
      args: ["-c", "exit 3"],
      dir: "/",
      limits: { memoryBytes: 256n * 1024n * 1024n, pids: 64 },
      stdoutBytes: 5n,
    }),
    { tty: false, now: NOW },
  );
  assert.match(text, /^id {8}b2$/m);
  assert.match(text, /^state {5}exited 3$/m);
  assert.match(text, /^command {3}sh -c 'exit 3'$/m);
  assert.match(text, /^created {3}2026-01-01T11:58:30.000Z$/m);
  assert.match(text, /^limits {4}memory 256M, pids 64$/m);
  assert.match(text, /^output {4}stdout 5 bytes, stderr 0 bytes$/m);
  assert.doesNotMatch(text, /^(name|started|error) /m);
});

Deno.test("shellQuote leaves plain words alone and quotes the rest", () => {
  assert.equal(shellQuote("make"), "make");
  assert.equal(shellQuote("-j4"), "-j4");
  assert.equal(shellQuote("a b"), "'a b'");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote(""), "''");
});

Deno.test("what other users chose is shown with control characters escaped, never raw", () => {
  const hostile = job({
    id: "e5",
    owner: "mallory",
    name: "\x1b[2J\x1b[31mowned",
    state: JobState.FAILED_TO_START,
    command: "sh",
    args: ["-c", "x\rc3  admin  running  0  1s  fake row\n"],
    error: 'exec "\x1b]0;title\x07": nope',
  });
  const table = renderTable([hostile], { tty: false, now: NOW });
  const details = renderDetails(hostile, { tty: false, now: NOW });
  for (const text of [table, details]) {
    // deno-lint-ignore no-control-regex
    assert.ok(!/[\x00-\x09\x0b-\x1f\x7f]/.test(text), JSON.stringify(text));
  }
  // One row, and the command can still be pasted into bash.
  assert.equal(table.split("\n").length, 2);
  assert.match(
    table,
    /sh -c \$'x\\x0dc3 {2}admin {2}running {2}0 {2}1s {2}fake row\\x0a'$/m,
  );
  assert.match(details, /name {6}\\x1b\[2J\\x1b\[31mowned/);
  assert.match(details, /error {5}exec "\\x1b\]0;title\\x07": nope/);
  assert.equal(shellQuote("it's\x1b"), "$'it\\'s\\x1b'");
  assert.equal(shellQuote("a\u202eb"), "$'a\\u202eb'");
});
