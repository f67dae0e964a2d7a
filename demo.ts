/**
 * `deno task demo`: a tour in one command. Makes sure the dev certificates
 * and the job launcher exist, starts a server on a free port with a
 * throw-away data directory, runs an isolated job with `jw run` (its
 * hostname, id, PID, network and user show the isolation), shows
 * `jw status`, then stops the server. Needs root, like the server.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDevCerts } from "./certs/dev_certs.ts";

const REPO = fileURLToPath(new URL(".", import.meta.url));
const DENO = Deno.execPath();
const decoder = new TextDecoder();

const JOB_SCRIPT = [
  'echo "job $JW_JOB_ID on host $(uname -n), my pid is $$"',
  'echo "network interfaces: $(tail -n +3 /proc/net/dev | cut -d: -f1 | xargs)"',
  "id",
  "echo bye >&2",
  "exit 3",
].join("; ");

function say(text: string): void {
  console.log(Deno.stdout.isTerminal() ? `\x1b[1m${text}\x1b[0m` : text);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Waits until the server accepts connections, or fails if it exited. */
async function waitForServer(
  port: number,
  server: Deno.ChildProcess,
): Promise<void> {
  let exited = false;
  server.status.then(() => exited = true);
  for (let attempt = 0; attempt < 300; attempt++) {
    if (exited) throw new Error("the server exited during start-up");
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`the server did not listen on port ${port}`);
}

/** Runs `jw ARGS`, echoing the command; returns its exit code and stdout. */
async function jw(
  env: Record<string, string>,
  args: string[],
  opts: { capture?: boolean } = {},
): Promise<{ code: number; out: string }> {
  const shown = args.map((arg) =>
    /^[\w\-.,:/=@%+]+$/.test(arg) ? arg : `'${arg}'`
  );
  say(`\n$ jw ${shown.join(" ")}`);
  const child = new Deno.Command(join(REPO, "bin/jw"), {
    args,
    env,
    stdin: "null",
    stdout: opts.capture ? "piped" : "inherit",
    stderr: "inherit",
  }).spawn();
  if (!opts.capture) return { code: (await child.status).code, out: "" };
  const { code, stdout } = await child.output();
  await Deno.stdout.write(stdout);
  return { code, out: decoder.decode(stdout) };
}

async function main(): Promise<number> {
  await ensureDevCerts();
  const build = await new Deno.Command("sh", {
    args: [join(REPO, "lib/init/build.sh")],
  }).output();
  if (!build.success) {
    throw new Error(
      "building build/jw-init failed (is a C compiler installed?)",
    );
  }

  const root = await Deno.makeTempDir({ prefix: "jobworker-demo-" });
  const port = freePort();
  const serverLog = join(root, "server.log");
  const logFile = await Deno.open(serverLog, { write: true, create: true });
  say(
    `Starting the server on localhost:${port} (data in ${root}, log in ${serverLog})`,
  );
  const server = new Deno.Command(DENO, {
    args: [
      "run",
      "-A",
      "--quiet",
      join(REPO, "main.ts"),
      "--listen",
      `127.0.0.1:${port}`,
      "--data-dir",
      join(root, "data"),
      // The demo's data directory goes with it: so do its jobs.
      "--stop-jobs-on-exit",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logCopy = server.stderr.pipeTo(logFile.writable);
  try {
    await waitForServer(port, server);
    const env = { JW_SERVER: `localhost:${port}`, JW_USER: "admin" };
    const steps: boolean[] = [];
    steps.push((await jw(env, ["whoami"])).code === 0);
    const run = await jw(
      env,
      [
        "run",
        "--memory",
        "64M",
        "--cpu",
        "0.5",
        "--pids",
        "32",
        "--",
        "sh",
        "-c",
        JOB_SCRIPT,
      ],
      { capture: true },
    );
    say(`(jw run exited ${run.code}: the job's own exit code)`);
    steps.push(run.code === 3);
    const id = /^job (\S+) on host/m.exec(run.out)?.[1];
    steps.push(id !== undefined && (await jw(env, ["status", id])).code === 0);
    steps.push((await jw(env, ["ls", "--all"])).code === 0);
    const ok = steps.every(Boolean);
    say(
      ok
        ? "\nDemo finished."
        : "\nDemo failed: a step above did not do what it should.",
    );
    return ok ? 0 : 1;
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await logCopy.catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (err) {
    console.error(`demo: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
