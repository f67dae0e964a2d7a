/**
 * The README's "Using it" block runs as printed, as root on a fresh
 * machine: npm install, the dev certificates, the server on its default
 * port and data directory, and every `jw` command after it. It uses the
 * real defaults, so it runs only where they are free (not on a machine
 * that already serves from /var/lib/jobworker or port 50051) and leaves
 * them as it found them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findCgroups } from "../_find_cgroups.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const DATA_DIR = "/var/lib/jobworker";

/** The first sh block after `heading` in the README. */
async function block(heading: string): Promise<string> {
  const readme = await Deno.readTextFile(join(REPO, "README.md"));
  const at = readme.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `README has ${heading}`);
  const match = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(match, `an sh block under ${heading}`);
  return match[1];
}

function defaultsTaken(): string | undefined {
  try {
    Deno.lstatSync(DATA_DIR);
    return `${DATA_DIR} exists`;
  } catch { /* free */ }
  try {
    Deno.listen({ hostname: "127.0.0.1", port: 50051 }).close();
  } catch {
    return "port 50051 is in use";
  }
  return undefined;
}

const taken = defaultsTaken();

Deno.test({
  name: `the README's examples run as printed${taken ? ` (${taken})` : ""}`,
  // The VM has no npm registry for the block's npm install.
  ignore: taken !== undefined || Deno.env.get("JW_TEST_VM") === "1",
}, async () => {
  const home = await Deno.makeTempDir({ prefix: "jw-readme-home-" });
  const cgroupsBefore = await findCgroups("jobworker");
  try {
    const script = [
      "set -euo pipefail",
      // However the block ends, its server goes (running jobs would stay
      // for the next server: the block leaves none).
      "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT",
      await block("## Using it"),
      "complete -p jw",
    ].join("\n");
    const { code, stdout, stderr } = await new Deno.Command("bash", {
      args: ["-c", script],
      cwd: REPO,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // A fresh user: no ~/.config/jw, no JW_* settings.
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: home },
      signal: AbortSignal.timeout(240_000),
    }).output();
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `stdout:\n${out}\nstderr:\n${err}`);
    assert.match(out, /^alice \(user\)$/m);
    assert.match(out, /^[0-9a-f]{12}\n1\n2\n3\n/m, "start's id, then logs -f");
    assert.match(out, /^\S+Z 2\n\S+Z 3\n0\n/m, "logs -t -n 2, then wait's 0");
    assert.match(out, /^state +exited 0$/m);
    assert.match(out, / count +exited /);
    assert.match(
      out,
      /^3b6a07d0d404fab4e23b6d34bc6696a6a312dd92821332385e5af7c01c421351 {2}big$/m,
      "the admin's limited job ran",
    );
    assert.match(out, /^complete -F \S+ jw$/m, "completions loaded");
  } finally {
    await Deno.remove(home, { recursive: true });
    await Deno.remove(DATA_DIR, { recursive: true }).catch(() => {});
    assert.deepEqual(await findCgroups("jobworker"), cgroupsBefore);
  }
});
