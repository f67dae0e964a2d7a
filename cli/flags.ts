/**
 * Every command and flag of `jw`, each declared once. The parser
 * (`args.ts`), the help (`help.ts`) and the shell completions
 * (`completion.ts`) are all generated from these tables, so that a flag
 * cannot be accepted without being documented, or completed without being
 * accepted.
 *
 * @module
 */
import { DEFAULT_SERVER } from "./credentials.ts";

/** One flag of a `jw` command line. */
export interface Flag {
  /** The long name, without `--`. */
  readonly name: string;
  /** The one-letter short form, without `-`. */
  readonly short?: string;
  /** The placeholder of a value flag (SIZE, DURATION); none for a switch. */
  readonly value?: string;
  /** Given more than once, every value counts (`-e A=1 -e B=2`). */
  readonly repeatable?: boolean;
  /** One line of help; the help wraps it to fit. */
  readonly help: string;
  /** The values the flag takes, as completions offer them. */
  readonly choices?: readonly string[];
  /** The value is a file name, so completions offer files. */
  readonly file?: boolean;
  /** The environment variable read when the flag is absent. */
  readonly env?: string;
}

/** What a command takes after its flags, for help and completions. */
export type Operands =
  | "none"
  | "id"
  | "ids"
  /** `-- CMD [ARGS...]`, the job's command line. */
  | "command"
  | { readonly choices: readonly string[] };

/** One subcommand: its help and the flags it accepts. */
export interface CommandSpec {
  /** Its line in the overview of `jw --help`. */
  readonly summary: string;
  /** The usage lines, without `Usage: `. */
  readonly usage: readonly string[];
  /** What it does, wrapped by hand. */
  readonly description: string;
  /** Its flags, in the order its help lists them. */
  readonly flags: readonly Flag[];
  /** Lines after its flags, wrapped by hand. */
  readonly notes?: string;
  readonly operands: Operands;
  /** False for commands that never talk to the server. */
  readonly connects: boolean;
}

/** The states of a job, as `jw ls` prints them. */
export const STATES = [
  "running",
  "exited",
  "signaled",
  "stopped",
  "failed",
  "lost",
] as const;

/** The shells `jw completion` writes scripts for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;
/** One shell `jw completion` writes a script for. */
export type Shell = typeof SHELLS[number];

/** The signals a job may be sent, as the server knows them (lib/signals.ts). */
const SIGNALS = [
  "HUP",
  "INT",
  "QUIT",
  "ABRT",
  "KILL",
  "USR1",
  "USR2",
  "ALRM",
  "TERM",
  "CONT",
  "STOP",
  "TSTP",
  "WINCH",
];

/** Taken before or after any command. */
export const NO_COLOR: Flag = {
  name: "no-color",
  help: "no colour, as with NO_COLOR set or when not on a terminal",
};

/** Taken before or after any command, listed in the overview. */
export const GLOBAL_FLAGS: readonly Flag[] = [
  {
    name: "help",
    short: "h",
    help: "show help; jw COMMAND --help: the flags of COMMAND",
  },
  { name: "version", help: "print the version" },
  NO_COLOR,
];

/** How `jw` reaches the server: flag, else environment, else default. */
export const CONNECTION_FLAGS: readonly Flag[] = [
  {
    name: "server",
    value: "HOST:PORT",
    env: "JW_SERVER",
    help: `server address (default ${DEFAULT_SERVER})`,
  },
  {
    name: "ca",
    value: "FILE",
    file: true,
    env: "JW_CA",
    help: "CA certificate that signed the server's",
  },
  {
    name: "cert",
    value: "FILE",
    file: true,
    env: "JW_CERT",
    help: "client certificate (CN = user, OU = role)",
  },
  {
    name: "key",
    value: "FILE",
    file: true,
    env: "JW_KEY",
    help: "client private key",
  },
  {
    name: "user",
    value: "NAME",
    env: "JW_USER",
    help: "identity NAME.pem/NAME.key in the default directory",
  },
];

