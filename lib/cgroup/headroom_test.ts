import { deepEqual } from "node:assert/strict";
import {
  effectiveLimit,
  memoryReserve,
  pidsReserve,
  reserveHeadroom,
} from "./headroom.ts";

/** A directory tree standing in for a cgroup hierarchy: path -> file -> content. */
async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "jw-headroom-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${path.slice(0, path.lastIndexOf("/"))}`, {
      recursive: true,
    });
    await Deno.writeTextFile(`${root}/${path}`, text);
  }
  return root;
}

Deno.test("the jobs' parent gets the server's tightest limit less the server's reserve", async () => {
  const root = await tree({
    "svc/pids.max": "1200\n",
    "svc/own/pids.max": "max\n",
    "svc/own/jobs/pids.max": "max\n",
    "svc/memory.limit_in_bytes": "9223372036854771712\n",
    "svc/own/memory.limit_in_bytes": "4294967296\n",
    "svc/own/jobs/memory.limit_in_bytes": "9223372036854771712\n",
  });
  try {
    const own = `${root}/svc/own`;
    deepEqual(await effectiveLimit(own, "pids.max"), 1200);
    deepEqual(
      await reserveHeadroom(own, `${own}/jobs`, "pids.max", pidsReserve),
      1080,
    );
    deepEqual(await Deno.readTextFile(`${own}/jobs/pids.max`), "1080");
    const memory = await reserveHeadroom(
      own,
      `${own}/jobs`,
      "memory.limit_in_bytes",
      memoryReserve,
    );
    deepEqual(memory, 4294967296 - 429496730);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("no limit above the server: nothing is written", async () => {
  const root = await tree({
    "own/pids.max": "max\n",
    "own/jobs/pids.max": "max\n",
  });
  try {
    const own = `${root}/own`;
    deepEqual(
      await reserveHeadroom(own, `${own}/jobs`, "pids.max", pidsReserve),
      undefined,
    );
    deepEqual(await Deno.readTextFile(`${own}/jobs/pids.max`), "max\n");
    deepEqual(pidsReserve(100), 64);
    deepEqual(memoryReserve(1024 ** 3), 256 * 1024 ** 2);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
