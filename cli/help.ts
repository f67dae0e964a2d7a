/**
 * The text of `jw --help` and `jw CMD --help`, made from the command and
 * flag tables of `flags.ts`.
 *
 * @module
 */
import {
  type Command,
  COMMAND_SPECS,
  COMMANDS,
  CONNECTION_FLAGS,
  CONNECTION_NOTES,
  type Flag,
  GLOBAL_FLAGS,
  ID_NOTE,
} from "./flags.ts";

/** The widest a help line may be. */
const WIDTH = 78;

/**
 * Help for `topic`, or the overview of all commands.
 *
 * @example
 * ```ts
 * console.log(helpText("run"));
 * ```
 */
export function helpText(topic?: Command): string {
  if (topic === undefined) return overview();
  const spec = COMMAND_SPECS[topic];
  const [first, ...more] = spec.usage;
  const sections = [
    [`Usage: ${first}`, ...more.map((line) => `       ${line}`)].join("\n"),
    spec.description,
  ];
  if (spec.operands === "id" || spec.operands === "ids") sections.push(ID_NOTE);
  if (spec.flags.length > 0) {
    sections.push(flagSection("Flags:", spec.flags, spec.notes));
  }
  if (spec.connects) sections.push(connectionSection());
  return sections.join("\n\n");
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((name) => name.length)) + 2;
  const commands = COMMANDS.map((name) =>
    `  ${name.padEnd(width)}${COMMAND_SPECS[name].summary}`
  );
  return [
    "jw: run and watch isolated, resource-limited jobs on a jobworker server.",
    "Usage: jw [connection flags] COMMAND [flags] [ARGS]",
    ["Commands:", ...commands].join("\n"),
    ID_NOTE,
    flagSection("Flags:", GLOBAL_FLAGS),
    `Exit status: 0 on success, 2 for usage errors, 1 for other errors; jw run
and jw wait exit with the job's code.`,
    connectionSection(),
  ].join("\n\n");
}

/** A heading, one row per flag with its help beside it, then notes. */
function flagSection(
  heading: string,
  flags: readonly Flag[],
  notes?: string,
): string {
  const lefts = flags.map(flagColumn);
  const width = Math.max(17, ...lefts.map((left) => left.length)) + 2;
  const rows = flags.map((flag, i) =>
    wrap(`  ${lefts[i].padEnd(width)}${flag.help}`, 2 + width)
  );
  return [heading, ...rows, ...(notes === undefined ? [] : [notes])].join(
    "\n",
  );
}

/** The connection flags with their environment variables, then where files come from. */
function connectionSection(): string {
  const lefts = CONNECTION_FLAGS.map(flagColumn);
  const flagWidth = Math.max(...lefts.map((left) => left.length)) + 3;
  const envWidth = Math.max(
    ...CONNECTION_FLAGS.map((flag) => flag.env?.length ?? 0),
  ) + 3;
  const rows = CONNECTION_FLAGS.map((flag, i) =>
    wrap(
      `  ${lefts[i].padEnd(flagWidth)}${
        (flag.env ?? "").padEnd(envWidth)
      }${flag.help}`,
      2 + flagWidth + envWidth,
    )
  );
  return [
    "Connection (flag, else environment, else default):",
    ...rows,
    CONNECTION_NOTES,
  ].join("\n");
}

/** `-e, --env K=V`: how the flag is written. */
function flagColumn(flag: Flag): string {
  const short = flag.short === undefined ? "" : `-${flag.short}, `;
  const value = flag.value === undefined ? "" : ` ${flag.value}`;
  return `${short}--${flag.name}${value}`;
}

/** Breaks `line` at spaces to fit {@link WIDTH}, going on at column `indent`. */
function wrap(line: string, indent: number): string {
  const lines: string[] = [];
  let rest = line;
  while (rest.length > WIDTH) {
    const cut = rest.lastIndexOf(" ", WIDTH);
    if (cut <= indent) break; // one word too long to break; let it be
    lines.push(rest.slice(0, cut).trimEnd());
    rest = " ".repeat(indent) + rest.slice(cut + 1).trimStart();
  }
  lines.push(rest);
  return lines.join("\n");
}
