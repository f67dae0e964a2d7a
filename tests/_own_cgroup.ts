// A cgroup of its own for a server that a test runs as a child process.
//
// On cgroup v2 the runtime must own its cgroup (it refuses one that holds
// other processes, see lib/cgroup/v2.ts), so a child started next to the
// `deno test` process could not run a runtime. An OwnCgroup is a fresh cgroup
// made under $JW_TEST_CGROUP_PARENT (the test VM, a delegated host) or else
// beside the test process's own v2 cgroup; commands made with it start inside
// it. On cgroup v1 (or in the v2 root cgroup, which the runtime accepts) it
// makes nothing and commands start where the test runs.

const ROOT = "/sys/fs/cgroup";

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A fresh cgroup for child processes, removed with everything in it on dispose. */
export class OwnCgroup implements AsyncDisposable {
  /** The cgroup directory, or undefined where children stay in the test's cgroups. */
  readonly dir?: string;

  private constructor(dir?: string) {
    this.dir = dir;
  }

  /** Makes the cgroup (on cgroup v2 only); see the top of this file. */
  static async create(): Promise<OwnCgroup> {
    const parent = Deno.env.get("JW_TEST_CGROUP_PARENT") ?? await v2Parent();
    if (parent === undefined) return new OwnCgroup();
    const dir = `${parent}/jwtest-own-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await Deno.mkdir(dir);
    } catch (err) {
      if (Deno.env.has("JW_TEST_CGROUP_PARENT")) throw err;
      return new OwnCgroup(); // not writable here: the runtime will say why
    }
    return new OwnCgroup(dir);
  }

  /**
   * A command that runs `cmd` inside this cgroup (the shell execs it, keeping
   * the pid), or inside its sub-cgroup `leaf` when that exists — where a
   * service manager restarts a server whose cgroup now enables controllers.
   */
  command(
    cmd: string,
    options: Deno.CommandOptions = {},
    leaf?: string,
  ): Deno.Command {
    if (this.dir === undefined) return new Deno.Command(cmd, options);
    const dir = leaf && existsSync(`${this.dir}/${leaf}`)
      ? `${this.dir}/${leaf}`
      : this.dir;
    return new Deno.Command("sh", {
      ...options,
      args: [
        "-c",
        'echo $$ 2>/dev/null >"$0/cgroup.procs" || {\n' +
        '  echo "cannot join cgroup $0 (on v2: does it enable controllers' +
        ' for its children, or is it gone?)" >&2; exit 125; }\n' +
        'exec "$@"',
        dir,
        cmd,
        ...options.args ?? [],
      ],
    });
  }

  /** Every process in this cgroup and its descendants; [] without a cgroup. */
  async processes(): Promise<number[]> {
    if (this.dir === undefined) return [];
    const pids: number[] = [];
    for (const dir of await tree(this.dir)) {
      const text = await Deno.readTextFile(`${dir}/cgroup.procs`)
        .catch(() => "");
      pids.push(...text.split("\n").filter(Boolean).map(Number));
    }
    return pids;
  }

  /** Kills whatever still runs in the cgroup, then removes it and its descendants. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.dir === undefined) return;
    for (let i = 0; (await this.processes()).length > 0; i++) {
      if (i === 500) throw new Error(`processes left in ${this.dir}`);
      if (i % 50 === 0) {
        for (const pid of await this.processes()) {
          try {
            Deno.kill(pid, "SIGKILL");
          } catch {
            // gone already
          }
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const dir of (await tree(this.dir)).reverse()) {
      // An emptied cgroup may stay busy for a moment.
      for (let i = 0;; i++) {
        try {
          await Deno.remove(dir);
          break;
        } catch (err) {
          if (err instanceof Deno.errors.NotFound) break;
          if (i === 100) throw err;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
  }
}

/**
 * The parent of the test process's own cgroup when /sys/fs/cgroup is a
 * cgroup v2 hierarchy and that cgroup is not the root; otherwise undefined.
 */
async function v2Parent(): Promise<string | undefined> {
  const v2 = await Deno.stat(`${ROOT}/cgroup.controllers`).then(
    () => true,
    () => false,
  );
  if (!v2) return undefined;
  const line = (await Deno.readTextFile("/proc/self/cgroup")).split("\n")
    .find((l) => l.startsWith("0::"));
  const own = line?.slice(3).replace(/\/+$/, "");
  if (!own) return undefined;
  return ROOT + own.replace(/\/[^/]*$/, "");
}

/** `dir` and every cgroup below it, parents before children. */
async function tree(dir: string): Promise<string[]> {
  const dirs = [dir];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) dirs.push(...await tree(`${dir}/${entry.name}`));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return dirs;
}
