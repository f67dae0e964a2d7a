import assert from "node:assert/strict";
import { parseInvocation } from "./args.ts";
import { UsageError } from "./usage_error.ts";

Deno.test("everything after -- goes to the job untouched", () => {
  const inv = parseInvocation([
    "run",
    "--memory",
    "64M",
    "-e",
    "A=1=2",
    "--",
    "sh",
    "-c",
    "exit 3",
    "--",
    "--help",
  ]);
  assert.equal(inv.command, "run");
  if (inv.command !== "run") return;
  assert.equal(inv.spec.command, "sh");
  assert.deepEqual(inv.spec.args, ["-c", "exit 3", "--", "--help"]);
  assert.deepEqual(inv.spec.env, { A: "1=2" });
  assert.equal(inv.spec.limits.memoryBytes, 64n * 1024n * 1024n);
});

Deno.test("start parses every limit and connection flags before the command", () => {
  const inv = parseInvocation([
    "--server",
    "example:1",
    "--user",
    "admin",
    "start",
    "--name",
    "build",
    "--cpu",
    "0.5",
    "--io-read",
    "10M",
    "--io-write",
    "1G",
    "--pids",
    "64",
    "--dir",
    "/tmp",
    "--json",
    "--",
    "make",
  ]);
  assert.deepEqual(inv, {
    command: "start",
    conn: { server: "example:1", user: "admin" },
    json: true,
    noColor: false,
    spec: {
      command: "make",
      args: [],
      name: "build",
      dir: "/tmp",
      env: {},
      limits: {
        cpu: 0.5,
        ioReadBps: 10n * 1024n ** 2n,
        ioWriteBps: 1024n ** 3n,
        pids: 64,
      },
    },
  });
});

Deno.test("start without -- takes the positionals as the command", () => {
  const inv = parseInvocation(["start", "echo", "hi"]);
  assert.ok(inv.command === "start");
  assert.deepEqual([inv.spec.command, ...inv.spec.args], ["echo", "hi"]);
});

Deno.test("logs, stop, status, ls and whoami parse their flags", () => {
  assert.deepEqual(
    parseInvocation(["logs", "-f", "--stderr", "--from", "10", "abc"]),
    {
      command: "logs",
      conn: {},
      id: "abc",
      follow: true,
      streams: "stderr",
      from: 10n,
      timestamps: false,
      since: undefined,
      until: undefined,
      tail: undefined,
      noColor: false,
    },
  );
  const both = parseInvocation(["logs", "--stdout", "--stderr", "abc"]);
  assert.ok(both.command === "logs" && both.streams === "both" && !both.follow);
  assert.deepEqual(parseInvocation(["stop", "--grace", "1m30s", "abc"]), {
    command: "stop",
    conn: {},
    ids: ["abc"],
    graceMs: 90_000,
    json: false,
    noColor: false,
  });
  assert.deepEqual(parseInvocation(["status", "--json", "abc"]), {
    command: "status",
    conn: {},
    id: "abc",
    json: true,
    noColor: false,
  });
  assert.deepEqual(parseInvocation(["ls", "-a", "--owner", "bob"]), {
    command: "ls",
    conn: {},
    all: true,
    owner: "bob",
    states: [],
    name: undefined,
    format: "table",
    noColor: false,
  });
  assert.deepEqual(parseInvocation(["rm", "abc", "def"]), {
    command: "rm",
    conn: {},
    ids: ["abc", "def"],
    json: false,
    noColor: false,
  });
  assert.deepEqual(parseInvocation(["whoami", "--cert", "c", "--key", "k"]), {
    command: "whoami",
    conn: { cert: "c", key: "k" },
    json: false,
    noColor: false,
  });
});

Deno.test("logs takes docker's -t, --since, --until and --tail", () => {
  const now = Date.UTC(2026, 11, 3, 16, 0, 0);
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  const inv = parseInvocation([
    "logs",
    "-t",
    "--since",
    "10m",
    "--until",
    "2026-12-03T15:59:00.000000001Z",
    "-n",
    "20",
    "abc",
  ], now);
  assert.ok(inv.command === "logs");
  assert.deepEqual(
    [inv.timestamps, inv.since, inv.until, inv.tail],
    [true, ns(now - 600_000), ns(now - 60_000) + 1n, 20n],
  );
  const long = parseInvocation(
    ["logs", "--timestamps", "--tail", "0", "--since=1764777600", "abc"],
    now,
  );
  assert.ok(long.command === "logs");
  assert.deepEqual(
    [long.timestamps, long.tail, long.since],
    [true, 0n, 1_764_777_600_000_000_000n],
  );
  const all = parseInvocation(["logs", "--tail", "all", "abc"]);
  assert.ok(all.command === "logs" && all.tail === undefined);
});

