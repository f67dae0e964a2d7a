/**
 * Renders jobs for people: the `jw ls` table and the `jw status` details.
 * Ages are short ("3s", "2m", "4h", "3d") everywhere; colour, and the age
 * beside a time, only on a terminal (no colour with NO_COLOR or
 * `--no-color`).
 *
 * @module
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import os from "node:os";
import { type Job, JobState } from "../gen/jobworker/v1/jobworker_pb.ts";
import { formatSize } from "../lib/limits.ts";
import { escapeControls, hasControls } from "./escape.ts";

/** How to render: for a terminal or not, and the time ages count from. */
export interface RenderOptions {
  tty: boolean;
  now: Date;
  /** False for no colour even on a terminal (`--no-color`). */
  colour?: boolean;
}

const COLOURS = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
type Colour = keyof typeof COLOURS;

/** `text` in `colour` when `on`. */
function paint(text: string, colour: Colour, on: boolean): string {
  return on ? `\x1b[${COLOURS[colour]}m${text}\x1b[0m` : text;
}

/**
 * Colour is for terminals, unless NO_COLOR (https://no-color.org) is set
 * or `--no-color` given.
 */
function coloured(options: RenderOptions): boolean {
  return options.tty && options.colour !== false && !noColour();
}

function noColour(): boolean {
  try {
    return Boolean(Deno.env.get("NO_COLOR"));
  } catch {
    return false; // no permission to read the environment
  }
}

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(os.constants.signals).map((
    [name, number],
  ) => [number as number, name]),
);

/** `SIGKILL` for 9; `signal 99` for numbers without a name. */
export function signalName(signal: number): string {
  return SIGNAL_NAMES.get(signal) ?? `signal ${signal}`;
}

/** One word for the state: `running`, `exited`, `signaled`, `stopped`, `failed`, `lost`. */
export function stateWord(state: JobState): string {
  switch (state) {
    case JobState.RUNNING:
      return "running";
    case JobState.EXITED:
      return "exited";
    case JobState.SIGNALED:
      return "signaled";
    case JobState.STOPPED:
      return "stopped";
    case JobState.FAILED_TO_START:
      return "failed";
    case JobState.LOST:
      return "lost";
    default:
      return "unknown";
  }
}

/** How the job ended, for the exit column: `0`, `SIGKILL`, `oom`, or empty. */
export function exitText(job: Job): string {
  // Any ended job that exited has its code (a stopped one may have exited
  // on its own after SIGTERM).
  if (job.exitCode !== undefined && job.state !== JobState.RUNNING) {
    return String(job.exitCode);
  }
  if (job.signal !== undefined) {
    return signalName(job.signal) + (job.oomKilled ? " (oom)" : "");
  }
  return job.oomKilled ? "oom" : "";
}

function stateColour(job: Job): Colour | undefined {
  switch (job.state) {
    case JobState.RUNNING:
      return "green";
    case JobState.EXITED:
      return job.exitCode === 0 ? undefined : "red";
    case JobState.STOPPED:
      return "yellow";
    default:
      return "red";
  }
}

/**
 * Quotes an argument for display the way a POSIX shell would need it, so
 * that the command column can be pasted back; one with control characters
 * as bash's `$'…'` with them escaped, so that it cannot act on the terminal.
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_\-.,:/@%+=]+$/.test(arg)) return arg;
  if (hasControls(arg)) {
    return `$'${
      escapeControls(arg.replaceAll("\\", "\\\\").replaceAll("'", "\\'"))
    }'`;
  }
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The job's command line as one string. */
export function commandLine(job: Job): string {
  return [job.command, ...job.args].map(shellQuote).join(" ");
}

function age(created: Timestamp | undefined, { now }: RenderOptions): string {
  if (!created) return "";
  return shortAge(now.getTime() - timestampDate(created).getTime());
}

/** An age in its largest whole unit, as `docker ps` and `ls -l` readers expect: 3s, 2m, 4h, 3d. */
export function shortAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** The state cell: the state, and for a stopped job that exited on its own, so (`stopped (exit 5)`). */
function stateCell(job: Job): string {
  const word = stateWord(job.state);
  if (job.state !== JobState.STOPPED) return word;
  return job.exitCode === undefined ? word : `${word} (exit ${job.exitCode})`;
}

/**
 * The `jw ls` table: ID, OWNER, NAME, STATE, EXIT, AGE, COMMAND, columns padded to
 * their widest cell.
 *
 * @example
 * ```ts
 * console.log(renderTable(jobs, { tty: false, now: new Date() }));
 * ```
 */
