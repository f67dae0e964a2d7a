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
import {
  type Command,
  commandFlags,
  COMMANDS,
  CONNECTION_FLAGS,
  type Flag,
  flagOf,
  GLOBAL_FLAGS,
  type Shell,
  SHELLS,
} from "./flags.ts";
import { parseLogTime } from "./log_time.ts";
import { UsageError } from "./usage_error.ts";

export { type Command, COMMANDS, type Shell } from "./flags.ts";

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

/** How `jw ls` prints the jobs. */
export type LsFormat = "table" | "json" | "ids";

/**
 * A parsed command line. Every one but help says whether colour is off
 * (`--no-color`); whether it is on is also up to NO_COLOR and the terminal.
 */
export type Invocation =
  | { command: "help"; topic?: Command }
  | { command: "version"; noColor: boolean }
  | { command: "completion"; shell: Shell; noColor: boolean }
  | {
    command: "start";
    conn: ConnectionFlags;
    spec: StartSpec;
    json: boolean;
    noColor: boolean;
  }
  | {
    command: "run";
    conn: ConnectionFlags;
    spec: StartSpec;
    /** Print the id and return, as `jw start` (`-d`). */
    detach: boolean;
    /** Remove the job once it has ended (`--rm`). */
    rm: boolean;
    noColor: boolean;
  }
  | {
    command: "stop";
    conn: ConnectionFlags;
    ids: string[];
    graceMs?: number;
    json: boolean;
    noColor: boolean;
  }
  | {
    command: "kill";
    conn: ConnectionFlags;
    ids: string[];
    signal: string;
    json: boolean;
    noColor: boolean;
  }
  | {
    command: "status";
    conn: ConnectionFlags;
    id: string;
    json: boolean;
    noColor: boolean;
  }
  | {
    command: "ls";
    conn: ConnectionFlags;
    /** Ended jobs too: `-a`, or a `--state` other than running. */
    all: boolean;
    owner?: string;
    /** Only jobs in one of these states (none: no such filter). */
    states: string[];
    /** Only jobs with exactly this name. */
    name?: string;
    format: LsFormat;
    noColor: boolean;
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
    noColor: boolean;
  }
  | {
    command: "wait";
    conn: ConnectionFlags;
    ids: string[];
    /** Return when the first job ends (`--any`), not when all have. */
    any: boolean;
    noColor: boolean;
  }
  | {
    command: "rm";
    conn: ConnectionFlags;
    ids: string[];
    json: boolean;
    noColor: boolean;
  }
  | {
    command: "prune";
    conn: ConnectionFlags;
    /** Only jobs that ended at least this long ago. */
    olderThanMs?: number;
    /** Only jobs in one of these ended states (none: every ended job). */
    states: string[];
    owner?: string;
    json: boolean;
    noColor: boolean;
  }
  | {
    command: "whoami";
    conn: ConnectionFlags;
    json: boolean;
    noColor: boolean;
  };

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * The node:util `parseArgs` options for `flags`, as the flag table
 * declares them.
 *
 * @example
 * ```ts
 * parseOptions([{ name: "tail", short: "n", value: "N", help: "" }]);
 * // { tail: { type: "string", short: "n" } }
 * ```
 */
export function parseOptions(flags: readonly Flag[]): Options {
  const options: Options = {};
  for (const flag of flags) {
    options[flag.name] = {
      type: flag.value === undefined ? "boolean" : "string",
      ...(flag.short === undefined ? {} : { short: flag.short }),
      ...(flag.repeatable ? { multiple: true } : {}),
    };
  }
  return options;
}

