/**
 * `jw` as users meet it: a subprocess talking to a real server (fresh
 * certificates, a real job runtime) over mTLS.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "../../cli/args.ts";
import { ensureDevCerts } from "../../certs/dev_certs.ts";
import { issueExpired, startTestServer } from "../server/test_server.ts";
import {
  assertOneLineError,
  connection,
  decoder,
  JW,
  jw,
  startProxy,
} from "./_jw.ts";

/** Reads `stream` to its end; `seen` resolves once the text holds `marker`. */
function readAll(stream: ReadableStream<Uint8Array>, marker = "") {
  let text = "";
  const { promise: seen, resolve: markerSeen } = Promise.withResolvers<void>();
  const done = (async () => {
    for await (const part of stream.pipeThrough(new TextDecoderStream())) {
      text += part;
      if (marker && text.includes(marker)) markerSeen();
    }
    markerSeen();
    return text;
  })();
  return { seen, done };
}

/** The lines of `text`, which ends with a newline. */
const lines = (text: string): string[] => text.split("\n").slice(0, -1);

const byteFormat = (): string =>
  Array.from({ length: 256 }, (_, i) => "\\" + i.toString(8).padStart(3, "0"))
    .join("");
const allBytes = (): Uint8Array =>
  Uint8Array.from({ length: 256 }, (_, i) => i);