/** Said under the connection flags. */
export const CONNECTION_NOTES =
  `  Without --cert/--key, files come from ~/.config/jw (ca.pem, client.pem,
  client.key; $XDG_CONFIG_HOME/jw if set) when it holds ca.pem, else from the
  repo's development set certs/dev (deno task certs), where the default
  identity is alice (a user); JW_USER=admin picks the admin.`;

/** What an ID operand may be, said in the help of every command taking one. */
export const ID_NOTE =
  "ID: a job id, a unique prefix of at least 4 characters, or the job's name.";

const START_FLAGS: readonly Flag[] = [
  {
    name: "name",
    value: "NAME",
    help: "a name for the job, unique among yours, usable as its ID",
  },
  {
    name: "cpu",
    value: "CORES",
    help: "CPU limit in cores, may be fractional (0.5)",
  },
  { name: "memory", value: "SIZE", help: "memory limit (256M, 1G)" },
  {
    name: "io-read",
    value: "RATE",
    help: "block device read limit in bytes/s (10M)",
  },
  {
    name: "io-write",
    value: "RATE",
    help: "block device write limit in bytes/s (10M)",
  },
  { name: "pids", value: "N", help: "most processes and threads at once" },
  {
    name: "env",
    short: "e",
    value: "K=V",
    repeatable: true,
    help: "environment variable for the job (repeatable)",
  },
  {
    name: "dir",
    value: "DIR",
    help: "working directory, in the job's own view (default /work)",
  },
];

const START_NOTES =
  `  Limits are for admins; users always get the server's default limits.
  Everything after -- is the job's command line, passed on untouched.`;

const json = (help: string): Flag => ({ name: "json", help });
const owner: Flag = {
  name: "owner",
  value: "NAME",
  help: "admins: only NAME's jobs",
};
const states = (choices: readonly string[], more: string): Flag => ({
  name: "state",
  value: "STATE",
  repeatable: true,
  choices,
  help: `only jobs in STATE: ${
    choices.join(", ")
  } (repeatable, or comma-separated: exited,failed)${more}`,
});

/** The subcommands of `jw`, in the order the overview lists them. */
export const COMMANDS = [
  "start",
  "run",
  "stop",
  "kill",
  "status",
  "ls",
  "logs",
  "wait",
  "rm",
  "prune",
  "whoami",
  "completion",
] as const;
/** One subcommand of `jw`. */
export type Command = typeof COMMANDS[number];

