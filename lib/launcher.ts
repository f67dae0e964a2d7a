import { JobError } from "./errors.ts";

/** How a job's command ended, as its init reported it. */
export type ExitStatus =
  & ({ kind: "exited"; code: number } | { kind: "signaled"; signal: number })
  & {
    /** Bytes of output the launcher dropped: the disk had no room for them. */
    lostBytes?: number;
    /** Bytes of output the launcher dropped after the server cut it (quota). */
    cutBytes?: number;
  };

/** Everything the init needs to start one job. */
export interface LaunchSpec {
  id: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Working directory inside the job's view. */
  dir: string;
  uid: number;
  gid: number;
  stdout: string;
  stderr: string;
  /** The output's index, which the launcher writes (see OutputLog). */
  index: string;
  /** File the init writes its last report to (survives the server). */
  statusFile: string;
  /** cgroup.procs files the job joins before it runs anything. */
  cgroupProcs: readonly string[];
  /** Empty host directory the job's root is mounted on (see DataDir). */
  rootMount: string;
  /** Host directory bound at /work. */
  workDir: string;
  /** Host paths bound read-only into the view. */
  viewPaths: readonly string[];
  /** Size of each of the job's tmpfs (/tmp, /var/tmp, /dev/shm). */
  tmpBytes: number;
  /** The compiled seccomp filter (see SeccompPrograms). */
  seccompProgram: string;
}

/** A job whose command is running. */
export interface Launched {
  /** Host PID of the job's init (PID 1 in its namespace; the command is its child). */
  pid: number;
  /** Resolves when the command ended. */
  exit: Promise<ExitStatus>;
  /**
   * Makes the launcher drop the job's further output (SIGUSR2), as a full
   * disk does, counting it in the final report's `cutBytes`.
   */
  cutOutput(): void;
}

/** Default place of the init binary built by `deno task build`. */
export const DEFAULT_INIT =
  new URL("../build/jw-init", import.meta.url).pathname;

/**
 * Starts a job through `jw-init` (lib/init/jw_init.c), which joins the job's
 * cgroup, enters fresh namespaces and its own root, drops to the job's user
 * under a seccomp filter and runs the command beneath a small init, then
 * reports on its stdout: `started PID`, `failed REASON` or `invalid REASON`,
 * and at the end `exited CODE` / `signaled SIGNAL`.
 *
 * Resolves once the command runs; throws `failed_to_start` with the OS reason
 * when it could not be executed, and `invalid_argument` when the request
 * cannot work (a working directory missing from the job's view).
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
    "--index",
    spec.index,
    "--status",
    spec.statusFile,
    "--dir",
    spec.dir,
    "--root-mount",
    spec.rootMount,
    "--work",
    spec.workDir,
    "--tmp-bytes",
    String(spec.tmpBytes),
    ...spec.viewPaths.flatMap((path) => ["--ro", path]),
    "--seccomp",
    spec.seccompProgram,
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
    throw launcherError(initPath, err);
  }
  const lines = readLines(child.stdout);
  const diagnostics = readText(child.stderr, MAX_DIAGNOSTICS).catch((err) =>
    `(its stderr could not be read: ${err})`
  );
  const first = await lines.next();
  const [word, ...rest] = (first.done ? "" : first.value).split(" ");
  if (word === "started") {
    return {
      pid: Number(rest[0]),
      exit: finalReport(lines, child, diagnostics),
      // The child is ours and not yet reaped while the job runs: its pid
      // cannot have been reused.
      cutOutput: () => {
        try {
          child.kill("SIGUSR2");
        } catch { /* it has just ended */ }
      },
    };
  }
  while (!(await lines.next()).done) { /* read to the end: frees the pipe */ }
  await child.status;
  if (word === "invalid") {
    throw new JobError("invalid_argument", rest.join(" "));
  }
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
  // Read to the end, which releases the pipe (an unfinished reader holds its
  // descriptor for good).
  while (!(await lines.next()).done) { /* nothing after the last report */ }
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

/**
 * `failed_to_start`: the launcher could not be run, with the OS reason but
 * not the launcher's path (users read this message; the cause has it).
 */
export function launcherError(initPath: string, err: unknown): JobError {
  const why = err instanceof Error ? err.message : String(err);
  const reason = why.replace(/'\/[^']*'/g, "it").replace(
    /^Failed to spawn it: /,
    "",
  );
  return new JobError(
    "failed_to_start",
    `cannot run the job launcher: ${reason}`,
    { cause: new Error(`cannot run the job launcher ${initPath}: ${why}`) },
  );
}

/**
 * Parses `exited N` / `signaled N` (then ` lost BYTES` and ` cut BYTES`,
 * when there were such), as in the init's status file.
 */
export function parseReport(line: string): ExitStatus | null {
  const [word, value, ...extras] = line.trim().split(" ");
  const n = Number(value);
  if (!Number.isInteger(n)) return null;
  const counts: { lostBytes?: number; cutBytes?: number } = {};
  for (let i = 0; i + 1 < extras.length; i += 2) {
    const bytes = Number(extras[i + 1]);
    if (!(Number.isSafeInteger(bytes) && bytes > 0)) continue;
    if (extras[i] === "lost") counts.lostBytes = bytes;
    if (extras[i] === "cut") counts.cutBytes = bytes;
  }
  if (word === "exited") return { kind: "exited", code: n, ...counts };
  if (word === "signaled") return { kind: "signaled", signal: n, ...counts };
  return null;
}

/**
 * Each running job has its launcher's two pipes open with a read pending.
 * Read through Deno's default reader, each pending read holds a 64 KiB
 * buffer: 500 `sleep` children with both pipes read that way took 164 KiB of
 * RSS each, read through one small buffer 45 KiB.
 */
const PIPE_BUFFER = 256;
/** The most of a launcher's stderr kept for an error message. */
const MAX_DIAGNOSTICS = 16 * 1024;

/** The text of a pipe, read through one {@link PIPE_BUFFER}-byte buffer. */
async function* pipeText(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  const reader = stream.getReader({ mode: "byob" });
  const decoder = new TextDecoder();
  let buffer = new ArrayBuffer(PIPE_BUFFER);
  try {
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(buffer));
      if (done || !value) break;
      yield decoder.decode(value, { stream: true });
      buffer = value.buffer;
    }
    const tail = decoder.decode();
    if (tail) yield tail;
  } finally {
    reader.releaseLock();
  }
}

async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buffer = "";
  for await (const text of pipeText(stream)) {
    buffer += text;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer) yield buffer;
}

/** All of a pipe's text, keeping at most `max` characters of it. */
async function readText(
  stream: ReadableStream<Uint8Array>,
  max: number,
): Promise<string> {
  let text = "";
  for await (const part of pipeText(stream)) {
    if (text.length < max) text = (text + part).slice(0, max);
  }
  return text;
}