Deno.test("jw against a real server", async (t) => {
  const server = await startTestServer();
  try {
    await t.step("whoami names the admin and a user", async () => {
      const admin = await jw(server, "admin", "whoami");
      assert.deepEqual([admin.code, admin.out, admin.err], [
        0,
        "admin (admin)\n",
        "",
      ]);
      const alice = await jw(server, "alice", "whoami", "--json");
      assert.equal(alice.code, 0);
      assert.deepEqual(JSON.parse(alice.out), {
        user: "alice",
        role: "ROLE_USER",
      });
    });

    await t.step(
      "--server takes an IP address, checked against the certificate's IP SAN",
      async () => {
        const port = server.address.split(":").pop();
        const byIp = await jw(
          server,
          "alice",
          "--server",
          `127.0.0.1:${port}`,
          "whoami",
        );
        assert.deepEqual([byIp.code, byIp.out, byIp.err], [
          0,
          "alice (user)\n",
          "",
        ]);
        // The dev certificate names localhost and 127.0.0.1 only: the same
        // server reached at 127.0.0.2 must be refused, in one line.
        await using proxy = await startProxy(server.port, "127.0.0.2");
        const wrong = await jw(
          server,
          "alice",
          "--server",
          `127.0.0.2:${proxy.port}`,
          "whoami",
        );
        assert.equal(wrong.code, 1);
        assert.match(
          wrong.err,
          /^jw: cannot reach server 127\.0\.0\.2:\d+: .*127\.0\.0\.2 is not in the cert's list.*\n$/,
        );
      },
    );

    await t.step(
      "an expired certificate is refused in one line saying when it expired",
      async () => {
        const { pem: expired, notAfter } = await issueExpired(server, "erin");
        await Deno.writeTextFile(join(server.dir, "erin.pem"), expired.cert);
        await Deno.writeTextFile(join(server.dir, "erin.key"), expired.key, {
          mode: 0o600,
        });
        const stamp = notAfter.toISOString().slice(0, 19);
        assertOneLineError(
          await jw(server, "erin", "ls"),
          1,
          new RegExp(
            `^jw: the server refused your certificate: expired on ${stamp}Z\n$`,
          ),
        );
      },
    );

    let sleeper = "";
    await t.step(
      "start prints only the job id; status and stop work on it",
      async () => {
        const started = await jw(
          server,
          "alice",
          "start",
          "--name",
          "nap",
          "--",
          "sleep",
          "60",
        );
        assert.equal(started.code, 0, started.err);
        assert.match(started.out, /^[0-9a-z-]+\n$/);
        sleeper = started.out.trim();

        const status = await jw(server, "alice", "status", sleeper);
        assert.equal(status.code, 0, status.err);
        assert.match(status.out, new RegExp(`^id +${sleeper}$`, "m"));
        assert.match(status.out, /^state +running$/m);
        assert.match(status.out, /^command +sleep 60$/m);

        const listed = await jw(server, "alice", "ls");
        assert.equal(listed.code, 0, listed.err);
        assert.match(
          listed.out,
          /^ID +OWNER +NAME +STATE +EXIT +AGE +COMMAND\n/,
        );
        assert.match(
          listed.out,
          new RegExp(`^${sleeper} +alice +nap +running +\\d+s +sleep 60$`, "m"),
        );

        const stopped = await jw(
          server,
          "alice",
          "stop",
          "--grace",
          "2s",
          sleeper,
        );
        assert.deepEqual([stopped.code, stopped.out, stopped.err], [0, "", ""]);
        const json = await jw(server, "alice", "status", "--json", sleeper);
        const job = JSON.parse(json.out);
        assert.equal(job.state, "JOB_STATE_STOPPED");
        assert.equal(job.name, "nap");
      },
    );

    await t.step(
      "ls shows running jobs, --all the ended ones; users see only their own",
      async () => {
        const running = await jw(server, "alice", "ls");
        assert.doesNotMatch(running.out, new RegExp(sleeper));
        const all = await jw(server, "alice", "ls", "--all", "--json");
        assert.equal(all.code, 0, all.err);
        const jobs = all.out.trimEnd().split("\n").map((line) =>
          JSON.parse(line)
        );
        assert.ok(
          jobs.some((job) => job.id === sleeper && job.owner === "alice"),
        );
        const bobs = await jw(server, "bob", "ls", "--all");
        assert.doesNotMatch(bobs.out, new RegExp(sleeper));
        const admins = await jw(server, "admin", "ls", "--all");
        assert.match(
          admins.out,
          new RegExp(`^${sleeper} +alice +nap +stopped +SIG`, "m"),
        );
      },
    );

    await t.step(
      "stop and rm take several ids; stopping an ended job is a note; ls shows how a stopped job ended",
      async () => {
        const started = await jw(
          server,
          "alice",
          "start",
          "--",
          "sh",
          "-c",
          'trap "exit 5" TERM; sleep 100 & wait',
        );
        const id = started.out.trim();
        const done = await jw(server, "alice", "start", "--", "true");
        const ended = done.out.trim();
        await jw(server, "alice", "logs", "-f", ended);
        const stopped = await jw(server, "alice", "stop", id, ended);
        assert.deepEqual(
          [stopped.code, stopped.err],
          [0, `jw: job ${ended} had already ended\n`],
        );
        const listed = await jw(server, "alice", "ls", "--all");
        const row = listed.out.split("\n").find((line) => line.startsWith(id));
        assert.match(row ?? "", /stopped \(exit 5\) +5 +\d+[smhd] /);
        const removed = await jw(
          server,
          "alice",
          "rm",
          id,
          "000000000000",
          ended,
        );
        assert.deepEqual(
          [removed.code, removed.err],
          [1, "jw: not found: job 000000000000\n"],
        );
        const after = await jw(server, "alice", "status", ended);
        assert.equal(after.code, 1, "the job after the bad id was removed too");
      },
    );

    await t.step(
      "kill sends a signal once to every process; the job goes on unless it ends it",
      async () => {
        const started = await jw(
          server,
          "alice",
          "start",
          "--",
          "sh",
          "-c",
          'trap "echo usr1" USR1; echo ready; while true; do sleep 0.05; done',
        );
        const id = started.out.trim();
        const text = async () => (await jw(server, "alice", "logs", id)).out;
        while (!(await text()).includes("ready")) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const usr1 = await jw(server, "alice", "kill", "-s", "usr1", id);
        assert.deepEqual([usr1.code, usr1.err], [0, ""]);
        while (!(await text()).includes("usr1")) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(await text(), "ready\nusr1\n", "delivered once");
        const bad = await jw(server, "alice", "kill", "-s", "SIGFOO", id);
        assert.equal(bad.code, 1);
        assert.match(bad.err, /^jw: invalid argument: unknown signal "SIGFOO"/);
        const foreign = await jw(server, "bob", "kill", id);
        assert.equal(foreign.err, `jw: not found: job ${id}\n`);
        assert.equal(
          JSON.parse((await jw(server, "alice", "status", "--json", id)).out)
            .state,
          "JOB_STATE_RUNNING",
        );
        const killed = await jw(server, "alice", "kill", id);
        assert.equal(killed.code, 0, killed.err);
        await jw(server, "alice", "logs", "-f", id);
        const job = JSON.parse(
          (await jw(server, "alice", "status", "--json", id)).out,
        );
        assert.deepEqual([job.state, job.signal], ["JOB_STATE_SIGNALED", 9]);
      },
    );

    await t.step("another user's job is refused in one line", async () => {
      const result = await jw(server, "bob", "status", sleeper);
      assertOneLineError(result, 1, /^jw: (permission denied|not found): /);
      assertOneLineError(await jw(server, "bob", "logs", sleeper), 1, /^jw: /);
    });

    await t.step(
      "run exits with the job's code and splits stdout from stderr",
      async () => {
        const three = await jw(
          server,
          "alice",
          "run",
          "--",
          "sh",
          "-c",
          "echo out; echo err >&2; exit 3",
        );
        assert.deepEqual([three.code, three.out, three.err], [
          3,
          "out\n",
          "err\n",
        ]);
        const zero = await jw(server, "bob", "run", "--", "true");
        assert.equal(zero.code, 0, zero.err);
      },
    );

    await t.step(
      "run of a job stopped from elsewhere exits 128+signal",
      async () => {
        const marker = crypto.randomUUID();
        const running = new Deno.Command(JW, {
          args: [
            ...connection(server, "alice"),
            "run",
            "--",
            "sh",
            "-c",
            "sleep 60",
            marker,
          ],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        try {
          let exited = false;
          running.status.then(() => exited = true);
          let id: string | undefined;
          while (id === undefined) {
            assert.ok(!exited, "jw run ended before its job was listed");
            const listed = await jw(server, "alice", "ls", "--json");
            id = listed.out.trimEnd().split("\n").filter(Boolean).map((line) =>
              JSON.parse(line)
            )
              .find((job) => job.args?.includes(marker))?.id;
          }
          const stop = await jw(server, "alice", "stop", "--grace", "1s", id);
          assert.equal(stop.code, 0, stop.err);
          const { code } = await running.output();
          // The job either exits on its own after SIGTERM (sh reports
          // 128+15 for its child) or is killed after the grace period.
          const job = JSON.parse(
            (await jw(server, "alice", "status", "--json", id)).out,
          );
          assert.equal(job.state, "JOB_STATE_STOPPED");
          assert.equal(code, job.exitCode ?? 128 + job.signal);
          assert.ok(code === 143 || code === 137, `exit code ${code}`);
        } finally {
          try {
            running.kill();
          } catch { /* already exited */ }
        }
      },
    );

    await t.step(
      "run whose output is closed (| head) stops its job and exits 141",
      async () => {
        const child = new Deno.Command(JW, {
          args: [
            ...connection(server, "alice"),
            "run",
            "--",
            "sh",
            "-c",
            "i=0; while true; do echo $i; i=$((i+1)); sleep 0.05; done",
          ],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          env: { NO_COLOR: "1", JW_SERVER: "", JW_USER: "" },
        }).spawn();
        const reader = child.stdout.getReader();
        let seen = "";
        while (seen.split("\n").length < 3) {
          const { value, done } = await reader.read();
          if (done) break;
          seen += decoder.decode(value);
        }
        await reader.cancel();
        const [status, err] = await Promise.all([
          child.status,
          new Response(child.stderr).text(),
        ]);
        assert.equal(status.code, 141, err);
        const id = /^jw: output closed; stopping job ([0-9a-f]{12})\n$/.exec(
          err,
        )
          ?.[1];
        assert.ok(id, err);
        const json = await jw(server, "alice", "status", "--json", id);
        assert.equal(JSON.parse(json.out).state, "JOB_STATE_STOPPED");
      },
    );

    await t.step("run passes arguments through untouched", async () => {
      const args = ["--help", "-x", "a b", "", "$HOME", "--"];
      const result = await jw(
        server,
        "alice",
        "run",
        "--",
        "sh",
        "-c",
        'printf "[%s]" "$@"',
        "sh",
        ...args,
      );
      assert.equal(result.code, 0, result.err);
      assert.equal(result.out, args.map((arg) => `[${arg}]`).join(""));
    });

    await t.step(
      "admins may set limits, users are told no in one line",
      async () => {
        const admin = await jw(
          server,
          "admin",
          "run",
          "--memory",
          "64M",
          "--pids",
          "32",
          "--",
          "true",
        );
        assert.equal(admin.code, 0, admin.err);
        const user = await jw(
          server,
          "alice",
          "run",
          "--memory",
          "64M",
          "--",
          "true",
        );
        assertOneLineError(
          user,
          1,
          /^jw: (permission denied|invalid argument): /,
        );
      },
    );

    await t.step("logs of binary output are byte-identical", async () => {
      const repeats = 64;
      const format = byteFormat().repeat(repeats);
      const started = await jw(
        server,
        "alice",
        "start",
        "--",
        "sh",
        "-c",
        'printf "$1"',
        "sh",
        format,
      );
      assert.equal(started.code, 0, started.err);
      const id = started.out.trim();
      const logs = await jw(server, "alice", "logs", "-f", id);
      assert.equal(logs.code, 0, logs.err);
      const expected = new Uint8Array(256 * repeats);
      for (let i = 0; i < repeats; i++) expected.set(allBytes(), i * 256);
      assert.deepEqual(logs.stdout, expected);

      const tail = await jw(
        server,
        "alice",
        "logs",
        "--stdout",
        "--from",
        String(256 * repeats - 3),
        id,
      );
      assert.deepEqual(tail.stdout, Uint8Array.of(253, 254, 255));
    });

    await t.step(
      "logs -f follows a running job to its end; streams can be chosen",
      async () => {
        const started = await jw(
          server,
          "alice",
          "start",
          "--",
          "sh",
          "-c",
          "echo one; echo warn >&2; sleep 1; echo two",
        );
        const id = started.out.trim();
        const followed = await jw(server, "alice", "logs", "-f", id);
        assert.deepEqual([followed.code, followed.out, followed.err], [
          0,
          "one\ntwo\n",
          "warn\n",
        ]);
        const errOnly = await jw(server, "alice", "logs", "--stderr", id);
        assert.deepEqual([errOnly.code, errOnly.out, errOnly.err], [
          0,
          "warn\n",
          "",
        ]);
        const outOnly = await jw(server, "alice", "logs", "--stdout", id);
        assert.deepEqual([outOnly.code, outOnly.out, outOnly.err], [
          0,
          "one\ntwo\n",
          "",
        ]);
      },
    );

    await t.step(
      "logs -t, --tail, --since and --until stamp and filter like docker logs",
      async () => {
        const before = Date.now();
        const started = await jw(
          server,
          "alice",
          "start",
          "--",
          "sh",
          "-c",
          "echo one; echo warn >&2; printf 'tw'; sleep 0.2; echo o; echo three",
        );
        const id = started.out.trim();
        await jw(server, "alice", "logs", "-f", id);
        const after = Date.now();

        const stamped = await jw(server, "alice", "logs", "-t", id);
        assert.equal(stamped.code, 0, stamped.err);
        const stamp = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) /;
        const outLines = lines(stamped.out);
        assert.deepEqual(
          outLines.map((line) => line.replace(stamp, "")),
          ["one", "two", "three"],
          stamped.out,
        );
        assert.deepEqual(
          lines(stamped.err).map((line) => line.replace(stamp, "")),
          ["warn"],
        );
        const times = outLines.map((line) => Date.parse(stamp.exec(line)![1]));
        for (const time of times) {
          assert.ok(before - 1000 <= time && time <= after + 1000, `${time}`);
        }
        assert.ok(times[0] <= times[1] && times[1] < times[2], "in order");
        assert.ok(
          times[2] - times[1] >= 150,
          "two is stamped when its first byte was read, before the sleep",
        );

        // One stream: in the combined view, how the job's two streams
        // interleave depends on when the launcher read each.
        const tail = await jw(
          server,
          "alice",
          "logs",
          "--stdout",
          "-n",
          "2",
          id,
        );
        assert.deepEqual([tail.code, tail.out, tail.err], [
          0,
          "two\nthree\n",
          "",
        ]);
        const last = await jw(server, "alice", "logs", "--tail", "1", id);
        assert.deepEqual([last.code, last.out, last.err], [0, "three\n", ""]);
        const recent = await jw(server, "alice", "logs", "--since", "1h", id);
        assert.deepEqual([recent.out, recent.err], [
          "one\ntwo\nthree\n",
          "warn\n",
        ]);
        const future = await jw(
          server,
          "alice",
          "logs",
          "--since",
          "2999-01-01T00:00:00Z",
          id,
        );
        assert.deepEqual([future.code, future.out, future.err], [0, "", ""]);
        const ancient = await jw(server, "alice", "logs", "--until", "1", id);
        assert.deepEqual([ancient.code, ancient.out, ancient.err], [0, "", ""]);
      },
    );

    await t.step(
      "logs -f reconnects when the connection drops and resumes where it was",
      async () => {
        await using proxy = await startProxy(server.port);
        // The job writes its first lines, then waits for the test (a file in
        // the directory it shares with the server): the stream is surely
        // still open when the connection drops, however slow the machine.
        const gate = await Deno.makeTempDir({ dir: server.shared });
        await Deno.chmod(gate, 0o755);
        const started = await jw(
          server,
          "alice",
          "start",
          "--",
          "sh",
          "-c",
          `for i in 1 2 3 4 5 6; do echo out$i; echo err$i >&2; [ $i = 1 ] && while [ ! -e ${gate}/go ]; do sleep 0.05; done; sleep 0.1; done`,
        );
        const id = started.out.trim();
        const child = new Deno.Command(JW, {
          args: [
            ...connection(server, "alice"),
            "--server",
            `localhost:${proxy.port}`,
            "logs",
            "-f",
            id,
          ],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          env: { NO_COLOR: "1" },
        }).spawn();
        const stdout = readAll(child.stdout, "out1\n");
        const stderr = readAll(child.stderr);
        await stdout.seen;
        await proxy.outage(500);
        await Deno.writeTextFile(`${gate}/go`, "");
        const [{ code }, out, err] = await Promise.all([
          child.status,
          stdout.done,
          stderr.done,
        ]);
        assert.equal(code, 0, err);
        assert.equal(out, "out1\nout2\nout3\nout4\nout5\nout6\n");
        const notes = lines(err).filter((line) => line.startsWith("jw: "));
        assert.ok(notes.length >= 1, err);
        notes.forEach((note, i) =>
          assert.equal(
            note,
            `jw: connection lost; reconnecting (attempt ${i + 1})`,
          )
        );
        assert.deepEqual(
          lines(err).filter((line) => !line.startsWith("jw: ")),
          ["err1", "err2", "err3", "err4", "err5", "err6"],
        );
      },
    );

    await t.step(
      "rm removes an ended job; a running one is refused",
      async () => {
        const ended = (await jw(server, "alice", "start", "--", "true")).out
          .trim();
        await jw(server, "alice", "logs", "-f", ended); // returns once it has ended
        const removed = await jw(server, "alice", "rm", ended);
        assert.deepEqual([removed.code, removed.out, removed.err], [0, "", ""]);
        assertOneLineError(
          await jw(server, "alice", "status", ended),
          1,
          /^jw: not found: /,
        );

        const running =
          (await jw(server, "alice", "start", "--", "sleep", "60")).out.trim();
        try {
          assertOneLineError(
            await jw(server, "alice", "rm", running),
            1,
            /^jw: /,
          );
        } finally {
          await jw(server, "alice", "stop", "--grace", "0", running);
        }
      },
    );

    await t.step("a job that does not exist is one line", async () => {
      assertOneLineError(
        await jw(server, "alice", "status", "doesnotexist"),
        1,
        /^jw: /,
      );
    });

    await t.step("a command that cannot run is one line", async () => {
      const result = await jw(
        server,
        "alice",
        "run",
        "--",
        "/nonexistent/binary",
      );
      assert.notEqual(result.code, 0);
      assert.match(result.err, /^jw: [^\n]+\n$/);
    });
  } finally {
    await server.close();
  }
});

Deno.test("jw usage errors exit 2 with one line", async () => {
  const cases: string[][] = [
    [],
    ["frobnicate"],
    ["ls", "--nope"],
    ["start"],
    ["stop"],
    ["status", "a", "b"],
    ["run", "--memory", "lots", "--", "true"],
    ["stop", "--grace", "soon", "x"],
    ["logs", "--since", "yesterday", "x"],
    ["logs", "--tail", "many", "x"],
    ["--cert", "/only/cert", "whoami"],
  ];
  for (const args of cases) {
    assertOneLineError(await jw(undefined, "", ...args), 2, /^jw: /);
  }
});

Deno.test("an unreachable server or a missing certificate is one clean line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jw_cli_test_" });
  try {
    // A port nothing listens on: a test server's, once it has closed.
    const server = await startTestServer();
    try {
      for (const name of ["ca.pem", "alice.pem", "alice.key"]) {
        await Deno.copyFile(join(server.dir, name), join(dir, name));
      }
    } finally {
      await server.close();
    }
    const identity = (ca: string) => [
      "--ca",
      join(dir, ca),
      "--cert",
      join(dir, "alice.pem"),
      "--key",
      join(dir, "alice.key"),
    ];
    const unreachable = await jw(
      undefined,
      "",
      "--server",
      server.address,
      ...identity("ca.pem"),
      "whoami",
    );
    assertOneLineError(
      unreachable,
      1,
      /^jw: cannot reach server localhost:\d+: /,
    );
    const missing = await jw(undefined, "", ...identity("nope.pem"), "whoami");
    assertOneLineError(
      missing,
      1,
      /^jw: cannot read CA certificate .*nope.pem: no such file\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jw --help and jw CMD --help are complete", async () => {
  const main = await jw(undefined, "", "--help");
  assert.equal(main.code, 0);
  for (const command of COMMANDS) {
    assert.match(main.out, new RegExp(`^  ${command} `, "m"));
    const help = await jw(undefined, "", command, "--help");
    assert.equal(help.code, 0);
    assert.match(help.out, new RegExp(`^Usage: jw ${command}`));
    // The connection flags, for every command that connects.
    if (command !== "completion") assert.match(help.out, /JW_SERVER/);
  }
});

Deno.test({
  name:
    "bin/jw remakes a stale bundle, which finds the repo's dev certificates",
  // Making a bundle needs esbuild, which Deno fetches from the npm registry
  // once; the test VM has no network (the host-made bundle runs there).
  ignore: Deno.env.get("JW_TEST_VM") === "1",
}, async () => {
  const bundle = fileURLToPath(new URL("../../build/jw.js", import.meta.url));
  await ensureDevCerts();
  // A bundle older than every source is stale: bin/jw must make a new one.
  await Deno.utime(bundle, 0, 0).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  // A port nothing listens on: a test server's, once it has closed.
  const server = await startTestServer();
  await server.close();
  const result = await jw(
    undefined,
    "",
    "--server",
    server.address,
    "--user",
    "admin",
    "whoami",
  );
  // Reaching the connection step means the credentials were found and read
  // from <repo>/certs/dev, the default the bundle resolves from build/.
  assertOneLineError(result, 1, /^jw: cannot reach server localhost:\d+: /);
  assert.ok((await Deno.stat(bundle)).mtime!.getTime() > 0, "bundle remade");
});