Deno.test("--no-color is taken before or after any command", () => {
  const before = parseInvocation(["--no-color", "ls"]);
  assert.ok(before.command === "ls" && before.noColor);
  const after = parseInvocation(["status", "abc", "--no-color"]);
  assert.ok(after.command === "status" && after.noColor);
  const none = parseInvocation(["whoami"]);
  assert.ok(none.command === "whoami" && !none.noColor);
  assert.deepEqual(parseInvocation(["--no-color", "--version"]), {
    command: "version",
    noColor: true,
  });
  assert.deepEqual(parseInvocation(["--no-color", "completion", "fish"]), {
    command: "completion",
    shell: "fish",
    noColor: true,
  });
});

Deno.test("run takes -d to detach and --rm to remove the job once ended", () => {
  const plain = parseInvocation(["run", "--", "true"]);
  assert.ok(plain.command === "run" && !plain.detach && !plain.rm);
  const detached = parseInvocation(["run", "-d", "--name", "web", "--", "x"]);
  assert.ok(detached.command === "run");
  assert.deepEqual(
    [detached.detach, detached.rm, detached.spec.name],
    [true, false, "web"],
  );
  const long = parseInvocation(["run", "--detach", "--", "x"]);
  assert.ok(long.command === "run" && long.detach);
  const removed = parseInvocation(["run", "--rm", "--", "x"]);
  assert.ok(removed.command === "run" && removed.rm && !removed.detach);
});

Deno.test("wait waits for all jobs unless --any", () => {
  assert.deepEqual(parseInvocation(["wait", "a", "b"]), {
    command: "wait",
    conn: {},
    ids: ["a", "b"],
    any: false,
    noColor: false,
  });
  const any = parseInvocation(["wait", "--any", "a", "b"]);
  assert.ok(any.command === "wait" && any.any);
  const all = parseInvocation(["wait", "--all", "a"]);
  assert.ok(all.command === "wait" && !all.any);
});

Deno.test("ls filters by state and name and prints table, json or ids", () => {
  assert.deepEqual(
    parseInvocation([
      "ls",
      "--state",
      "exited,failed",
      "--state",
      "lost",
      "--state",
      "exited",
      "--name",
      "build",
      "-q",
    ]),
    {
      command: "ls",
      conn: {},
      all: true,
      owner: undefined,
      states: ["exited", "failed", "lost"],
      name: "build",
      format: "ids",
      noColor: false,
    },
  );
  const running = parseInvocation(["ls", "--state", "running"]);
  assert.ok(running.command === "ls");
  assert.deepEqual([running.all, running.states], [false, ["running"]]);
  const formats: [string[], string][] = [
    [[], "table"],
    [["--json"], "json"],
    [["--format", "json"], "json"],
    [["--format=ids"], "ids"],
    [["--quiet"], "ids"],
    [["--format", "table"], "table"],
    [["--json", "--format", "json"], "json"],
    [["-q", "--format", "ids"], "ids"],
  ];
  for (const [flags, format] of formats) {
    const inv = parseInvocation(["ls", ...flags]);
    assert.ok(inv.command === "ls");
    assert.equal(inv.format, format, flags.join(" "));
  }
});

Deno.test("prune takes an age, ended states and an owner", () => {
  assert.deepEqual(parseInvocation(["prune"]), {
    command: "prune",
    conn: {},
    olderThanMs: undefined,
    states: [],
    owner: undefined,
    json: false,
    noColor: false,
  });
  assert.deepEqual(
    parseInvocation([
      "prune",
      "--older-than",
      "1h30m",
      "--state",
      "failed,lost",
      "--state=signaled",
      "--owner",
      "bob",
      "--json",
    ]),
    {
      command: "prune",
      conn: {},
      olderThanMs: 5_400_000,
      states: ["failed", "lost", "signaled"],
      owner: "bob",
      json: true,
      noColor: false,
    },
  );
});

Deno.test("completion names its shell and needs no connection", () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    assert.deepEqual(parseInvocation(["completion", shell]), {
      command: "completion",
      shell,
      noColor: false,
    });
  }
  assert.deepEqual(parseInvocation(["completion", "--help"]), {
    command: "help",
    topic: "completion",
  });
  assert.deepEqual(parseInvocation(["help", "completion"]), {
    command: "help",
    topic: "completion",
  });
});

