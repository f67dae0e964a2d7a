import { JobRuntime, type Limits } from "../lib/mod.ts";
import { resolveViewPaths } from "../lib/job_view.ts";
import type { BenchContext } from "./_report.ts";
import { RawCgroup } from "./_raw_cgroup.ts";

/** A job runtime on the benchmark's temporary directory and cgroup name. */
export interface BenchRuntime extends AsyncDisposable {
  runtime: JobRuntime;
  dataDir: string;
  /** A throwaway cgroup beside the jobs' ones, with `limits`, for raw baselines. */
  rawCgroup(limits: Limits): Promise<RawCgroup>;
  /** Removes a finished job's output files (big outputs would fill the disk). */
  dropOutput(id: string): Promise<void>;
}

/**
 * Opens a runtime for one benchmark; disposing it stops jobs, removes the
 * raw cgroups and the cgroup parent. Jobs see `viewPaths` (host paths)
 * besides the default ones.
 */
export async function openBenchRuntime(
  ctx: BenchContext,
  viewPaths: string[] = [],
): Promise<BenchRuntime> {
  const dataDir = `${ctx.tmp}/data`;
  const runtime = await JobRuntime.open({
    dataDir,
    cgroupName: ctx.cgroupName,
    ...(viewPaths.length
      ? { viewPaths: [...await resolveViewPaths(), ...viewPaths] }
      : {}),
  });
  const raws: RawCgroup[] = [];
  return {
    runtime,
    dataDir,
    async rawCgroup(limits) {
      const raw = await RawCgroup.open(ctx.cgroupName, dataDir, limits);
      raws.push(raw);
      return raw;
    },
    async dropOutput(id) {
      for (const ext of ["out", "err", "idx", "drop", "seg"]) {
        await Deno.remove(`${dataDir}/logs/${id}.${ext}`).catch(() => {});
      }
    },
    async [Symbol.asyncDispose]() {
      for (const raw of raws) await raw[Symbol.asyncDispose]();
      await runtime.close({ graceMs: 0 });
    },
  };
}