/** What is taken before the command. */
const GLOBAL = parseOptions([...GLOBAL_FLAGS, ...CONNECTION_FLAGS]);

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
    if (values.version) {
      return { command: "version", noColor: Boolean(values["no-color"]) };
    }
    throw new UsageError("missing command");
  }
  const command = commandNamed(name);
  const rest = [...before.slice(0, first), ...before.slice(first + 1)];
  const { values, positionals } = parse(
    rest,
    parseOptions(commandFlags(command)),
  );
  if (values.help) return { command: "help", topic: command };
  const operands = [...positionals, ...(after ?? [])];
  const noColor = Boolean(values["no-color"]);
  if (command === "completion") {
    return { command, shell: shell(operands), noColor };
  }
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
      if (command === "start") {
        return { command, conn, spec, json: Boolean(values.json), noColor };
      }
      if (values.detach && values.rm) {
        throw new UsageError("--rm cannot be used with -d");
      }
      return {
        command,
        conn,
        spec,
        detach: Boolean(values.detach),
        rm: Boolean(values.rm),
        noColor,
      };
    }
    case "stop":
      return {
        command,
        conn,
        ids: jobIds(command, operands),
        graceMs: values.grace === undefined
          ? undefined
          : parseDuration(str(values.grace), "--grace"),
        json: Boolean(values.json),
        noColor,
      };
    case "kill":
      return {
        command,
        conn,
        ids: jobIds(command, operands),
        signal: values.signal === undefined ? "SIGKILL" : str(values.signal),
        json: Boolean(values.json),
        noColor,
      };
    case "status":
      return {
        command,
        conn,
        id: jobId(command, operands),
        json: Boolean(values.json),
        noColor,
      };
    case "ls": {
      noArguments(command, operands);
      const states = stateList(command, values.state);
      return {
        command,
        conn,
        all: Boolean(values.all) || states.some((s) => s !== "running"),
        owner: optional(values.owner),
        states,
        name: optional(values.name),
        format: lsFormat(values),
        noColor,
      };
    }
    case "logs":
      return {
        command,
        conn,
        id: jobId(command, operands),
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
        noColor,
      };
    case "wait":
      if (values.any && values.all) {
        throw new UsageError("--any cannot be used with --all");
      }
      return {
        command,
        conn,
        ids: jobIds(command, operands),
        any: Boolean(values.any),
        noColor,
      };
    case "rm":
      return {
        command,
        conn,
        ids: jobIds(command, operands),
        json: Boolean(values.json),
        noColor,
      };
    case "prune":
      noArguments(command, operands);
      return {
        command,
        conn,
        olderThanMs: values["older-than"] === undefined
          ? undefined
          : parseDuration(str(values["older-than"]), "--older-than"),
        states: stateList(command, values.state),
        owner: optional(values.owner),
        json: Boolean(values.json),
        noColor,
      };
    case "whoami":
      noArguments(command, operands);
      return { command, conn, json: Boolean(values.json), noColor };
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
  for (const { name } of CONNECTION_FLAGS) {
    const key = name as keyof ConnectionFlags;
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

function jobId(command: Command, operands: string[]): string {
  if (operands.length === 0) throw new UsageError(`${command} needs a job id`);
  if (operands.length > 1) {
    throw new UsageError(
      `${command} takes one job id, got ${operands.length}`,
    );
  }
  return operands[0];
}

/** One or more job ids (`jw rm A B C`). */
function jobIds(command: Command, operands: string[]): string[] {
  if (operands.length === 0) throw new UsageError(`${command} needs a job id`);
  return operands;
}

function noArguments(command: Command, operands: string[]): void {
  if (operands.length > 0) {
    throw new UsageError(
      `${command} takes no arguments, got "${operands[0]}"`,
    );
  }
}

/** The shell of `jw completion SHELL`. */
function shell(operands: string[]): Shell {
  const known = `${SHELLS.slice(0, -1).join(", ")} or ${SHELLS.at(-1)}`;
  if (operands.length === 0) {
    throw new UsageError(`completion needs a shell: ${known}`);
  }
  if (operands.length > 1) {
    throw new UsageError(`completion takes one shell, got ${operands.length}`);
  }
  const [name] = operands;
  if (!(SHELLS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown shell "${name}" (${known})`);
  }
  return name as Shell;
}

/**
 * The states `--state` names, repeated or comma-separated (`--state
 * exited,failed`), each once, in the order given.
 */
function stateList(command: Command, value: Values[string]): string[] {
  const { choices = [] } = flagOf(command, "state");
  const words = ((value ?? []) as string[]).flatMap((text) => text.split(","));
  for (const word of words) {
    if (word === "running" && command === "prune") {
      throw new UsageError(
        "--state running: prune removes only ended jobs",
      );
    }
    if (!choices.includes(word)) {
      throw new UsageError(
        `--state: unknown state "${word}" (${choices.join(", ")})`,
      );
    }
  }
  return [...new Set(words)];
}

/** `--format`, or what `--json` and `-q` stand for; they must agree. */
function lsFormat(values: Values): LsFormat {
  const asked: [string, LsFormat][] = [];
  if (values.format !== undefined) {
    const format = str(values.format);
    const { choices = [] } = flagOf("ls", "format");
    if (!choices.includes(format)) {
      throw new UsageError(
        `--format: unknown format "${format}" (${choices.join(", ")})`,
      );
    }
    asked.push([`--format ${format}`, format as LsFormat]);
  }
  if (values.json) asked.push(["--json", "json"]);
  if (values.quiet) asked.push(["-q", "ids"]);
  const clash = asked.find(([, format]) => format !== asked[0][1]);
  if (clash) {
    throw new UsageError(`${clash[0]} cannot be used with ${asked[0][0]}`);
  }
  return asked[0]?.[1] ?? "table";
}

function optional(value: Values[string]): string | undefined {
  return value === undefined ? undefined : str(value);
}

function str(value: Values[string]): string {
  return String(value);
}
