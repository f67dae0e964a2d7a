import { deepEqual } from "node:assert/strict";
import type { JobInfo } from "./job_info.ts";
import { emptyUsage } from "./limits.ts";
import { pickExpired } from "./retention.ts";

let n = 0;
function job(
  owner: string,
  bytes: number,
  endedMs: number | undefined,
): { info: JobInfo; bytes: number } {
  const id = (n++).toString(16).padStart(12, "0");
  return {
    bytes,
    info: {
      id,
      owner,
      name: id,
      command: "true",
      args: [],
      dir: "/work",
      state: endedMs === undefined ? "running" : "exited",
      oomKilled: false,
      createdAt: new Date(0),
      ...(endedMs === undefined ? {} : { endedAt: new Date(endedMs) }),
      limits: {},
      usage: emptyUsage(),
      stdoutBytes: bytes,
      stderrBytes: 0,
      stdoutDroppedBytes: 0,
      stderrDroppedBytes: 0,
    },
  };
}

const names = (ids: string[], jobs: { info: JobInfo }[]) =>
  jobs.filter((j) => ids.includes(j.info.id)).map((j) => j.info.name);

Deno.test("by age: finished jobs past it go; running ones never", () => {
  const jobs = [job("a", 1, 1000), job("a", 1, 9000), job("b", 1, undefined)];
  deepEqual(
    names(pickExpired(jobs, { maxAgeMs: 5000 }, 10_000), jobs),
    [jobs[0].info.name],
  );
});

Deno.test("by bytes: the heaviest owner's oldest go first, never a light owner's while the heavy one has some", () => {
  const bob = [job("bob", 10, 1000), job("bob", 10, 2000)];
  const alice = [
    job("alice", 500, 3000),
    job("alice", 500, 4000),
    job("alice", 500, undefined), // running: counts, never picked
  ];
  const jobs = [...bob, ...alice];
  // 1520 bytes against 1100: alice's two finished jobs go, bob's older ones stay.
  deepEqual(
    names(pickExpired(jobs, { maxBytes: 1100 }, 0), jobs),
    names([alice[0].info.id], jobs),
  );
  deepEqual(
    names(pickExpired(jobs, { maxBytes: 520 }, 0), jobs).sort(),
    [alice[0].info.name, alice[1].info.name].sort(),
  );
  // Only when alice has nothing finished left does bob lose his, oldest first.
  deepEqual(
    names(pickExpired(jobs, { maxBytes: 515 }, 0), jobs).sort(),
    [alice[0].info.name, alice[1].info.name, bob[0].info.name].sort(),
  );
});

Deno.test("by count: each owner keeps their newest finished jobs", () => {
  const jobs = [
    job("a", 1, 1000),
    job("a", 1, 3000),
    job("a", 1, 2000),
    job("b", 1, 500),
    job("a", 1, undefined),
  ];
  deepEqual(
    names(pickExpired(jobs, { maxJobsPerOwner: 1 }, 0), jobs).sort(),
    [jobs[0].info.name, jobs[2].info.name].sort(),
  );
});

Deno.test("by owner budget: only that owner's oldest go, never their last one, never another's", () => {
  const jobs = [
    job("bob", 900, 500),
    job("alice", 100, 1000),
    job("alice", 100, 2000),
    job("alice", 400, 3000),
    job("alice", 50, undefined),
  ];
  const budgets = new Map([["alice", 300], ["bob", 1000]]);
  // 650 against 300: her two oldest go; the one that ended last stays
  // though she is still over with it (her running job counts, is never picked).
  deepEqual(
    names(pickExpired(jobs, {}, 0, budgets), jobs).sort(),
    [jobs[1].info.name, jobs[2].info.name].sort(),
  );
  // Under budget: nothing goes.
  deepEqual(pickExpired(jobs, {}, 0, new Map([["alice", 650]])), []);
});
