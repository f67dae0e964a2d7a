/**
 * Turns `jw` command lines into a typed {@link Invocation}. Only syntax is
 * checked here (is `--memory` a size?); whether a value is allowed is the
 * server's policy.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { JobError } from "../lib/errors.ts";
import { parseSize } from "../lib/limits.ts";
import { parseDuration } from "./duration.ts";
import { parseLogTime } from "./log_time.ts";
import { UsageError } from "./usage_error.ts";

/** The subcommands of `jw`. */
export const COMMANDS = [
  "start",
  "run",
  "stop",
  "kill",
  "status",
  "ls",
  "logs",
  "rm",
  "whoami",
] as const;
/** One subcommand of `jw`. */
export type Command = typeof COMMANDS[number];

/** Connection flags; absent ones fall back to the environment, then defaults. */
export interface ConnectionFlags {
  server?: string;
  ca?: string;
  cert?: string;
  key?: string;
  user?: string;
}

/** What `jw start` and `jw run` ask the server to launch. */
export interface StartSpec {
  command: string;
  args: string[];
  name?: string;
  dir?: string;
  env: Record<string, string>;
  limits: {
    cpu?: number;
    memoryBytes?: bigint;
    ioReadBps?: bigint;
    ioWriteBps?: bigint;
    pids?: number;
  };
}

/** Which output streams `jw logs` shows. */
export type StreamChoice = "both" | "stdout" | "stderr";

/** A parsed command line. */
export type Invocation =
  | { command: "help"; topic?: Command }
  | { command: "version" }
  | { command: "start"; conn: ConnectionFlags; spec: StartSpec; json: boolean }
  | { command: "run"; conn: ConnectionFlags; spec: StartSpec }
  | {
    command: "stop";
    conn: ConnectionFlags;
    ids: string[];
    graceMs?: number;
    json: boolean;
  }
  | {
    command: "kill";
    conn: ConnectionFlags;
    ids: string[];
    signal: string;
    json: boolean;
  }
  | { command: "status"; conn: ConnectionFlags; id: string; json: boolean }
  | {
    command: "ls";
    conn: ConnectionFlags;
    all: boolean;
    owner?: string;
    json: boolean;
  }
  | {
    command: "logs";
    conn: ConnectionFlags;
    id: string;
    follow: boolean;
    streams: StreamChoice;
    from: bigint;
    /** Prefix each line with its time (`-t`). */
    timestamps: boolean;
    /** Output from this time on, in ns since the epoch. */
    since?: bigint;
    /** Output up to this time, in ns since the epoch. */
    until?: bigint;
    /** Only the last this many lines. */
    tail?: bigint;
  }
  | { command: "rm"; conn: ConnectionFlags; ids: string[]; json: boolean }
  | { command: "whoami"; conn: ConnectionFlags; json: boolean };

type Options = NonNullable<ParseArgsConfig["options"]>;

const GLOBAL: Options = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  server: { type: "string" },
  ca: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  user: { type: "string" },
};

const START: Options = {
  name: { type: "string" },
  cpu: { type: "string" },
  memory: { type: "string" },
  "io-read": { type: "string" },
  "io-write": { type: "string" },
  pids: { type: "string" },
  env: { type: "string", short: "e", multiple: true },
  dir: { type: "string" },
};

const OPTIONS: Record<Command, Options> = {
  start: { ...START, json: { type: "boolean" } },
  run: START,
  stop: { grace: { type: "string" }, json: { type: "boolean" } },
  kill: { signal: { type: "string", short: "s" }, json: { type: "boolean" } },
  status: { json: { type: "boolean" } },
  ls: {
    all: { type: "boolean", short: "a" },
    owner: { type: "string" },
    json: { type: "boolean" },
  },
  logs: {
    follow: { type: "boolean", short: "f" },
    stdout: { type: "boolean" },
    stderr: { type: "boolean" },
    from: { type: "string" },
    timestamps: { type: "boolean", short: "t" },
    since: { type: "string" },
    until: { type: "string" },
    tail: { type: "string", short: "n" },
  },
  rm: { json: { type: "boolean" } },
  whoami: { json: { type: "boolean" } },
};

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * Parses `jw` arguments (without the program name). Everything after the
 * first `--` is the job's command line, passed on untouched. Relative
 * times (`jw logs --since 10m`) count back from `nowMs`.
 *
 * @example
 * ```ts
 * parseInvocation(["run", "--memory", "64M", "--", "sh", "-c", "exit 3"]);
 * ```
 */
