import type { CgroupManager } from "../lib/cgroup/cgroup_manager.ts";
import { openCgroupDriver } from "../lib/cgroup/detect.ts";
import type { Limits } from "../lib/mod.ts";

/**
 * A throwaway cgroup for the raw baselines, made by the same driver the
 * runtime uses (same hierarchy, same limit files) beneath the bench's own
 * cgroup name, so that the baseline pays the same cgroup costs as the job.
 */
export class RawCgroup implements AsyncDisposable {
  readonly cgroup: CgroupManager;
  readonly #close: () => Promise<void>;

  private constructor(cgroup: CgroupManager, close: () => Promise<void>) {
    this.cgroup = cgroup;
    this.#close = close;
  }

  static async open(
    cgroupName: string,
    dataDir: string,
    limits: Limits,
  ): Promise<RawCgroup> {
    const driver = await openCgroupDriver({
      name: cgroupName,
      ioPaths: [dataDir],
    });
    const cgroup = await driver.create(
      `raw-${crypto.randomUUID().slice(0, 8)}`,
    );
    await cgroup.apply(limits);
    return new RawCgroup(cgroup, async () => {
      await cgroup.destroy();
      await driver.close();
    });
  }

  /**
   * `sh -c 'echo $$ > <procs files>; exec <script>'`: the shell joins the
   * cgroup, then becomes `script`. Resolves with the wall time in ms.
   */
  async run(script: string): Promise<number> {
    const joins = this.cgroup.procsFiles.map((f) => `echo $$ > ${f}`).join(
      "; ",
    );
    const t0 = performance.now();
    const out = await new Deno.Command("sh", {
      args: ["-c", `${joins}; exec ${script}`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    const elapsed = performance.now() - t0;
    if (!out.success) {
      throw new Error(
        `raw baseline failed: ${script}: ${
          new TextDecoder().decode(out.stderr)
        }`,
      );
    }
    return elapsed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#close();
  }
}

/** The wrapper chain jw-init replaces, as plain tools. */
export const RAW_CHAIN = "unshare --pid --mount --net --uts --ipc --fork " +
  "--kill-child --mount-proc setpriv --reuid 65534 --regid 65534 " +
  "--clear-groups --no-new-privs";