export function renderTable(jobs: Job[], options: RenderOptions): string {
  const header = ["ID", "OWNER", "NAME", "STATE", "EXIT", "AGE", "COMMAND"];
  const rows = jobs.map((job) => [
    job.id,
    escapeControls(job.owner),
    escapeControls(job.name),
    stateCell(job),
    exitText(job),
    age(job.createdAt, options),
    commandLine(job),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length))
  );
  const line = (cells: string[]) =>
    cells.map((
      cell,
      i,
    ) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")
      .trimEnd();
  const on = coloured(options);
  const lines = [paint(line(header), "bold", on)];
  rows.forEach((row, index) => {
    const colour = stateColour(jobs[index]);
    const text = line(row);
    lines.push(colour && on ? colourState(text, row, widths, colour) : text);
  });
  return lines.join("\n");
}

/** Where STATE is among the table's columns. */
const STATE_COLUMN = 3;

/** Colours only the state cell of a rendered row. */
function colourState(
  text: string,
  row: string[],
  widths: number[],
  colour: Colour,
): string {
  const start = widths.slice(0, STATE_COLUMN)
    .reduce((sum, width) => sum + width + 2, 0);
  const cell = row[STATE_COLUMN];
  return text.slice(0, start) + paint(cell, colour, true) +
    text.slice(start + cell.length);
}

/**
 * The `jw status` details: one `field  value` line per known fact.
 *
 * @example
 * ```ts
 * console.log(renderDetails(job, { tty: true, now: new Date() }));
 * ```
 */
export function renderDetails(job: Job, options: RenderOptions): string {
  const fields: [string, string][] = [
    ["id", job.id],
    ["name", escapeControls(job.name)],
    ["owner", escapeControls(job.owner)],
    ["state", state(job, coloured(options))],
    ["command", commandLine(job)],
    ["dir", escapeControls(dir(job))],
    ["uid", job.uid === undefined ? "" : String(job.uid)],
    ["created", time(job.createdAt, options)],
    ["started", time(job.startedAt, options)],
    ["ended", time(job.endedAt, options)],
    ["limits", limits(job)],
    ["usage", usage(job)],
    ["output", output(job)],
    ["error", escapeControls(job.error)],
  ];
  return fields.filter(([, value]) => value !== "")
    .map(([name, value]) =>
      `${paint(name.padEnd(8), "dim", coloured(options))}  ${value}`
    )
    .join("\n");
}

/** Where the job works, and what becomes of its own directory. */
function dir(job: Job): string {
  if (job.dir !== "/work") return job.dir;
  const ended = job.state !== JobState.RUNNING;
  return `/work (the job's own; ${
    ended ? "removed when it ended" : "removed when it ends"
  })`;
}

function output(job: Job): string {
  const text =
    `stdout ${job.stdoutBytes} bytes, stderr ${job.stderrBytes} bytes`;
  if (job.outputCapBytes === undefined) return text;
  const dropped = job.stdoutDroppedBytes + job.stderrDroppedBytes;
  return `${text} (kept: last ${job.outputCapBytes} bytes of each; dropped ${dropped} bytes)`;
}

function state(job: Job, on: boolean): string {
  const cell = stateCell(job);
  const how = exitText(job);
  const colour = stateColour(job);
  const text = how === "" || job.state === JobState.STOPPED
    ? cell
    : `${cell} ${how}`;
  return colour ? paint(text, colour, on) : text;
}

function time(ts: Timestamp | undefined, options: RenderOptions): string {
  if (!ts) return "";
  const iso = timestampDate(ts).toISOString();
  return options.tty ? `${iso} (${age(ts, options)} ago)` : iso;
}

function limits(job: Job): string {
  const l = job.limits;
  if (!l) return "none";
  const parts: string[] = [];
  if (l.cpu !== undefined) parts.push(`cpu ${l.cpu}`);
  if (l.memoryBytes !== undefined) {
    parts.push(`memory ${formatSize(Number(l.memoryBytes))}`);
  }
  if (l.ioReadBps !== undefined) {
    parts.push(`io-read ${formatSize(Number(l.ioReadBps))}/s`);
  }
  if (l.ioWriteBps !== undefined) {
    parts.push(`io-write ${formatSize(Number(l.ioWriteBps))}/s`);
  }
  if (l.pids !== undefined) parts.push(`pids ${l.pids}`);
  return parts.length ? parts.join(", ") : "none";
}

function usage(job: Job): string {
  const u = job.usage;
  if (!u) return "";
  return [
    `cpu ${u.cpuSeconds.toFixed(2)}s`,
    `memory peak ${formatSize(Number(u.memoryPeakBytes))}`,
    `io read ${formatSize(Number(u.ioReadBytes))}`,
    `io write ${formatSize(Number(u.ioWriteBytes))}`,
    `throttled ${u.cpuThrottledSeconds.toFixed(2)}s`,
  ].join(", ");
}
