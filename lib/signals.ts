import { JobError } from "./errors.ts";

/** Signals a job may be sent (`Kill`), by number on Linux x86-64. */
const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGWINCH: 28,
};

/**
 * The signal `text` names: `SIGUSR1`, `USR1` or `10` (any case); empty is
 * SIGKILL, as `docker kill`. Others are `invalid_argument`.
 *
 * @example
 * ```ts
 * parseSignal("hup"); // "SIGHUP"
 * ```
 */
export function parseSignal(text: string): Deno.Signal {
  const trimmed = text.trim().toUpperCase();
  if (trimmed === "") return "SIGKILL";
  const byName = trimmed.startsWith("SIG") ? trimmed : `SIG${trimmed}`;
  if (Object.hasOwn(SIGNALS, byName)) return byName as Deno.Signal;
  const number = Number(trimmed);
  const named = Object.entries(SIGNALS).find(([, n]) => n === number);
  if (/^\d+$/.test(trimmed) && named) return named[0] as Deno.Signal;
  throw new JobError(
    "invalid_argument",
    `unknown signal "${text}" (know ${Object.keys(SIGNALS).join(", ")})`,
  );
}
