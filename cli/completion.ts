/**
 * The scripts `jw completion bash|zsh|fish` prints, made from the command
 * and flag tables of `flags.ts`: subcommands, each one's flags (long and
 * short), the values of flags that have a fixed set, file names for the
 * certificate flags, and the shells of `jw completion`.
 *
 * @module
 */
import {
  type Command,
  COMMAND_SPECS,
  COMMANDS,
  CONNECTION_FLAGS,
  type Flag,
  GLOBAL_FLAGS,
  type Shell,
} from "./flags.ts";

/**
 * The completion script for `shell`.
 *
 * @example
 * ```ts
 * // bash: source <(jw completion bash)
 * console.log(completionScript("bash"));
 * ```
 */
export function completionScript(shell: Shell): string {
  switch (shell) {
    case "bash":
      return bashScript();
    case "zsh":
      return zshScript();
    case "fish":
      return fishScript();
  }
}

/** The flags taken before any command. */
const TOP_FLAGS = [...GLOBAL_FLAGS, ...CONNECTION_FLAGS];
/** `-h, --help`, taken everywhere. */
const HELP = GLOBAL_FLAGS.find((flag) => flag.name === "help")!;
/** What follows `jw`: the commands, and `help`. */
const WORDS = [...COMMANDS, "help"];

/** `-a --all`: every way to write the flags. */
function spellings(flags: readonly Flag[]): string[] {
  return flags.flatMap((flag) => [
    ...(flag.short === undefined ? [] : [`-${flag.short}`]),
    `--${flag.name}`,
  ]);
}

/**
 * The flags offered after `command`: --help, its own, and the connection
 * flags when it connects. (The parser takes every global flag anywhere.)
 */
function offered(command: Command): Flag[] {
  const connection = COMMAND_SPECS[command].connects ? CONNECTION_FLAGS : [];
  return [HELP, ...COMMAND_SPECS[command].flags, ...connection];
}

/** What bash offers as the value of `flag`. */
function bashValueAction(flag: Flag): string {
  if (flag.choices) {
    return `_jw_reply < <(compgen -W '${flag.choices.join(" ")}' -- "$cur")`;
  }
  if (flag.file) {
    return `compopt -o filenames 2>/dev/null; _jw_reply < <(compgen -f -- "$cur")`;
  }
  return ":";
}

/** One `case $cmd:$prev` branch per action, for every value flag. */
function bashValueCases(): string[] {
  const patterns = new Map<string, string[]>();
  const add = (command: string, flag: Flag) => {
    const action = bashValueAction(flag);
    const list = patterns.get(action) ?? [];
    list.push(...spellings([flag]).map((spelling) => `${command}:${spelling}`));
    patterns.set(action, list);
  };
  for (const flag of TOP_FLAGS) if (flag.value) add("*", flag);
  for (const command of COMMANDS) {
    for (const flag of COMMAND_SPECS[command].flags) {
      if (flag.value) add(command, flag);
    }
  }
  return [...patterns].map(([action, list]) =>
    `    ${list.join(" | ")})\n      ${action}; return 0 ;;`
  );
}

function bashScript(): string {
  const values = bashValueCases();
  const words = COMMANDS.map((command) => {
    const { operands } = COMMAND_SPECS[command];
    const flags = spellings(offered(command)).join(" ");
    const rest = operands === "none"
      ? "$flags"
      : typeof operands === "object"
      ? operands.choices.join(" ")
      : "";
    return `    ${command}) flags='${flags}'; operands="${rest}" ;;`;
  });
  const topValues = spellings(TOP_FLAGS.filter((flag) => flag.value));
  return `# bash completion for jw, printed by \`jw completion bash\`.
# Install: add  source <(jw completion bash)  to ~/.bashrc

_jw_reply() {
  COMPREPLY=()
  local line
  while IFS= read -r line; do COMPREPLY+=("$line"); done
}

_jw() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev= cmd= dashes= i word
  ((COMP_CWORD > 0)) && prev=\${COMP_WORDS[COMP_CWORD - 1]}
  # Readline splits --flag=value at "=".
  if [[ $cur == = ]]; then
    cur=
  elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
    prev=\${COMP_WORDS[COMP_CWORD - 2]}
  fi
  # The command is the first word that is no global flag nor its value.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ -n $cmd ]]; then
      if [[ $word == -- ]]; then dashes=$i; break; fi
      continue
    fi
    case $word in
      ${topValues.join(" | ")})
        [[ \${COMP_WORDS[i + 1]} == = ]] && ((i++))
        ((i++)) ;;
      -*) ;;
      *) cmd=$word ;;
    esac
  done
  # After --: the job's command line.
  if [[ -n $dashes ]]; then
    if ((COMP_CWORD == dashes + 1)); then
      _jw_reply < <(compgen -c -- "$cur")
    else
      compopt -o filenames 2>/dev/null
      _jw_reply < <(compgen -f -- "$cur")
    fi
    return 0
  fi
  case $cmd:$prev in
${values.join("\n")}
  esac
  local flags operands
  case $cmd in
    '') flags='${spellings(TOP_FLAGS).join(" ")}'; operands='${
    WORDS.join(" ")
  }' ;;
    help) flags=; operands='${COMMANDS.join(" ")}' ;;
${words.join("\n")}
    *) return 0 ;;
  esac
  if [[ $cur == -* ]]; then
    _jw_reply < <(compgen -W "$flags" -- "$cur")
  else
    _jw_reply < <(compgen -W "$operands" -- "$cur")
  fi
  return 0
}

complete -F _jw jw
`;
}

