import assert from "node:assert/strict";
import { cgroupDir, type MountEntry, parseFlatKeyed } from "./_common.ts";
import { parseBlkioBytes } from "./v1.ts";
import { parseIoStat } from "./v2.ts";

Deno.test("cgroupDir joins the mount point and the path below the mount root", () => {
  const mount = { root: "/a", mountPoint: "/sys/fs/cgroup" } as MountEntry;
  assert.equal(cgroupDir(mount, "/a/b/c"), "/sys/fs/cgroup/b/c");
  assert.equal(cgroupDir(mount, "/a"), "/sys/fs/cgroup");
  assert.equal(cgroupDir(mount, "/ab"), undefined);
  assert.equal(cgroupDir({ ...mount, root: "/" }, "/"), "/sys/fs/cgroup");
});

Deno.test("parseFlatKeyed reads key value lines", () => {
  const values = parseFlatKeyed(
    "oom_kill_disable 0\nunder_oom 1\noom_kill 3\n",
  );
  assert.equal(values.get("oom_kill"), 3);
  assert.equal(values.get("under_oom"), 1);
});

Deno.test("parseBlkioBytes sums Read and Write lines over devices", () => {
  const text = "8:0 Read 100\n8:0 Write 20\n8:0 Total 120\n" +
    "8:16 Read 1\n8:16 Write 2\nTotal 123\n";
  assert.deepEqual(parseBlkioBytes(text), { read: 101, write: 22 });
});

Deno.test("parseIoStat sums rbytes and wbytes over devices", () => {
  const text = "8:0 rbytes=100 wbytes=20 rios=1 wios=1 dbytes=7 dios=0\n" +
    "254:0 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n";
  assert.deepEqual(parseIoStat(text), { read: 101, write: 22 });
});
