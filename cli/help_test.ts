import assert from "node:assert/strict";
import { parseInvocation, parseOptions } from "./args.ts";
import {
  COMMAND_SPECS,
  commandFlags,
  COMMANDS,
  CONNECTION_FLAGS,
  type Flag,
  GLOBAL_FLAGS,
} from "./flags.ts";
import { helpText } from "./help.ts";
import { UsageError } from "./usage_error.ts";

/** How the help writes a flag: `-e, --env K=V`. */
function spelled(flag: Flag): string {
  const short = flag.short === undefined ? "" : `-${flag.short}, `;
  return `${short}--${flag.name}${flag.value ? ` ${flag.value}` : ""}`;
}

/** The flag as a command line would give it, with a value if it takes one. */
function given(flag: Flag): string[] {
  return flag.value === undefined
    ? [`--${flag.name}`]
    : [`--${flag.name}`, "1"];
}

/** The first error `argv` is a usage error for, or undefined when it parses. */
function usageError(argv: string[]): string | undefined {
  try {
    parseInvocation(argv);
    return undefined;
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
}

Deno.test("every flag of a command is in its help, with its value", () => {
  for (const command of COMMANDS) {
    const help = helpText(command);
    for (const flag of COMMAND_SPECS[command].flags) {
      assert.match(
        help,
        new RegExp(`^  ${RegExp.escape(spelled(flag))}  `, "m"),
        `jw ${command} --help: ${spelled(flag)}`,
      );
    }
  }
});

Deno.test("the connection section lists each flag with its environment variable", () => {
  for (const topic of [undefined, ...COMMANDS]) {
    const help = helpText(topic);
    if (topic !== undefined && !COMMAND_SPECS[topic].connects) {
      assert.doesNotMatch(help, /^Connection/m, topic);
      continue;
    }
    for (const flag of CONNECTION_FLAGS) {
      assert.ok(flag.env, `--${flag.name} has an environment variable`);
      assert.match(
        help,
        new RegExp(`^  ${RegExp.escape(spelled(flag))} +${flag.env} +\\S`, "m"),
        `${topic ?? "jw"}: --${flag.name}`,
      );
    }
  }
});

Deno.test("the overview lists every command, the global flags and what ID is", () => {
  const help = helpText();
  for (const command of COMMANDS) {
    assert.match(
      help,
      new RegExp(
        `^  ${command} +${RegExp.escape(COMMAND_SPECS[command].summary)}$`,
        "m",
      ),
    );
  }
  for (const flag of GLOBAL_FLAGS) assert.ok(help.includes(spelled(flag)));
  assert.match(help, /^ID: a job id, a unique prefix of at least 4 /m);
});

Deno.test("the help of every command renders in 80 columns", () => {
  for (const topic of [undefined, ...COMMANDS]) {
    const help = helpText(topic);
    if (topic !== undefined) {
      assert.match(help, new RegExp(`^Usage: jw ${topic} `), topic);
      const { flags, operands } = COMMAND_SPECS[topic];
      assert.equal(help.includes("\n\nFlags:\n"), flags.length > 0, topic);
      assert.equal(
        help.includes("\nID: a job id"),
        operands === "id" || operands === "ids",
        topic,
      );
    }
    for (const line of help.split("\n")) {
      assert.ok(line.length <= 80, `${topic ?? "jw"}: ${line}`);
      assert.equal(line, line.trimEnd(), `${topic ?? "jw"}: trailing space`);
    }
  }
});

Deno.test("ls says ages are short everywhere", () => {
  assert.doesNotMatch(helpText("ls"), /whole seconds/);
  assert.match(helpText("ls"), /3s, 2m, 4h, 3d/);
});

Deno.test("the parser's options are the table's, and nothing else", () => {
  for (const command of COMMANDS) {
    const expected: Record<string, unknown> = {};
    for (
      const flag of [
        ...GLOBAL_FLAGS,
        ...CONNECTION_FLAGS,
        ...COMMAND_SPECS[command].flags,
      ]
    ) {
      expected[flag.name] = {
        type: flag.value ? "string" : "boolean",
        ...(flag.short ? { short: flag.short } : {}),
        ...(flag.repeatable ? { multiple: true } : {}),
      };
    }
    assert.deepEqual(parseOptions(commandFlags(command)), expected, command);
  }
});

Deno.test("every command takes exactly the flags its table lists", () => {
  const everyName = new Set(
    COMMANDS.flatMap((command) => commandFlags(command).map((f) => f.name)),
  );
  for (const command of COMMANDS) {
    const own = new Map(commandFlags(command).map((flag) => [flag.name, flag]));
    for (const name of everyName) {
      const flag = own.get(name);
      const message = usageError([
        command,
        ...(flag ? given(flag) : [`--${name}`]),
        "x",
      ]);
      if (flag) {
        assert.doesNotMatch(
          message ?? "",
          /unknown option/,
          `${command} ${name}`,
        );
      } else {
        assert.equal(message, `unknown option --${name}`, `${command} ${name}`);
      }
    }
  }
});

Deno.test("a flag name means the same in every command", () => {
  const seen = new Map<string, Flag>();
  for (const command of COMMANDS) {
    const shorts = new Set<string>();
    const names = new Set<string>();
    for (const flag of [...GLOBAL_FLAGS, ...CONNECTION_FLAGS]) {
      names.add(flag.name);
      if (flag.short) shorts.add(flag.short);
    }
    for (const flag of COMMAND_SPECS[command].flags) {
      const global = [...GLOBAL_FLAGS, ...CONNECTION_FLAGS].includes(flag);
      if (!global) {
        assert.ok(!names.has(flag.name), `${command}: --${flag.name} twice`);
        if (flag.short) {
          assert.ok(
            !shorts.has(flag.short),
            `${command}: -${flag.short} twice`,
          );
        }
      }
      names.add(flag.name);
      if (flag.short) shorts.add(flag.short);
      const before = seen.get(flag.name);
      if (before) {
        assert.deepEqual(
          [flag.short, flag.value, flag.repeatable],
          [before.short, before.value, before.repeatable],
          `--${flag.name} in ${command}`,
        );
      }
      seen.set(flag.name, flag);
    }
  }
});
