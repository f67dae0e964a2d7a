import { deepEqual, ok, throws } from "node:assert/strict";
import { JobError } from "../lib/errors.ts";
import { emptyUsage } from "../lib/limits.ts";
import type { JobInfo, JobState } from "../lib/job_info.ts";
import {
  listPage,
  MAX_PAGE_SIZE,
  PAGE_BYTES,
  type PageRequest,
} from "./list_page.ts";

function job(i: number, extra: Partial<JobInfo> = {}): JobInfo {
  return {
    id: i.toString(16).padStart(12, "0"),
    owner: "alice",
    name: "",
    command: "true",
    args: [],
    dir: "/work",
    state: "exited",
    oomKilled: false,
    createdAt: new Date(1_700_000_000_000 + Math.floor(i / 3)),
    limits: {},
    usage: emptyUsage(),
    stdoutBytes: 0,
    stderrBytes: 0,
    stdoutDroppedBytes: 0,
    stderrDroppedBytes: 0,
    ...extra,
  };
}

const request: PageRequest = {
  pageSize: 0,
  pageToken: "",
  states: [],
  name: "",
};

function all(jobs: JobInfo[], req: Partial<PageRequest> = {}): JobInfo[][] {
  const pages: JobInfo[][] = [];
  let pageToken = "";
  do {
    const { page, next } = listPage(jobs, { ...request, ...req, pageToken });
    pages.push(page);
    pageToken = next;
  } while (pageToken);
  return pages;
}

Deno.test("pages hold 100 jobs by default, at most 1000, and together every job once, oldest first", () => {
  // Shuffled, and three at each millisecond: the order is (createdAt, id).
  const jobs = Array.from({ length: 2500 }, (_, i) => job(i)).reverse();
  const pages = all(jobs);
  deepEqual(pages.map((page) => page.length), [...Array(25).fill(100)]);
  deepEqual(
    pages.flat().map((j) => j.id),
    jobs.map((j) => j.id).reverse(),
  );
  deepEqual(all(jobs, { pageSize: MAX_PAGE_SIZE }).map((p) => p.length), [
    1000,
    1000,
    500,
  ]);
  throws(
    () => listPage(jobs, { ...request, pageSize: MAX_PAGE_SIZE + 1 }),
    (err) => err instanceof JobError && err.code === "invalid_argument",
  );
});

Deno.test("large jobs make smaller pages, never one near the message limit", () => {
  const big = "x".repeat(200 * 1024);
  const jobs = Array.from({ length: 40 }, (_, i) => job(i, { args: [big] }));
  const pages = all(jobs, { pageSize: 1000 });
  ok(pages.length > 1);
  for (const page of pages) {
    const bytes = page.reduce((sum, j) => sum + j.args[0].length, 0);
    ok(bytes <= PAGE_BYTES, `a page of ${bytes} bytes`);
  }
  deepEqual(pages.flat().length, 40);
});

Deno.test("filters by state and name apply before paging; a job removed between pages loses nothing", () => {
  const states: JobState[] = ["running", "exited", "stopped"];
  const jobs = Array.from(
    { length: 300 },
    (_, i) => job(i, { state: states[i % 3], name: i % 2 ? "odd" : "" }),
  );
  const running = all(jobs, { states: ["running"] }).flat();
  deepEqual(running.length, 100);
  ok(running.every((j) => j.state === "running"));
  const oddStopped = all(jobs, { states: ["stopped"], name: "odd" }).flat();
  deepEqual(oddStopped.length, 50);
  const first = listPage(jobs, { ...request, pageSize: 10 });
  const gone = jobs.filter((j) => j !== first.page.at(-1));
  const second = listPage(gone, {
    ...request,
    pageSize: 10,
    pageToken: first.next,
  });
  deepEqual(second.page[0].id, jobs[10].id);
});

Deno.test("a page token this server did not make is invalid_argument", () => {
  for (const pageToken of ["x", "1.zz", "../etc", "1.0123456789ab.1"]) {
    throws(
      () => listPage([job(1)], { ...request, pageToken }),
      (err) => err instanceof JobError && err.code === "invalid_argument",
      pageToken,
    );
  }
});
