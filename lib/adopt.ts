import { type ExitStatus, parseReport } from "./launcher.ts";

/** What a job launcher last wrote to its status file. */
export type Report =
  | { kind: "started"; pid: number; launcher: number }
  | ExitStatus
  | { kind: "failed"; reason: string }
  | { kind: "none" };

/** Reads a launcher's status file (see lib/init/jw_init.c). */
export async function readReport(path: string): Promise<Report> {
  const line = (await Deno.readTextFile(path).catch(() => "")).trim();
  const [word, ...rest] = line.split(" ");
  if (word === "started") {
    return { kind: "started", pid: Number(rest[0]), launcher: Number(rest[1]) };
  }
  if (word === "failed") return { kind: "failed", reason: rest.join(" ") };
  return parseReport(line) ?? { kind: "none" };
}

/** Whether process `pid` is the launcher of job `id` (not a recycled PID). */
export async function isLauncherOf(pid: number, id: string): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() =>
    ""
  );
  const args = cmdline.split("\0");
  return args[0].endsWith("jw-init") && args[args.indexOf("--id") + 1] === id;
}

/** How often an adopted job's launcher is checked for having died without a report. */
const LIVENESS_MS = 2000;

/**
 * The end of a job started by an earlier server, whose launcher still runs:
 * resolves when the status file holds the final report (`changed` is called
 * by the log watcher when it changes), rejects when the launcher died without
 * one. Only the launcher's liveness is checked on a timer, as a safety net.
 */
export function awaitReport(
  path: string,
  id: string,
  launcher: number,
  subscribe: (changed: () => void) => void,
): Promise<ExitStatus> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const check = async () => {
      if (settled) return;
      const report = await readReport(path);
      if (report.kind === "exited" || report.kind === "signaled") {
        settle();
        resolve(report);
      } else if (!await isLauncherOf(launcher, id)) {
        const last = await readReport(path);
        settle();
        if (last.kind === "exited" || last.kind === "signaled") resolve(last);
        else {reject(
            new Error("its launcher died without reporting how it ended"),
          );}
      }
    };
    const timer = setInterval(check, LIVENESS_MS);
    const settle = () => {
      settled = true;
      clearInterval(timer);
    };
    subscribe(check);
    check();
  });
}
