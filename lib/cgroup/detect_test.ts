import assert from "node:assert/strict";
import { parseMountInfo, parseProcCgroup } from "./_common.ts";
import { findIoDevices, findV1Cgroups } from "./detect.ts";

const DISK_DIR = Deno.env.get("JW_TEST_DATA_DIR") ?? "/var/tmp";

const HYBRID_MOUNTINFO = `\
26 1 254:0 / / rw,relatime - ext4 /dev/vda rw
30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 /outer /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
36 30 0:33 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer
38 30 0:35 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
41 26 0:50 / /mnt/my\\040disk rw - tmpfs tmpfs rw
`;

const HYBRID_CGROUP = `\
9:name=systemd:/user.slice
8:pids:/user.slice/session-1.scope
4:memory:/outer/inner
6:freezer:/
2:cpu,cpuacct:/user.slice
0::/user.slice
`;

Deno.test("parseMountInfo unescapes paths and splits super options", () => {
  const mounts = parseMountInfo(HYBRID_MOUNTINFO);
  assert.equal(mounts.length, 9);
  assert.deepEqual(mounts[2], {
    majMin: "0:28",
    root: "/",
    mountPoint: "/sys/fs/cgroup/cpu,cpuacct",
    fsType: "cgroup",
    source: "cgroup",
    superOptions: ["rw", "cpu", "cpuacct"],
  });
  assert.equal(mounts[8].mountPoint, "/mnt/my disk");
});

Deno.test("parseProcCgroup reads co-mounted v1 controllers and the v2 line", () => {
  const entries = parseProcCgroup(HYBRID_CGROUP);
  assert.deepEqual(entries[4], {
    hierarchyId: 2,
    controllers: ["cpu", "cpuacct"],
    path: "/user.slice",
  });
  assert.deepEqual(entries[5], {
    hierarchyId: 0,
    controllers: [],
    path: "/user.slice",
  });
});

Deno.test("findV1Cgroups maps co-mounted controllers by mount options, not paths", () => {
  const dirs = findV1Cgroups(
    parseMountInfo(HYBRID_MOUNTINFO),
    parseProcCgroup(HYBRID_CGROUP),
  );
  assert.equal(dirs.get("cpu"), "/sys/fs/cgroup/cpu,cpuacct/user.slice");
  assert.equal(dirs.get("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct/user.slice");
  // The memory mount shows the subtree /outer only.
  assert.equal(dirs.get("memory"), "/sys/fs/cgroup/memory/inner");
  assert.equal(dirs.get("freezer"), "/sys/fs/cgroup/freezer");
  assert.equal(
    dirs.get("pids"),
    "/sys/fs/cgroup/pids/user.slice/session-1.scope",
  );
  assert.equal(dirs.has("blkio"), false);
});

Deno.test("findIoDevices finds the whole disk under a real path and skips tmpfs", async () => {
  const mounts = parseMountInfo(
    await Deno.readTextFile("/proc/self/mountinfo"),
  );
  const disk = await findIoDevices([DISK_DIR], mounts);
  assert.equal(disk.devices.length, 1);
  const sys = `/sys/dev/block/${disk.devices[0]}`;
  assert.equal((await Deno.readTextFile(`${sys}/dev`)).trim(), disk.devices[0]);
  await assert.rejects(Deno.stat(`${sys}/partition`), Deno.errors.NotFound);

  const shm = await findIoDevices(["/dev/shm"], mounts);
  assert.deepEqual(shm.devices, []);
  assert.match(shm.unavailable ?? "", /\/dev\/shm is not on a block device/);
  const missing = await findIoDevices(["/nonexistent/jw"], mounts);
  assert.match(missing.unavailable ?? "", /does not exist/);
});
