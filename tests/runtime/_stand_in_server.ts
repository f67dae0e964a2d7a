// A server stand-in for restart tests, run as a child process (in a cgroup of
// its own, see tests/_own_cgroup.ts) so that it can crash and be restarted
// like a service. Opens a runtime on the data directory and cgroup name given
// as the first two arguments, then by mode:
//
//   start <dataDir> <cgroupName> <scripts>   starts the jobs named in the JSON
//       object name -> shell script, prints their ids as one JSON line
//       (name -> id), then waits to be killed; SIGTERM closes the runtime
//       leaving the jobs running (as main.ts does) and exits 0
//   check <dataDir> <cgroupName> <stop> <release>   prints a JSON report
//       (below) of every job it found: the jobs whose ids the JSON array
//       `stop` names are stopped, the others followed to their end; the jobs
//       the JSON array `release` names get SIGUSR1 once the runtime has opened
//       (a job can wait for it, to be sure it is still running then); then
//       closes the runtime
//   clean <dataDir> <cgroupName>             stops whatever still runs, closes
// With JW_STAND_IN_POLICY set, the runtime reads that policy file and every
// job starts under its "user" quota.
import { type JobInfo, JobRuntime } from "../../lib/mod.ts";
import { collect } from "./_runtime.ts";

/** What `check` found of one job. */
export interface CheckedJob {
  owner: string;
  /** The state right after the runtime opened. */
  stateAtOpen: JobInfo["state"];
  /** The uid its record holds. */
  uid?: number;
  /** The uid a job started right after the runtime opened got (the same for every job). */
  uidOfNewJob?: number;
  stdout: string;
  stderr: string;
  /** The job once over: stopped, or followed to its end. */
  end: Pick<JobInfo, "state" | "exitCode" | "error">;
}

/** The report `check` prints: jobs by id. */
export type CheckReport = Record<string, CheckedJob>;

const [mode, dataDir, cgroupName, arg, release] = Deno.args;
const policyPath = Deno.env.get("JW_STAND_IN_POLICY");
const runtime = await JobRuntime.open({ dataDir, cgroupName, policyPath });
if (mode === "start") {
  const ids: Record<string, string> = {};
  const scripts = JSON.parse(arg) as Record<string, string>;
  for (const [name, script] of Object.entries(scripts)) {
    const job = await runtime.start({
      owner: "tester",
      command: "sh",
      args: ["-c", script],
    }, policyPath ? { quota: "user" } : {});
    ids[name] = job.id;
  }
  Deno.addSignalListener("SIGTERM", async () => {
    await runtime.close({ keepJobs: true });
    Deno.exit(0);
  });
  console.log(JSON.stringify(ids));
  await new Promise(() => {});
} else if (mode === "check") {
  const stop = JSON.parse(arg) as string[];
  const report: CheckReport = {};
  const jobs = runtime.list();
  const opened = jobs.map((job) => job.info());
  for (const id of JSON.parse(release) as string[]) {
    await runtime.find(id).kill("SIGUSR1");
  }
  // While the re-adopted jobs run, their uids must not be handed out.
  // (Another owner's: a job of theirs ending now could make retention
  // under a disk quota remove theirs that ended before.)
  const fresh = await runtime.start({ owner: "uid-probe", command: "true" });
  const uidOfNewJob = fresh.info().uid;
  await fresh.done;
  await runtime.remove(fresh.id);
  for (const [i, job] of jobs.entries()) {
    const stopped = stop.includes(job.id) ? await job.stop(0) : undefined;
    const { stdout, stderr } = await collect(job);
    const end = stopped ?? await job.done;
    report[job.id] = {
      owner: opened[i].owner,
      stateAtOpen: opened[i].state,
      uid: opened[i].uid,
      uidOfNewJob,
      stdout,
      stderr,
      end: { state: end.state, exitCode: end.exitCode, error: end.error },
    };
  }
  await runtime.close({ graceMs: 0 });
  console.log(JSON.stringify(report));
} else if (mode === "clean") {
  await runtime.close({ graceMs: 0 });
} else {
  throw new Error(`unknown mode ${mode}`);
}