/** Every command's help and flags. */
export const COMMAND_SPECS: Readonly<Record<Command, CommandSpec>> = {
  start: {
    summary: "start a job, print its id",
    usage: ["jw start [flags] -- CMD [ARGS...]"],
    description:
      `Starts CMD as a job and prints only its id and a newline, so that
  id=$(jw start -- make -j4)
works in scripts.`,
    flags: [
      ...START_FLAGS,
      json("print the job as proto3 JSON instead of the id"),
      NO_COLOR,
    ],
    notes: START_NOTES,
    operands: "command",
    connects: true,
  },

  run: {
    summary: "start a job, stream its output, exit with its exit code",
    usage: ["jw run [-d] [--rm] [flags] -- CMD [ARGS...]"],
    description:
      `Starts CMD as a job, streams its output (stdout to stdout, stderr to stderr)
until it ends and exits with its exit code, or 128+N when it was killed by
signal N. Ctrl-C stops the job (SIGTERM, then SIGKILL after 10 s) and keeps
streaming; a second Ctrl-C leaves at once with the job still stopping. When
its output is closed (jw run ... | head), it stops the job and exits 141.`,
    flags: [
      ...START_FLAGS,
      {
        name: "detach",
        short: "d",
        help: "print the job's id and return, as jw start does",
      },
      { name: "rm", help: "remove the job and its output once it has ended" },
      NO_COLOR,
    ],
    notes: START_NOTES,
    operands: "command",
    connects: true,
  },

  stop: {
    summary: "stop jobs",
    usage: ["jw stop [--grace DURATION] ID..."],
    description:
      `Sends SIGTERM to every process of each job and SIGKILL to whatever is left
after the grace period. Prints nothing on success; a job that had already
ended is a note on stderr, not an error. With several jobs, one that fails
is one line on stderr and the others go on.`,
    flags: [
      {
        name: "grace",
        value: "DURATION",
        help:
          "time between SIGTERM and SIGKILL (10s, 500ms, 1m30s; default: the server's, 10s)",
      },
      json("print the job as proto3 JSON"),
      NO_COLOR,
    ],
    operands: "ids",
    connects: true,
  },

  kill: {
    summary: "send a signal to every process of jobs",
    usage: ["jw kill [-s SIGNAL] ID..."],
    description:
      `Sends SIGNAL (default SIGKILL) to every process of each running job, as
docker kill: by name (SIGHUP, HUP) or number. The job goes on unless the
signal ends it.`,
    flags: [
      {
        name: "signal",
        short: "s",
        value: "SIGNAL",
        choices: SIGNALS,
        help: `the signal (${SIGNALS.join(" ")})`,
      },
      json("print each job as proto3 JSON"),
      NO_COLOR,
    ],
    operands: "ids",
    connects: true,
  },

  status: {
    summary: "show a job",
    usage: ["jw status [--json] ID"],
    description:
      `Shows job ID: state, exit code or signal, command, times, limits, resource
usage and output size.`,
    flags: [json("print the job as proto3 JSON (one line)"), NO_COLOR],
    operands: "id",
    connects: true,
  },

  ls: {
    summary: "list jobs",
    usage: [
      "jw ls [-a] [--state STATE]... [--name NAME] [--owner NAME]",
      "      [-q | --json | --format FORMAT]",
    ],
    description:
      `Lists running jobs as a table: ID, OWNER, NAME, STATE, EXIT, AGE, COMMAND.
Users see their own jobs, admins everyone's. AGE is short: 3s, 2m, 4h, 3d.`,
    flags: [
      { name: "all", short: "a", help: "include jobs that have ended" },
      states(STATES, "; one other than running implies --all"),
      { name: "name", value: "NAME", help: "only jobs with exactly this name" },
      owner,
      {
        name: "quiet",
        short: "q",
        help: "only the ids, one per line (--format ids)",
      },
      {
        name: "format",
        value: "FORMAT",
        choices: ["json", "table", "ids"],
        help:
          "table (the default), ids (one per line) or json (one proto3 JSON job per line)",
      },
      json("one proto3 JSON job per line (--format json)"),
      NO_COLOR,
    ],
    operands: "none",
    connects: true,
  },

  logs: {
    summary: "write a job's output",
    usage: [
      "jw logs [-f] [-t] [--since T] [--until T] [-n N]",
      "        [--stdout|--stderr] [--from OFFSET] ID",
    ],
    description:
      `Writes job ID's output as raw bytes: what it wrote to stdout goes to
stdout, what it wrote to stderr goes to stderr. With --stdout or --stderr
only that stream is shown, on stdout.`,
    flags: [
      {
        name: "follow",
        short: "f",
        help:
          "keep streaming until the job has ended; when the connection is lost (a server restart), reconnect and go on where it was, for up to about a minute",
      },
      {
        name: "timestamps",
        short: "t",
        help:
          "start each line with the time its first byte was read, RFC 3339 in UTC with nanoseconds, and a space",
      },
      { name: "since", value: "T", help: "only output read at or after T" },
      {
        name: "until",
        value: "T",
        help: "only output read at or before T; -f stops there",
      },
      {
        name: "tail",
        short: "n",
        value: "N",
        help: "only the last N lines (all: every line, the default)",
      },
      { name: "stdout", help: "only the job's standard output" },
      { name: "stderr", help: "only the job's standard error" },
      {
        name: "from",
        value: "OFFSET",
        help:
          "start at byte OFFSET (of the chosen stream, or of the combined output when both are shown)",
      },
      NO_COLOR,
    ],
    notes: `  T: a time back from now (10m, 1h30m, 90s), an RFC 3339 time
  (2026-12-03T16:00:00Z, 2026-12-03T17:00:00.5+01:00; local without a zone)
  or Unix seconds (1764777600).
  Output the server's output cap dropped is noted on stderr as
  "jw: N bytes of output dropped by the server's output cap".`,
    operands: "id",
    connects: true,
  },

  wait: {
    summary: "wait for jobs to end, exit with the exit code",
    usage: ["jw wait [--any|-a|--all] ID..."],
    description:
      `Waits until each job has ended, without polling. With --all (the default)
it prints each job's exit code, or 128+N when signal N ended it, on a line
of its own in the order given, as docker wait does, and exits with the code
of the first job in that order that did not exit 0, else 0. With --any it
returns when the first of them ends, prints its id and exits with its code.
A job that failed to start or was lost is an error line on stderr.`,
    flags: [
      {
        name: "any",
        help:
          "return when the first job ends, print its id, exit with its code",
      },
      { name: "all", short: "a", help: "wait for every job (the default)" },
      NO_COLOR,
    ],
    operands: "ids",
    connects: true,
  },

  rm: {
    summary: "remove ended jobs and their output",
    usage: ["jw rm [--json] ID..."],
    description:
      `Removes each job, which must have ended, and its output. Prints nothing on
success; with several jobs, one that fails is one line on stderr and the
others go on.`,
    flags: [json("print the removed job as proto3 JSON"), NO_COLOR],
    operands: "ids",
    connects: true,
  },

  prune: {
    summary: "remove ended jobs, by age and state",
    usage: [
      "jw prune [--older-than DURATION] [--state STATE]... [--owner NAME]",
      "         [--json]",
    ],
    description:
      `Removes ended jobs and their output: every ended job you can see, or only
those that --older-than, --state and --owner pick. Running jobs are never
removed. Prints the id of each removed job on a line of its own.`,
    flags: [
      {
        name: "older-than",
        value: "DURATION",
        help: "only jobs that ended at least DURATION ago (90s, 30m, 24h)",
      },
      states(STATES.filter((state) => state !== "running"), ""),
      owner,
      json("print each removed job as proto3 JSON, one per line"),
      NO_COLOR,
    ],
    operands: "none",
    connects: true,
  },

  whoami: {
    summary: "show who the server thinks you are",
    usage: ["jw whoami [--json]"],
    description:
      `Prints the user and role the server read from your client certificate.`,
    flags: [json("print the response as proto3 JSON"), NO_COLOR],
    operands: "none",
    connects: true,
  },

  completion: {
    summary: "print a shell completion script",
    usage: ["jw completion bash|zsh|fish"],
    description:
      `Prints a script that completes jw's commands, their flags and the values
of flags such as --format, --state and --signal. To install it:
  bash  add  source <(jw completion bash)  to ~/.bashrc
  zsh   jw completion zsh > "\${fpath[1]}/_jw"
  fish  jw completion fish > ~/.config/fish/completions/jw.fish`,
    flags: [],
    operands: { choices: SHELLS },
    connects: false,
  },
};

/**
 * Every flag `jw CMD` accepts: the global and connection flags, then its
 * own, each name once.
 *
 * @example
 * ```ts
 * commandFlags("ls").map((flag) => flag.name); // ["help", "version", ...]
 * ```
 */
export function commandFlags(command: Command): Flag[] {
  const byName = new Map<string, Flag>();
  for (
    const flag of [
      ...GLOBAL_FLAGS,
      ...CONNECTION_FLAGS,
      ...COMMAND_SPECS[command].flags,
    ]
  ) {
    if (!byName.has(flag.name)) byName.set(flag.name, flag);
  }
  return [...byName.values()];
}

/**
 * The flag `--name` of `command`, for the values and choices it declares.
 *
 * @example
 * ```ts
 * flagOf("ls", "format").choices; // ["json", "table", "ids"]
 * ```
 */
export function flagOf(command: Command, name: string): Flag {
  const flag = commandFlags(command).find((flag) => flag.name === name);
  if (!flag) throw new Error(`jw ${command} has no flag --${name}`);
  return flag;
}