/** A string in single quotes, for zsh. */
function zshQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The help of a flag up to its first clause (not inside parentheses). */
function brief(flag: Flag): string {
  let depth = 0;
  for (let i = 0; i < flag.help.length; i++) {
    const char = flag.help[i];
    if (char === "(") depth++;
    else if (char === ")") depth--;
    else if (char === ";" && depth === 0) return flag.help.slice(0, i);
  }
  return flag.help;
}

function zshFlag(flag: Flag): string {
  const action = flag.choices
    ? `(${flag.choices.join(" ")})`
    : flag.file
    ? "_files"
    : " ";
  const value = flag.value === undefined
    ? ""
    : `:${flag.value.replaceAll(":", "\\:")}:${action}`;
  const names = spellings([flag]);
  const exclude = flag.repeatable
    ? "*"
    : flag.name === "help"
    ? "(- *)"
    : names.length > 1
    ? `(${names.join(" ")})`
    : "";
  const spelled = names.map((name) =>
    flag.value === undefined
      ? name
      : name.startsWith("--")
      ? `${name}=`
      : `${name}+`
  );
  // _arguments ends the description at an unescaped bracket.
  const desc = `[${brief(flag).replace(/[[\]\\]/g, "\\$&")}]${value}`;
  return spelled.length === 1
    ? zshQuote(`${exclude}${spelled[0]}${desc}`)
    : `${zshQuote(exclude)}{${spelled.join(",")}}${zshQuote(desc)}`;
}

function zshOperands(command: Command): string[] {
  const { operands } = COMMAND_SPECS[command];
  if (operands === "none") return [];
  if (operands === "id") return [zshQuote("1:job id: ")];
  if (operands === "ids") return [zshQuote("*:job id: ")];
  if (operands === "command") return [zshQuote("*::command line:_normal")];
  return [zshQuote(`1:${command}:(${operands.choices.join(" ")})`)];
}

function zshScript(): string {
  const cases = COMMANDS.map((command) =>
    [
      `        ${command})`,
      `          _arguments -S $help${
        COMMAND_SPECS[command].connects ? " $connection" : ""
      } \\`,
      ...[
        ...COMMAND_SPECS[command].flags.map(zshFlag),
        ...zshOperands(command),
      ].map((spec) => `            ${spec} \\`),
      "            && ret=0 ;;",
    ].join("\n")
  );
  return `#compdef jw
# zsh completion for jw, printed by \`jw completion zsh\`.
# Install: jw completion zsh > "\${fpath[1]}/_jw", then start a new shell.

_jw() {
  local curcontext=$curcontext state line ret=1
  local -a help connection top commands
  help=(${zshFlag(HELP)})
  connection=(
${CONNECTION_FLAGS.map((flag) => `    ${zshFlag(flag)}`).join("\n")}
  )
  top=(
${GLOBAL_FLAGS.map((flag) => `    ${zshFlag(flag)}`).join("\n")}
    $connection
  )
  commands=(
${
    COMMANDS.map((command) =>
      `    ${zshQuote(`${command}:${COMMAND_SPECS[command].summary}`)}`
    ).join("\n")
  }
    'help:show the help of a command'
  )
  _arguments -C $top ': :->command' '*:: :->args' && ret=0
  case $state in
    command)
      _describe -t commands 'jw command' commands && ret=0 ;;
    args)
      curcontext=\${curcontext%:*:*}:jw-$words[1]:
      case $words[1] in
        help)
          _arguments ${
    zshQuote(`1:command:(${COMMANDS.join(" ")})`)
  } && ret=0 ;;
${cases.join("\n")}
      esac ;;
  esac
  return ret
}

if [[ $funcstack[1] == _jw ]]; then
  _jw "$@"
else
  compdef _jw jw
fi
`;
}

/** A string in single quotes, for fish. */
function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, "\\$&")}'`;
}

function fishFlag(flag: Flag, condition?: string): string {
  const parts = ["complete -c jw"];
  if (condition) parts.push(`-n ${fishQuote(condition)}`);
  if (flag.short) parts.push(`-s ${flag.short}`);
  parts.push(`-l ${flag.name}`);
  if (flag.file) parts.push("-r -F");
  else if (flag.value) parts.push("-x");
  if (flag.choices) parts.push(`-a ${fishQuote(flag.choices.join(" "))}`);
  parts.push(`-d ${fishQuote(brief(flag))}`);
  return parts.join(" ");
}

function fishScript(): string {
  const noCommand = `not __fish_seen_subcommand_from ${WORDS.join(" ")}`;
  const lines = [
    "# fish completion for jw, printed by `jw completion fish`.",
    "# Install: jw completion fish > ~/.config/fish/completions/jw.fish",
    "complete -c jw -f",
    ...COMMANDS.map((command) =>
      `complete -c jw -n ${fishQuote(noCommand)} -a ${command} -d ${
        fishQuote(COMMAND_SPECS[command].summary)
      }`
    ),
    `complete -c jw -n ${
      fishQuote(noCommand)
    } -a help -d 'show the help of a command'`,
    `complete -c jw -n '__fish_seen_subcommand_from help' -a ${
      fishQuote(COMMANDS.join(" "))
    }`,
    ...TOP_FLAGS.map((flag) => fishFlag(flag, noCommand)),
  ];
  for (const command of COMMANDS) {
    const seen = `__fish_seen_subcommand_from ${command}`;
    lines.push(...offered(command).map((flag) => fishFlag(flag, seen)));
    const { operands } = COMMAND_SPECS[command];
    if (typeof operands === "object") {
      lines.push(
        `complete -c jw -n ${fishQuote(seen)} -a ${
          fishQuote(operands.choices.join(" "))
        }`,
      );
    } else if (operands === "command") {
      lines.push(`complete -c jw -n ${fishQuote(seen)} -F`);
    }
  }
  return lines.join("\n") + "\n";
}