Deno.test("--help anywhere and `help CMD` ask for help", () => {
  assert.deepEqual(parseInvocation(["--help"]), { command: "help" });
  assert.deepEqual(parseInvocation(["-h"]), { command: "help" });
  assert.deepEqual(parseInvocation(["logs", "--help"]), {
    command: "help",
    topic: "logs",
  });
  assert.deepEqual(parseInvocation(["help", "run"]), {
    command: "help",
    topic: "run",
  });
  assert.deepEqual(parseInvocation(["help"]), {
    command: "help",
    topic: undefined,
  });
});

Deno.test("usage mistakes are UsageErrors with a short message", () => {
  const cases: [string[], RegExp][] = [
    [[], /^missing command$/],
    [["frobnicate"], /^unknown command "frobnicate"$/],
    [["ls", "--bogus"], /^unknown option --bogus$/],
    [["ls", "--owner"], /^--owner needs a value$/],
    [["ls", "--json=yes"], /^--json does not take a value$/],
    [["ls", "x"], /takes no arguments/],
    [["stop"], /^stop needs a job id$/],
    [["status", "a", "b"], /takes one job id/],
    [["start"], /^missing command to run/],
    [["start", "x", "--", "y"], /^unexpected "x" before --$/],
    [["start", "--memory", "lots", "--", "x"], /^--memory: not a size/],
    [["start", "--cpu", "", "--", "x"], /^--cpu: not a number/],
    [["start", "--pids", "1.5", "--", "x"], /^--pids: not a whole number/],
    [["start", "-e", "NOEQUALS", "--", "x"], /^--env: expected KEY=VALUE/],
    [["start", "-e", "=v", "--", "x"], /^--env: expected KEY=VALUE/],
    [["stop", "--grace", "soon", "x"], /^--grace: not a duration/],
    [["logs", "--from", "-1", "x"], /^--from/],
    [["logs", "--since", "yesterday", "x"], /^--since: not a duration or time/],
    [["logs", "--until", "2026-02-30T00:00:00Z", "x"], /^--until: not a/],
    [["logs", "--tail", "many", "x"], /^--tail: not a number of lines/],
    [["logs", "--tail=-1", "x"], /^--tail: not a number of lines/],
    [["logs", "-n", "1.5", "x"], /^--tail: not a number of lines/],
    [["help", "nope"], /^unknown command "nope"$/],
    [["run", "-d", "--rm", "--", "x"], /^--rm cannot be used with -d$/],
    [["run", "--rm", "--detach", "--", "x"], /^--rm cannot be used with -d$/],
    [["start", "-d", "--", "x"], /^unknown option -d$/],
    [["wait"], /^wait needs a job id$/],
    [["wait", "--any", "--all", "x"], /^--any cannot be used with --all$/],
    [["ls", "--state", "sleeping"], /^--state: unknown state "sleeping"/],
    [["ls", "--state", "exited,"], /^--state: unknown state ""/],
    [["ls", "--format", "xml"], /^--format: unknown format "xml"/],
    [
      ["ls", "-q", "--format", "json"],
      /^-q cannot be used with --format json$/,
    ],
    [["ls", "--json", "-q"], /^-q cannot be used with --json$/],
    [["ls", "--format", "table", "--json"], /^--json cannot be used with/],
    [["ls", "--name"], /^--name needs a value$/],
    [["prune", "x"], /^prune takes no arguments/],
    [["prune", "--state", "running"], /prune removes only ended jobs$/],
    [["prune", "--state", "exited,running"], /prune removes only ended jobs/],
    [["prune", "--state", "gone"], /^--state: unknown state "gone"/],
    [["prune", "--older-than", "a while"], /^--older-than: not a duration/],
    [["prune", "--older-than"], /^--older-than needs a value$/],
    [["completion"], /^completion needs a shell: bash, zsh or fish$/],
    [["completion", "tcsh"], /^unknown shell "tcsh" \(bash, zsh or fish\)$/],
    [["completion", "bash", "zsh"], /^completion takes one shell, got 2$/],
    [["--no-color=yes", "ls"], /^--no-color does not take a value$/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseInvocation(argv), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${argv.join(" ")}: ${err}`);
      assert.match(err.message, message, argv.join(" "));
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  }
});
