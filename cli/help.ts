/**
 * The text of `jw --help` and `jw CMD --help`.
 *
 * @module
 */
import type { Command } from "./args.ts";

const CONNECTION = `Connection (flag, else environment, else default):
  --server HOST:PORT   JW_SERVER   server address (default localhost:50051)
  --ca FILE            JW_CA       CA certificate that signed the server's
  --cert FILE          JW_CERT     client certificate (CN = user, OU = role)
  --key FILE           JW_KEY      client private key
  --user NAME          JW_USER     identity NAME.pem/NAME.key in the default
                                   directory
  Without --cert/--key, files come from ~/.config/jw (ca.pem, client.pem,
  client.key; $XDG_CONFIG_HOME/jw if set) when it holds ca.pem, else from the
  repo's development set certs/dev (deno task certs), where the default
  identity is alice (a user); JW_USER=admin picks the admin.`;

const START_FLAGS = `  --name NAME        a label for the job
  --cpu CORES        CPU limit in cores, may be fractional (0.5)
  --memory SIZE      memory limit (256M, 1G)
  --io-read RATE     block device read limit in bytes/s (10M)
  --io-write RATE    block device write limit in bytes/s (10M)
  --pids N           most processes and threads at once
  -e, --env K=V      environment variable for the job (repeatable)
  --dir DIR          working directory, in the job's own view (default /work)
  Limits are for admins; users always get the server's default limits.
  Everything after -- is the job's command line, passed on untouched.`;

const TOPICS: Record<Command, string> = {
  start: `Usage: jw start [flags] -- CMD [ARGS...]

Starts CMD as a job and prints only its id and a newline, so that
  id=$(jw start -- make -j4)
works in scripts.

Flags:
${START_FLAGS}
  --json             print the job as proto3 JSON instead of the id`,

  run: `Usage: jw run [flags] -- CMD [ARGS...]

Starts CMD as a job, streams its output (stdout to stdout, stderr to stderr)
until it ends and exits with its exit code, or 128+N when it was killed by
signal N. Ctrl-C stops the job (SIGTERM, then SIGKILL after 10 s) and keeps
streaming; a second Ctrl-C leaves at once with the job still stopping. When
its output is closed (jw run ... | head), it stops the job and exits 141.

Flags:
${START_FLAGS}`,

  stop: `Usage: jw stop [--grace DURATION] ID...

Sends SIGTERM to every process of each job and SIGKILL to whatever is left
after the grace period. Prints nothing on success; a job that had already
ended is a note on stderr, not an error. With several jobs, one that fails
is one line on stderr and the others go on.

Flags:
  --grace DURATION   time between SIGTERM and SIGKILL (10s, 500ms, 1m30s;
                     default: the server's, 10s)
  --json             print the job as proto3 JSON`,

  status: `Usage: jw status [--json] ID

Shows job ID: state, exit code or signal, command, times, limits, resource
usage and output size.

Flags:
  --json             print the job as proto3 JSON (one line)`,

  ls: `Usage: jw ls [--all] [--owner NAME] [--json]

Lists running jobs as a table: ID, OWNER, STATE, EXIT, AGE, COMMAND. Users
see their own jobs, admins everyone's. AGE is in whole seconds unless
stdout is a terminal.

Flags:
  -a, --all          include jobs that have ended
  --owner NAME       admins: only NAME's jobs
  --json             one proto3 JSON job per line`,

  logs: `Usage: jw logs [-f] [-t] [--since T] [--until T] [-n N]
               [--stdout|--stderr] [--from OFFSET] ID

Writes job ID's output as raw bytes: what it wrote to stdout goes to
stdout, what it wrote to stderr goes to stderr. With --stdout or --stderr
only that stream is shown, on stdout.

Flags:
  -f, --follow       keep streaming until the job has ended; when the
                     connection is lost (a server restart), reconnect and go
                     on where it was, for up to about a minute
  -t, --timestamps   start each line with the time its first byte was read,
                     RFC 3339 in UTC with nanoseconds, and a space
  --since T          only output read at or after T
  --until T          only output read at or before T; -f stops there
                     T: a time back from now (10m, 1h30m, 90s), an RFC 3339
                     time (2026-12-03T16:00:00Z, 2026-12-03T17:00:00.5+01:00;
                     local without a zone) or Unix seconds (1764777600)
  -n, --tail N       only the last N lines (all: every line, the default)
  --stdout           only the job's standard output
  --stderr           only the job's standard error
  --from OFFSET      start at byte OFFSET (of the chosen stream, or of the
                     combined output when both are shown)
  Output the server's output cap dropped is noted on stderr as
  "jw: N bytes of output dropped by the server's output cap".`,

  kill: `Usage: jw kill [-s SIGNAL] ID...

Sends SIGNAL (default SIGKILL) to every process of each running job, as
docker kill: by name (SIGHUP, HUP) or number. The job goes on unless the
signal ends it.

Flags:
  -s, --signal SIGNAL  the signal (HUP INT QUIT ABRT KILL USR1 USR2 ALRM TERM
                       CONT STOP TSTP WINCH)
  --json               print each job as proto3 JSON`,

  rm: `Usage: jw rm [--json] ID...

Removes each job, which must have ended, and its output. Prints nothing on
success; with several jobs, one that fails is one line on stderr and the
others go on.

Flags:
  --json             print the removed job as proto3 JSON`,

  whoami: `Usage: jw whoami [--json]

Prints the user and role the server read from your client certificate.

Flags:
  --json             print the response as proto3 JSON`,
};

const MAIN =
  `jw: run and watch isolated, resource-limited jobs on a jobworker server.

Usage: jw [connection flags] COMMAND [flags] [ARGS]

Commands:
  start    start a job, print its id
  run      start a job, stream its output, exit with its exit code
  stop     stop jobs
  kill     send a signal to every process of jobs
  status   show a job
  ls       list jobs
  logs     write a job's output
  rm       remove ended jobs and their output
  whoami   show who the server thinks you are

Run jw COMMAND --help for the flags of COMMAND; jw --version prints the version.

Exit status: 0 on success, 2 for usage errors, 1 for other errors; jw run
exits with the job's code.

${CONNECTION}`;

/**
 * Help for `topic`, or the overview of all commands.
 *
 * @example
 * ```ts
 * console.log(helpText("run"));
 * ```
 */
export function helpText(topic?: Command): string {
  if (topic === undefined) return MAIN;
  return `${TOPICS[topic]}\n\n${CONNECTION}`;
}