export function parseInvocation(
  argv: string[],
  nowMs: number = Date.now(),
): Invocation {
  const dashes = argv.indexOf("--");
  const before = dashes < 0 ? argv : argv.slice(0, dashes);
  const after = dashes < 0 ? undefined : argv.slice(dashes + 1);

  const first = commandIndex(before);
  const name = first < 0 ? undefined : before[first];
  if (name === "help") {
    const topic = before[first + 1];
    return {
      command: "help",
      topic: topic === undefined ? undefined : commandNamed(topic),
    };
  }
  if (name === undefined) {
    const { values } = parse(before, GLOBAL);
    if (values.help) return { command: "help" };
    if (values.version) return { command: "version" };
    throw new UsageError("missing command");
  }
  const command = commandNamed(name);
  const rest = [...before.slice(0, first), ...before.slice(first + 1)];
  const { values, positionals } = parse(rest, {
    ...GLOBAL,
    ...OPTIONS[command],
  });
  if (values.help) return { command: "help", topic: command };
  const conn = connectionFlags(values);

  switch (command) {
    case "start":
    case "run": {
      const spec = startSpec(
        values,
        after ?? positionals,
        after !== undefined,
        positionals,
      );
      return command === "start"
        ? { command, conn, spec, json: Boolean(values.json) }
        : { command, conn, spec };
    }
    case "stop":
      return {
        command,
        conn,
        ids: jobIds(command, positionals, after),
        graceMs: values.grace === undefined
          ? undefined
          : parseDuration(str(values.grace), "--grace"),
        json: Boolean(values.json),
      };
    case "kill":
      return {
        command,
        conn,
        ids: jobIds(command, positionals, after),
        signal: values.signal === undefined ? "SIGKILL" : str(values.signal),
        json: Boolean(values.json),
      };
    case "status":
      return {
        command,
        conn,
        id: jobId(command, positionals, after),
        json: Boolean(values.json),
      };
    case "ls":
      noArguments(command, positionals, after);
      return {
        command,
        conn,
        all: Boolean(values.all),
        owner: values.owner === undefined ? undefined : str(values.owner),
        json: Boolean(values.json),
      };
    case "logs":
      return {
        command,
        conn,
        id: jobId(command, positionals, after),
        follow: Boolean(values.follow),
        streams: values.stdout && !values.stderr
          ? "stdout"
          : values.stderr && !values.stdout
          ? "stderr"
          : "both",
        from: values.from === undefined ? 0n : offset(str(values.from)),
        timestamps: Boolean(values.timestamps),
        since: values.since === undefined
          ? undefined
          : parseLogTime(str(values.since), "--since", nowMs),
        until: values.until === undefined
          ? undefined
          : parseLogTime(str(values.until), "--until", nowMs),
        tail: values.tail === undefined ? undefined : tail(str(values.tail)),
      };
    case "rm":
      return {
        command,
        conn,
        ids: jobIds(command, positionals, after),
        json: Boolean(values.json),
      };
    case "whoami":
      noArguments(command, positionals, after);
      return { command, conn, json: Boolean(values.json) };
  }
}

/** Index of the subcommand: the first word that is not a global flag or its value. */
function commandIndex(args: string[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("-")) return i;
    if (GLOBAL[arg.slice(2)]?.type === "string") i++;
  }
  return -1;
}

function commandNamed(name: string): Command {
  if ((COMMANDS as readonly string[]).includes(name)) return name as Command;
  throw new UsageError(`unknown command "${name}"`);
}

