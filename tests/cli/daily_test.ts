/**
 * `jw` for daily work, through the real CLI against a real server: names
 * and id prefixes as references, wait, prune, ls filters and formats,
 * run -d and --rm, completions, and colour only where asked for.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer } from "../server/test_server.ts";
import { assertOneLineError, connection, JW, jw, startProxy } from "./_jw.ts";

const lines = (text: string) => text.split("\n").filter(Boolean);

Deno.test("jw for daily work", async (t) => {
  await using server = await startTestServer();
  const alice = (...args: string[]) => jw(server, "alice", ...args);
  const startJob = async (...args: string[]) => {
    const started = await alice("start", ...args);
    assert.equal(started.code, 0, started.err);
    return started.out.trim();
  };

  let web = "";
  await t.step(
    "a name is unique, listed, and works wherever an id does, as does a prefix",
    async () => {
      web = await startJob("--name", "web", "--", "sleep", "600");
      assertOneLineError(
        await alice("start", "--name", "web", "--", "true"),
        1,
        new RegExp(
          `^jw: already exists: name web is taken by job ${web}; remove it or pick another\n$`,
        ),
      );
      const byName = await alice("status", "--json", "web");
      assert.equal(JSON.parse(byName.out).id, web);
      const byPrefix = await alice("status", "--json", web.slice(0, 4));
      assert.equal(JSON.parse(byPrefix.out).id, web);
      assertOneLineError(
        await alice("status", web.slice(0, 3)),
        1,
        /^jw: invalid argument: prefix [0-9a-f]{3} is too short/,
      );
      assertOneLineError(
        await jw(server, "bob", "status", "web"),
        1,
        /^jw: not found: job web\n$/,
      );
      const table = await alice("ls");
      assert.match(
        table.out,
        new RegExp(`^${web} +alice +web +running +\\d+s +sleep 600$`, "m"),
      );
    },
  );

  const exited: Record<string, string> = {};
  await t.step(
    "wait exits with the job's code; several print a code each in order",
    async () => {
      exited.zero = await startJob("--", "true");
      exited.four = await startJob("--", "sh", "-c", "sleep 0.2; exit 4");
      const one = await alice("wait", exited.four);
      assert.deepEqual([one.code, one.out, one.err], [4, "4\n", ""]);
      const both = await alice("wait", exited.zero, exited.four);
      assert.deepEqual([both.code, both.out], [4, "0\n4\n"]);
      const gone = await alice("wait", exited.zero, "000000000000");
      assert.deepEqual(
        [gone.code, gone.out, gone.err],
        [1, "0\n", "jw: not found: job 000000000000\n"],
      );
      // Start says it failed, and the job is kept to tell why.
      assert.equal((await alice("start", "--", "/no/such/program")).code, 1);
      const failed = (await alice("ls", "-q", "--state", "failed")).out.trim();
      assertOneLineError(
        await alice("wait", failed),
        1,
        new RegExp(`^jw: job ${failed} failed to start: `),
      );
      assertOneLineError(
        await alice("wait", "--any", "--all", web),
        2,
        /--any/,
      );
    },
  );

  await t.step(
    "wait --any prints the first job to end and exits with its code",
    async () => {
      const quick = await startJob("--", "sh", "-c", "exit 6");
      const any = await alice("wait", "--any", "web", quick);
      assert.deepEqual([any.code, any.out], [6, `${quick}\n`]);
      exited.six = quick;
    },
  );

  await t.step(
    "wait goes on through a lost connection, without polling",
    async () => {
      const gate = join(server.shared, "wait-gate");
      const gated = await startJob(
        "--",
        "sh",
        "-c",
        `while [ ! -e ${gate} ]; do sleep 0.05; done; exit 9`,
      );
      await using proxy = await startProxy(server.port);
      const conn = connection(server, "alice");
      conn[conn.indexOf("--server") + 1] = `localhost:${proxy.port}`;
      const child = new Deno.Command(JW, {
        args: [...conn, "wait", gated],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const stdout = new Response(child.stdout).text();
      let err = "";
      const stderr = (async () => {
        for await (
          const text of child.stderr.pipeThrough(new TextDecoderStream())
        ) err += text;
      })();
      const waits = () =>
        server.logs.filter((r) =>
          r.method === "/jobworker.v1.JobWorker/Wait" && r.job === gated
        ).length;
      // Cut the connection until jw says it lost it, however long jw takes
      // to start and call (the server logs a call only at its end).
      let outages = 0;
      while (!err.includes("connection lost") && outages < 20) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await proxy.outage(300);
        outages++;
      }
      await Deno.writeTextFile(gate, "");
      const { code } = await child.status;
      await stderr;
      assert.equal(code, 9, err);
      assert.equal(await stdout, "9\n");
      assert.match(err, /^jw: connection lost; reconnecting \(attempt 1\)$/m);
      assert.ok(waits() <= 3, `a few Wait calls, not a poll: ${waits()}`);
      exited.gated = gated;
    },
  );

  await t.step(
    "ls filters by state and name, and prints ids or JSON",
    async () => {
      const ids = await alice("ls", "-q", "--state", "exited");
      assert.deepEqual(
        lines(ids.out).sort(),
        Object.values(exited).sort(),
      );
      const formatIds = await alice("ls", "--format", "ids", "--name", "web");
      assert.deepEqual(lines(formatIds.out), [web]);
      const json = await alice("ls", "--format", "json", "--state", "running");
      assert.deepEqual(
        lines(json.out).map((line) => JSON.parse(line).name),
        ["web"],
      );
      const several = await alice("ls", "-q", "--state", "exited,failed");
      assert.equal(lines(several.out).length, Object.keys(exited).length + 1);
      assertOneLineError(
        await alice("ls", "--state", "sleeping"),
        2,
        /sleeping/,
      );
    },
  );

  await t.step("prune removes ended jobs by state and age", async () => {
    const young = await alice("prune", "--older-than", "1h");
    assert.deepEqual([young.code, young.out], [0, ""]);
    const failed = await alice("prune", "--state", "failed");
    assert.equal(lines(failed.out).length, 1, failed.err);
    const rest = await alice("prune");
    assert.deepEqual(
      lines(rest.out).sort(),
      Object.values(exited).sort(),
      rest.err,
    );
    const left = await alice("ls", "-a", "-q");
    assert.ok(lines(left.out).includes(web), "running jobs stay");
    assert.ok(!lines(left.out).includes(exited.zero));
    const others = await jw(server, "bob", "ls", "-a", "-q");
    assert.equal(others.code, 0);
  });

  await t.step("run -d is start; run --rm leaves nothing behind", async () => {
    const detached = await alice("run", "-d", "--", "sleep", "600");
    assert.match(detached.out, /^[0-9a-f]{12}\n$/);
    const id = detached.out.trim();
    const once = await alice(
      "run",
      "--rm",
      "--name",
      "once",
      "--",
      "sh",
      "-c",
      "echo hi; exit 3",
    );
    assert.deepEqual([once.code, once.out], [3, "hi\n"]);
    assertOneLineError(await alice("status", "once"), 1, /not found: job once/);
    assertOneLineError(
      await alice("run", "-d", "--rm", "--", "true"),
      2,
      /--rm cannot be used with -d/,
    );
    await alice("stop", "--grace", "0s", id, "web");
  });

  await t.step("colour only on a terminal, never with --no-color", async () => {
    const conn = connection(server, "alice").map((arg) => `'${arg}'`).join(" ");
    const onTerminal = async (flags: string) => {
      // script(1) gives jw a terminal for its stdout.
      const { stdout } = await new Deno.Command("script", {
        args: ["-qec", `${JW} ${conn} ${flags} ls -a`, "/dev/null"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "", TERM: "xterm" },
      }).output();
      return new TextDecoder().decode(stdout);
    };
    assert.ok((await onTerminal("")).includes("\x1b[1mID"), "bold header");
    assert.ok(!(await onTerminal("--no-color")).includes("\x1b["));
  });
});

Deno.test("jw completion bash completes commands and flag values", async () => {
  const script = await jw(undefined, "", "completion", "bash");
  assert.equal(script.code, 0, script.err);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "jw.bash"), script.out);
    const complete = async (...words: string[]) => {
      const { stdout } = await new Deno.Command("bash", {
        args: [
          "-c",
          `source ${dir}/jw.bash; COMP_WORDS=(${
            words.map((w) => `'${w}'`).join(" ")
          }); COMP_CWORD=${words.length - 1}; ` +
          `$(complete -p jw | sed -E 's/.*-F ([^ ]+).*/\\1/') jw; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        stdout: "piped",
      }).output();
      return lines(new TextDecoder().decode(stdout)).sort();
    };
    assert.deepEqual(await complete("jw", "wa"), ["wait"]);
    assert.deepEqual(await complete("jw", "prune", "--sta"), ["--state"]);
    assert.deepEqual(await complete("jw", "ls", "--format", ""), [
      "ids",
      "json",
      "table",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
