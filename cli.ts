/**
 * `jw`, the command-line client of jobworker: parses the command line,
 * connects with the caller's certificate, runs one command and renders the
 * answer. Policy is the server's; `jw` only reports what it decided.
 *
 * @module
 */
import { parseInvocation } from "./cli/args.ts";
import { type ConnectionFlags } from "./cli/args.ts";
import { DEFAULT_SERVER, loadCredentials } from "./cli/credentials.ts";
import { escapeControls } from "./cli/escape.ts";
import { describeError } from "./cli/describe_error.ts";
import { helpText } from "./cli/help.ts";
import { versionLine } from "./version.ts";
import { connect, type JobWorkerClient } from "./cli/jobworker_client.ts";
import { type Output, processOutput } from "./cli/output.ts";
import { kill } from "./cli/commands/kill.ts";
import { logs } from "./cli/commands/logs.ts";
import { ls } from "./cli/commands/ls.ts";
import { rm } from "./cli/commands/rm.ts";
import { run } from "./cli/commands/run.ts";
import { start } from "./cli/commands/start.ts";
import { status } from "./cli/commands/status.ts";
import { stop } from "./cli/commands/stop.ts";
import { wait } from "./cli/commands/wait.ts";
import { whoami } from "./cli/commands/whoami.ts";
import { prune } from "./cli/commands/prune.ts";
import { completionScript } from "./cli/completion.ts";
import type { Invocation } from "./cli/args.ts";

/**
 * Runs `jw` with `argv` (without the program name) and returns its exit
 * code. Every failure becomes one `jw: ...` line on stderr.
 *
 * @example
 * ```ts
 * Deno.exit(await main(["whoami"]));
 * ```
 */
export async function main(
  argv: string[],
  output: Output = processOutput(),
): Promise<number> {
  let server = DEFAULT_SERVER;
  try {
    const invocation = parseInvocation(argv);
    if (invocation.command === "help") {
      await output.out(helpText(invocation.topic) + "\n");
      return 0;
    }
    if (invocation.command === "version") {
      await output.out(versionLine("jw") + "\n");
      return 0;
    }
    if (invocation.command === "completion") {
      await output.out(completionScript(invocation.shell));
      return 0;
    }
    const credentials = await loadCredentials(
      invocation.conn satisfies ConnectionFlags,
    );
    server = credentials.server;
    using client = await connect(credentials);
    return await dispatch(client, invocation, output, server);
  } catch (err) {
    if (err instanceof Deno.errors.BrokenPipe) return 0;
    const { message, exitCode } = describeError(err, server);
    if (Deno.env.get("JW_DEBUG")) console.error(err);
    await output.err(`jw: ${escapeControls(message)}\n`).catch(() => {});
    return exitCode;
  }
}

function dispatch(
  client: JobWorkerClient,
  invocation: Exclude<
    Invocation,
    { command: "help" | "version" | "completion" }
  >,
  output: Output,
  server: string,
): Promise<number> {
  switch (invocation.command) {
    case "start":
      return start(client, invocation.spec, invocation.json, output);
    case "run":
      return invocation.detach
        ? start(client, invocation.spec, false, output)
        : run(client, invocation.spec, output, { rm: invocation.rm });
    case "stop":
      return stop(
        client,
        invocation.ids,
        invocation.graceMs,
        invocation.json,
        output,
        server,
      );
    case "kill":
      return kill(
        client,
        invocation.ids,
        invocation.signal,
        invocation.json,
        output,
        server,
      );
    case "status":
      return status(client, invocation.id, invocation.json, output, {
        noColor: invocation.noColor,
      });
    case "ls":
      return ls(client, invocation, output);
    case "logs":
      return logs(client, invocation, output);
    case "wait":
      return wait(client, invocation.ids, invocation.any, output, server);
    case "prune":
      return prune(client, invocation, output, server);
    case "rm":
      return rm(client, invocation.ids, invocation.json, output, server);
    case "whoami":
      return whoami(client, invocation.json, output);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
