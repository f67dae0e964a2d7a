import { JobError } from "./errors.ts";

/** How a job's command ended, as its init reported it. */
export type ExitStatus =
  | { kind: "exited"; code: number }
  | { kind: "signaled"; signal: number };

/** Everything the init needs to start one job. */
export interface LaunchSpec {
  id: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  dir: string;
  uid: number;
  gid: number;
  stdout: string;
  stderr: string;
  /** File the init writes its last report to (survives the server). */
  statusFile: string;
  /** cgroup.procs files the job joins before it runs anything. */
  cgroupProcs: readonly string[];
}

/** A job whose command is running. */
export interface Launched {
  /** Host PID of the command (PID 1 in its namespace). */
  pid: number;
  /** Resolves when the command ended. */
  exit: Promise<ExitStatus>;
}

/** Default place of the init binary built by `deno task build`. */
export const DEFAULT_INIT =
  new URL("../build/jw-init", import.meta.url).pathname;

/**
 * Starts a job through `jw-init` (lib/init/jw_init.c), which joins the job's
 * cgroup, enters fresh namespaces, drops to the job user and executes the
 * command, then reports on its stdout: `started PID`, or `failed REASON`, and
 * at the end `exited CODE` / `signaled SIGNAL`.
 *
 * Resolves once the command runs; throws `failed_to_start` with the OS reason
 * when it could not be executed.
 */
export async function launch(
  spec: LaunchSpec,
  initPath = DEFAULT_INIT,
): Promise<Launched> {
  const args = [
    "--id",
    spec.id,
    "--uid",
    String(spec.uid),
    "--gid",
    String(spec.gid),
    "--stdout",
    spec.stdout,
    "--stderr",
    spec.stderr,
    "--status",
    spec.statusFile,
    "--dir",
    spec.dir,
    ...spec.cgroupProcs.flatMap((path) => ["--cgroup", path]),
    ...Object.entries(spec.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
    "--",
    spec.command,
    ...spec.args,
  ];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(initPath, {
      args,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new JobError(
      "failed_to_start",
      `cannot run the job launcher ${initPath}: ${why}`,
    );
  }
  const lines = readLines(child.stdout);
  const diagnostics = new Response(child.stderr).text();
  const first = await lines.next();
  const [word, ...rest] = (first.done ? "" : first.value).split(" ");
  if (word === "started") {
    return {
      pid: Number(rest[0]),
      exit: finalReport(lines, child, diagnostics),
    };
  }
  await child.status;
  const why = word === "failed"
    ? rest.join(" ")
    : `launcher: ${(await diagnostics).trim()}`;
  throw new JobError(
    "failed_to_start",
    why || "launcher exited without a report",
  );
}

async function finalReport(
  lines: AsyncIterator<string>,
  child: Deno.ChildProcess,
  diagnostics: Promise<string>,
): Promise<ExitStatus> {
  const last = await lines.next();
  await child.status;
  const status = last.done ? null : parseReport(last.value);
  if (!status) {
    throw new JobError(
      "internal",
      `launcher ended without a final report: ${await diagnostics}`,
    );
  }
  return status;
}

/** Parses `exited N` / `signaled N`, as in the init's status file. */
export function parseReport(line: string): ExitStatus | null {
  const [word, value] = line.trim().split(" ");
  const n = Number(value);
  if (!Number.isInteger(n)) return null;
  if (word === "exited") return { kind: "exited", code: n };
  if (word === "signaled") return { kind: "signaled", signal: n };
  return null;
}

async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buffer = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer) yield buffer;
}
