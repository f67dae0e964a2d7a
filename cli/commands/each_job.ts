import { describeError } from "../describe_error.ts";
import { escapeControls } from "../escape.ts";
import type { Output } from "../output.ts";

/**
 * Runs `act` for each of `ids` in turn, like `docker rm A B C`: a failure
 * is one `jw: ...` line for that job and the others go on; the exit code
 * is the last failure's, 0 if none failed.
 */
export async function eachJob(
  ids: readonly string[],
  server: string,
  output: Output,
  act: (id: string) => Promise<void>,
): Promise<number> {
  let code = 0;
  for (const id of ids) {
    try {
      await act(id);
    } catch (err) {
      if (ids.length === 1) throw err;
      const described = describeError(err, server);
      await output.err(`jw: ${escapeControls(described.message)}\n`);
      code = described.exitCode;
    }
  }
  return code;
}
