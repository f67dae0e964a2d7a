/**
 * Self-test of the cgroup v2 test VM (tests/vm/run.sh): checks that the VM
 * gives the test runner what the job runtime needs. Ignored outside the VM
 * (JW_TEST_VM is set by the VM's init).
 */

const inVm = Deno.env.get("JW_TEST_VM") === "1";
const root = "/sys/fs/cgroup";

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

function mounts(): string[][] {
  return Deno.readTextFileSync("/proc/mounts").trim().split("\n").map((l) =>
    l.split(" ")
  );
}

/** The cgroup v2 directory this process belongs to. */
function ownCgroup(): string {
  const line = Deno.readTextFileSync("/proc/self/cgroup").trim().split("\n")
    .find((l) => l.startsWith("0::"));
  assert(line, "no cgroup v2 entry in /proc/self/cgroup");
  return root + line.slice(3).replace(/\/$/, "");
}

function words(path: string): string[] {
  return Deno.readTextFileSync(path).trim().split(/\s+/).filter(Boolean);
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test({
  name: "vm mounts cgroup2 at /sys/fs/cgroup with cpu, memory, io and pids",
  ignore: !inVm,
  fn() {
    const m = mounts().find((f) => f[1] === root);
    assert(m?.[2] === "cgroup2", `${root} is ${m?.[2]}, not cgroup2`);
    assert(
      !mounts().some((f) => f[2] === "cgroup"),
      "a cgroup v1 hierarchy is mounted",
    );
    for (const dir of [root, ownCgroup()]) {
      const have = words(`${dir}/cgroup.controllers`);
      for (const c of ["cpu", "memory", "io", "pids"]) {
        assert(have.includes(c), `${c} missing from ${dir}/cgroup.controllers`);
      }
    }
    assert(ownCgroup() !== root, "the test runner is in the root cgroup");
  },
});

Deno.test({
  name: "vm has an ext4 scratch block device at JW_TEST_DATA_DIR",
  ignore: !inVm,
  fn() {
    const dir = Deno.env.get("JW_TEST_DATA_DIR");
    const dev = Deno.env.get("JW_TEST_DATA_DEV");
    assert(dir && dev, "JW_TEST_DATA_DIR or JW_TEST_DATA_DEV unset");
    const m = mounts().find((f) => f[1] === dir);
    assert(m?.[0] === dev && m[2] === "ext4", `${dir} is not ext4 on ${dev}`);
    assert(Deno.statSync(dev).isBlockDevice, `${dev} is no block device`);
    const file = `${dir}/smoke-${Deno.pid}`;
    Deno.writeTextFileSync(file, "scratch");
    Deno.removeSync(file);
  },
});

Deno.test({
  name: "vm lets the runner create a limited job cgroup below its own",
  ignore: !inVm,
  async fn() {
    // The no-internal-process rule: to enable controllers for children, the
    // runner's cgroup must hold no process, so the runner moves itself into
    // a leaf first, as the job runtime does. Everything is undone at the end.
    const own = ownCgroup();
    const leaf = `${own}/smoke-runner`;
    const job = `${own}/smoke-job`;
    const controllers = "+cpu +memory +io +pids";
    const dev = Deno.env.get("JW_TEST_DATA_DEV") ?? "/dev/vda";
    const devNumber = Deno.readTextFileSync(
      `/sys/class/block/${dev.replace("/dev/", "")}/dev`,
    ).trim();
    Deno.mkdirSync(leaf);
    Deno.writeTextFileSync(`${leaf}/cgroup.procs`, `${Deno.pid}`);
    const sleep = new Deno.Command("sleep", { args: ["300"] }).spawn();
    try {
      Deno.writeTextFileSync(`${own}/cgroup.subtree_control`, controllers);
      Deno.mkdirSync(job);
      Deno.writeTextFileSync(`${job}/cgroup.procs`, `${sleep.pid}`);
      Deno.writeTextFileSync(`${job}/memory.max`, "67108864");
      Deno.writeTextFileSync(`${job}/pids.max`, "16");
      Deno.writeTextFileSync(`${job}/cpu.max`, "50000 100000");
      Deno.writeTextFileSync(`${job}/io.max`, `${devNumber} wbps=1048576`);
      assert(words(`${job}/memory.max`)[0] === "67108864", "memory.max");
      assert(
        Deno.readTextFileSync(`${job}/io.max`).includes("wbps=1048576"),
        "io.max not applied",
      );
      assert(words(`${job}/cgroup.procs`).includes(`${sleep.pid}`), "procs");
      assert(
        Deno.readTextFileSync(`${job}/cgroup.events`).includes("populated 1"),
        "job cgroup not populated",
      );
    } finally {
      sleep.kill("SIGKILL");
      await sleep.status;
      await undo(own, job, leaf, controllers);
    }
    assert(ownCgroup() === own, "runner not back in its cgroup");
  },
});

/** Puts the runner back into `own` and removes what the test made. */
async function undo(own: string, job: string, leaf: string, ctl: string) {
  try {
    await waitFor(
      () =>
        Deno.readTextFileSync(`${job}/cgroup.events`).includes("populated 0"),
      "the job cgroup to empty",
    );
    Deno.removeSync(job);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  Deno.writeTextFileSync(
    `${own}/cgroup.subtree_control`,
    ctl.replaceAll("+", "-"),
  );
  Deno.writeTextFileSync(`${own}/cgroup.procs`, `${Deno.pid}`);
  Deno.removeSync(leaf);
}

Deno.test({
  name: "vm reaps orphaned processes like a real init",
  ignore: !inVm,
  async fn() {
    // A double-forked child is re-parented to PID 1, which must reap it, or
    // tests that wait for a daemon to vanish would see a zombie forever.
    const out = await new Deno.Command("sh", {
      args: ["-c", "sleep 0.3 & echo $!"],
      stdout: "piped",
    }).output();
    const pid = new TextDecoder().decode(out.stdout).trim();
    await waitFor(() => {
      try {
        const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
        return stat.split(") ")[1].startsWith("X");
      } catch {
        return true;
      }
    }, `orphan ${pid} to be reaped`);
  },
});
