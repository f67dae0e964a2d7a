import assert from "node:assert/strict";
import { completionScript } from "./completion.ts";
import { COMMAND_SPECS, COMMANDS, SHELLS } from "./flags.ts";

/**
 * What bash completes for `words` (the last one is the word being
 * completed), with the script loaded as `source <(jw completion bash)`
 * would.
 */
async function bashComplete(
  words: string[],
  cwd?: string,
): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: [
      "--norc",
      "--noprofile",
      "-c",
      `source <(printf '%s' "$JW_SCRIPT") || exit 9
complete -p jw >/dev/null || exit 8
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=\${#COMP_LINE}
_jw
printf '%s\\n' "\${COMPREPLY[@]}"`,
      "bash",
      ...words,
    ],
    env: { JW_SCRIPT: completionScript("bash") },
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, err);
  assert.equal(err, "");
  return new TextDecoder().decode(stdout).split("\n").filter(Boolean).sort();
}

Deno.test("bash completes commands after jw and after global flags", async () => {
  assert.deepEqual(await bashComplete(["jw", "l"]), ["logs", "ls"]);
  assert.deepEqual(await bashComplete(["jw", "--server", "h:1", "w"]), [
    "wait",
    "whoami",
  ]);
  assert.deepEqual(await bashComplete(["jw", "--server", "=", "h", "pr"]), [
    "prune",
  ]);
  assert.deepEqual(await bashComplete(["jw", "--no"]), ["--no-color"]);
  assert.deepEqual(await bashComplete(["jw", "help", "st"]), [
    "start",
    "status",
    "stop",
  ]);
});

Deno.test("bash completes each command's flags, long and short", async () => {
  assert.deepEqual(await bashComplete(["jw", "ls", "--for"]), ["--format"]);
  assert.deepEqual(await bashComplete(["jw", "run", "--r"]), ["--rm"]);
  assert.deepEqual(await bashComplete(["jw", "run", "-d", "--de"]), [
    "--detach",
  ]);
  assert.deepEqual(await bashComplete(["jw", "wait", "--a"]), [
    "--all",
    "--any",
  ]);
  assert.deepEqual(await bashComplete(["jw", "prune", "--o"]), [
    "--older-than",
    "--owner",
  ]);
  const short = await bashComplete(["jw", "ls", "-"]);
  for (const flag of ["-a", "-q", "-h", "--state", "--no-color", "--server"]) {
    assert.ok(short.includes(flag), `${flag} in ${short}`);
  }
  assert.ok(!short.includes("--signal"), "kill's flags are not ls's");
});

Deno.test("bash completes the values of flags that have a fixed set", async () => {
  assert.deepEqual(await bashComplete(["jw", "ls", "--format", ""]), [
    "ids",
    "json",
    "table",
  ]);
  assert.deepEqual(await bashComplete(["jw", "ls", "--format", "=", "j"]), [
    "json",
  ]);
  assert.deepEqual(await bashComplete(["jw", "ls", "--format", "="]), [
    "ids",
    "json",
    "table",
  ]);
  assert.deepEqual(await bashComplete(["jw", "ls", "--state", "s"]), [
    "signaled",
    "stopped",
  ]);
  assert.deepEqual(await bashComplete(["jw", "prune", "--state", "r"]), []);
  assert.deepEqual(await bashComplete(["jw", "kill", "-s", "US"]), [
    "USR1",
    "USR2",
  ]);
  assert.deepEqual(await bashComplete(["jw", "kill", "--signal", "TE"]), [
    "TERM",
  ]);
  assert.deepEqual(await bashComplete(["jw", "completion", ""]), [
    "bash",
    "fish",
    "zsh",
  ]);
  assert.deepEqual(await bashComplete(["jw", "stop", "--grace", ""]), []);
});

Deno.test("bash completes file names for --ca, --cert and --key only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, "");
    await Deno.writeTextFile(`${dir}/client.pem`, "");
    assert.deepEqual(await bashComplete(["jw", "--ca", "c"], dir), [
      "ca.pem",
      "client.pem",
    ]);
    assert.deepEqual(await bashComplete(["jw", "ls", "--cert", "cl"], dir), [
      "client.pem",
    ]);
    assert.deepEqual(await bashComplete(["jw", "ls", "--owner", "c"], dir), []);
    assert.deepEqual(
      await bashComplete(["jw", "run", "--", "sh", "cl"], dir),
      ["client.pem"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `shell args...` if it is installed; undefined when it is not. */
async function tryShell(
  shell: string,
  args: string[],
  stdin: string,
): Promise<{ code: number; stderr: string } | undefined> {
  let child;
  try {
    child = new Deno.Command(shell, {
      args,
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const { code, stderr } = await child.output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

Deno.test("every script names every command and every flag", () => {
  for (const shell of SHELLS) {
    const script = completionScript(shell);
    for (const command of COMMANDS) {
      assert.ok(script.includes(command), `${shell}: ${command}`);
      for (const flag of COMMAND_SPECS[command].flags) {
        const long = shell === "fish" ? `-l ${flag.name}` : `--${flag.name}`;
        assert.ok(script.includes(long), `${shell}: ${command} ${long}`);
        if (flag.short === undefined) continue;
        const short = shell === "fish" ? `-s ${flag.short}` : `-${flag.short}`;
        assert.ok(script.includes(short), `${shell}: ${command} ${short}`);
      }
    }
    for (const value of ["json table ids", "exited", "USR1", "bash zsh fish"]) {
      assert.ok(script.includes(value), `${shell}: ${value}`);
    }
  }
});

Deno.test("the zsh and fish scripts parse, where those shells are installed", async () => {
  const zsh = await tryShell("zsh", ["-n"], completionScript("zsh"));
  if (zsh) assert.equal(zsh.code, 0, zsh.stderr);
  const fish = await tryShell(
    "fish",
    ["--no-execute"],
    completionScript("fish"),
  );
  if (fish) assert.equal(fish.code, 0, fish.stderr);
  const bash = await tryShell("bash", ["-n"], completionScript("bash"));
  assert.ok(bash, "bash is installed");
  assert.equal(bash.code, 0, bash.stderr);
});
