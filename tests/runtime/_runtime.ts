// Test helpers for the job runtime: a runtime on a fresh data directory and a
// cgroup name of its own, torn down (jobs killed, cgroups and files removed)
// even when the test fails.
import { deepEqual } from "node:assert/strict";
import {
  type Job,
  type JobInfo,
  JobRuntime,
  type OutputOptions,
  type Retention,
} from "../../lib/mod.ts";

export { findCgroups } from "../_find_cgroups.ts";
import { findCgroups } from "../_find_cgroups.ts";
import { resolveViewPaths } from "../../lib/job_view.ts";

/** tests/_probe.c, built by lib/init/build.sh. */
const PROBE = new URL("../../build/jw-probe", import.meta.url).pathname;

/** Where {@link withRuntime} puts jw-probe for jobs to run (with `probe: true`). */
export function probePath(dataDir: string): string {
  return `${dataDir}.probe`;
}

/** Where test data directories go; a directory on a real block device for io tests. */
export const TEST_DATA_PARENT = Deno.env.get("JW_TEST_DATA_DIR") ?? "/var/tmp";

/** A new data directory under {@link TEST_DATA_PARENT} and a cgroup name of its own. */
export async function freshTestDir(
  prefix: string,
): Promise<{ dataDir: string; cgroupName: string }> {
  await Deno.mkdir(TEST_DATA_PARENT, { recursive: true });
  const dataDir = await Deno.makeTempDir({ dir: TEST_DATA_PARENT, prefix });
  return { dataDir, cgroupName: `jwtest-${crypto.randomUUID().slice(0, 8)}` };
}

/** Runs `fn` with a fresh runtime and checks that nothing is left behind. */
export async function withRuntime(
  fn: (
    runtime: JobRuntime,
    dataDir: string,
    cgroupName: string,
  ) => Promise<void>,
  options: {
    policy?: object;
    maxLogBytes?: number;
    /** Host paths jobs see besides the default ones. */
    viewPaths?: string[];
    /** Put jw-probe at {@link probePath} and let jobs see it. */
    probe?: boolean;
    jobUids?: { first: number; last: number };
    retention?: Retention;
  } = {},
): Promise<void> {
  const { dataDir, cgroupName } = await freshTestDir("jw-test-");
  let policyPath: string | undefined;
  if (options.policy) {
    policyPath = `${dataDir}.policy.json`;
    await Deno.writeTextFile(policyPath, JSON.stringify(options.policy));
  }
  const extra = [...options.viewPaths ?? []];
  if (options.probe) {
    await Deno.copyFile(PROBE, probePath(dataDir));
    await Deno.chmod(probePath(dataDir), 0o755);
    extra.push(probePath(dataDir));
  }
  let runtime: JobRuntime | undefined;
  try {
    runtime = await JobRuntime.open({
      dataDir,
      cgroupName,
      policyPath,
      maxLogBytes: options.maxLogBytes,
      jobUids: options.jobUids,
      retention: options.retention,
      viewPaths: extra.length
        ? [...await resolveViewPaths(), ...extra]
        : undefined,
    });
    await fn(runtime, dataDir, cgroupName);
  } finally {
    await runtime?.close({ graceMs: 0 });
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    if (policyPath) await Deno.remove(policyPath).catch(() => {});
    await Deno.remove(probePath(dataDir)).catch(() => {});
    deepEqual(await findCgroups(cgroupName), [], "job cgroups left behind");
  }
}

/** Everything a job wrote, as one byte array, and per stream. */
export async function collect(
  job: Job,
  options?: OutputOptions,
): Promise<{ all: Uint8Array; stdout: string; stderr: string; text: string }> {
  const parts: Uint8Array[] = [];
  const per = { stdout: "", stderr: "" };
  const decoder = new TextDecoder();
  for await (const chunk of job.output(options)) {
    parts.push(chunk.data);
    per[chunk.stream] += decoder.decode(chunk.data);
  }
  const all = new Uint8Array(
    await new Blob(parts as Uint8Array<ArrayBuffer>[]).arrayBuffer(),
  );
  return { all, ...per, text: decoder.decode(all) };
}

/** Runs `sh -c script` as a job and waits for it. */
export async function runShell(
  runtime: JobRuntime,
  script: string,
  extra: { limits?: object; env?: Record<string, string> } = {},
): Promise<
  { job: Job; info: JobInfo; out: Awaited<ReturnType<typeof collect>> }
> {
  const job = await runtime.start(
    { owner: "tester", command: "sh", args: ["-c", script], ...extra },
    { customLimits: extra.limits !== undefined },
  );
  const out = await collect(job);
  return { job, info: await job.done, out };
}
