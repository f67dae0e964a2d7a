import { openCgroupDriver } from "../lib/cgroup/detect.ts";

/** What the numbers were measured on. */
export interface Machine {
  cores: number;
  cpu: string;
  memory: string;
  kernel: string;
  cgroup: string;
  deno: string;
  loadBefore: string;
  disk: string;
  /** The commit measured, and whether the tree had uncommitted changes. */
  revision: string;
}

/** Describes this machine; `cgroupName` is briefly made to learn the cgroup version the runtime will use. */
export async function describeMachine(
  cgroupName: string,
  dataParent: string,
): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
  const driver = await openCgroupDriver({ name: cgroupName, ioPaths: [] });
  const version = driver.version;
  await driver.close();
  const df = await new Deno.Command("df", {
    args: ["-hT", dataParent],
    stdout: "piped",
  }).output();
  const dfLine = new TextDecoder().decode(df.stdout).trim().split("\n").at(-1)
    ?.split(/\s+/) ?? [];
  const git = await new Deno.Command("git", {
    args: ["describe", "--always", "--dirty", "--exclude", "*"],
    stdout: "piped",
  }).output().catch(() => null);
  return {
    revision: git ? new TextDecoder().decode(git.stdout).trim() : "unknown",
    cores: navigator.hardwareConcurrency,
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "unknown",
    memory: `${(Deno.systemMemoryInfo().total / 1024 ** 3).toFixed(1)} GiB`,
    kernel: Deno.osRelease(),
    cgroup: `v${version}`,
    deno: `${Deno.version.deno} (V8 ${Deno.version.v8})`,
    loadBefore: Deno.loadavg().map((l) => l.toFixed(2)).join(" "),
    disk: `${dataParent} on ${dfLine[0] ?? "?"} (${dfLine[1] ?? "?"})`,
  };
}
