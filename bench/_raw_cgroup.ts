import type { CgroupManager } from "../lib/cgroup/cgroup_manager.ts";
import { openCgroupDriver } from "../lib/cgroup/detect.ts";
import { DEFAULT_VIEW_PATHS, type Limits } from "../lib/mod.ts";

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

/**
 * The raw chain with the job's sandbox built by bubblewrap: its own root on a
 * tmpfs with the same read-only system paths, a fresh /proc, a minimal /dev,
 * private /tmp, /var/tmp and /dev/shm, a working directory, pivot_root; then
 * setpriv as in {@link RAW_CHAIN}. No seccomp filter (bwrap takes only a
 * compiled one). Undefined when bwrap is not installed.
 */
export function bwrapChain(): string | undefined {
  const bwrap = "/usr/bin/bwrap";
  if (!lstat(bwrap)) return undefined;
  const binds = DEFAULT_VIEW_PATHS.flatMap((path) => {
    const info = lstat(path);
    if (!info) return [];
    return info.isSymlink
      ? ["--symlink", Deno.readLinkSync(path), path]
      : ["--ro-bind", path, path];
  });
  return [
    bwrap,
    "--unshare-pid --unshare-net --unshare-uts --unshare-ipc",
    "--die-with-parent --new-session",
    ...binds,
    "--proc /proc --dev /dev --tmpfs /tmp --tmpfs /var/tmp --tmpfs /dev/shm",
    "--dir /work --chdir /work",
    "setpriv --reuid 65534 --regid 65534 --clear-groups --no-new-privs",
  ].join(" ");
}

function lstat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch {
    return undefined;
  }
}