function parse(
  args: string[],
  options: Options,
): { values: Values; positionals: string[] } {
  try {
    return parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    }) as {
      values: Values;
      positionals: string[];
    };
  } catch (err) {
    throw new UsageError(parseArgsMessage(err));
  }
}

/** node:util's messages are long and mention internals; keep the gist. */
function parseArgsMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) {
    return `unknown option ${option}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
    return message.includes("argument missing")
      ? `${option} needs a value`
      : `${option} does not take a value`;
  }
  return message.split(". ")[0];
}

function connectionFlags(values: Values): ConnectionFlags {
  const conn: ConnectionFlags = {};
  for (const key of ["server", "ca", "cert", "key", "user"] as const) {
    if (values[key] !== undefined) conn[key] = str(values[key]);
  }
  return conn;
}

function startSpec(
  values: Values,
  argv: string[],
  afterDashes: boolean,
  positionals: string[],
): StartSpec {
  if (afterDashes && positionals.length > 0) {
    throw new UsageError(`unexpected "${positionals[0]}" before --`);
  }
  const [command, ...args] = argv;
  if (!command) {
    throw new UsageError(
      "missing command to run (jw start [flags] -- CMD [ARGS...])",
    );
  }
  const spec: StartSpec = {
    command,
    args,
    env: env(values.env as string[] | undefined),
    limits: {},
  };
  if (values.name !== undefined) spec.name = str(values.name);
  if (values.dir !== undefined) spec.dir = str(values.dir);
  if (values.cpu !== undefined) spec.limits.cpu = cpu(str(values.cpu));
  if (values.memory !== undefined) {
    spec.limits.memoryBytes = size(str(values.memory), "--memory");
  }
  if (values["io-read"] !== undefined) {
    spec.limits.ioReadBps = size(str(values["io-read"]), "--io-read");
  }
  if (values["io-write"] !== undefined) {
    spec.limits.ioWriteBps = size(str(values["io-write"]), "--io-write");
  }
  if (values.pids !== undefined) spec.limits.pids = pids(str(values.pids));
  return spec;
}

function env(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`--env: expected KEY=VALUE, got "${pair}"`);
    }
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function cpu(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(
      `--cpu: not a number of cores: "${text}" (e.g. 0.5, 2)`,
    );
  }
  return value;
}

function size(text: string, flag: string): bigint {
  try {
    return BigInt(parseSize(text));
  } catch (err) {
    if (err instanceof JobError) {
      throw new UsageError(`${flag}: ${err.message} (e.g. 256M, 1G)`);
    }
    throw err;
  }
}

function pids(text: string): number {
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`--pids: not a whole number: "${text}"`);
  }
  return Number(text);
}

function offset(text: string): bigint {
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`--from: not a byte offset: "${text}"`);
  }
  return BigInt(text);
}

/** A line count, or `all` for no limit, as `docker logs --tail` takes. */
function tail(text: string): bigint | undefined {
  if (text === "all") return undefined;
  if (!/^\d+$/.test(text)) {
    throw new UsageError(
      `--tail: not a number of lines: "${text}" (e.g. 100, or all)`,
    );
  }
  return BigInt(text);
}

function jobId(
  command: Command,
  positionals: string[],
  after?: string[],
): string {
  const ids = [...positionals, ...(after ?? [])];
  if (ids.length === 0) throw new UsageError(`${command} needs a job id`);
  if (ids.length > 1) {
    throw new UsageError(`${command} takes one job id, got ${ids.length}`);
  }
  return ids[0];
}

/** One or more job ids (`jw rm A B C`). */
function jobIds(
  command: Command,
  positionals: string[],
  after?: string[],
): string[] {
  const ids = [...positionals, ...(after ?? [])];
  if (ids.length === 0) throw new UsageError(`${command} needs a job id`);
  return ids;
}

function noArguments(
  command: Command,
  positionals: string[],
  after?: string[],
): void {
  const extra = [...positionals, ...(after ?? [])];
  if (extra.length > 0) {
    throw new UsageError(`${command} takes no arguments, got "${extra[0]}"`);
  }
}

function str(value: Values[string]): string {
  return String(value);
}
