// A server stand-in for restart tests: opens a runtime on the data dir and
// cgroup name given as arguments, starts the jobs named in the third argument
// (a JSON object name -> shell script), prints their ids as one JSON line,
// then waits to be killed.
import { JobRuntime } from "../../lib/mod.ts";

const [dataDir, cgroupName, scripts] = Deno.args;
const runtime = await JobRuntime.open({ dataDir, cgroupName });
const ids: Record<string, string> = {};
for (
  const [name, script] of Object.entries(
    JSON.parse(scripts) as Record<string, string>,
  )
) {
  const job = await runtime.start({
    owner: "tester",
    command: "sh",
    args: ["-c", script],
  });
  ids[name] = job.id;
}
console.log(JSON.stringify(ids));
await new Promise(() => {});
