import { deepEqual, rejects, throws } from "node:assert/strict";
import { JobError } from "./errors.ts";
import { checkUidRange, JobUids, parseUidRange } from "./job_uids.ts";

const isCode = (code: string, pattern?: RegExp) => (err: unknown) =>
  err instanceof JobError && err.code === code &&
  (!pattern || pattern.test(err.message));

Deno.test("parseUidRange takes FIRST-LAST and refuses anything else", () => {
  deepEqual(parseUidRange("200000-265535"), { first: 200000, last: 265535 });
  for (const bad of ["", "5", "10-5", "0-10", "a-b", "1-4294967295", "-1-5"]) {
    throws(() => parseUidRange(bad), isCode("invalid_argument"), bad);
  }
});

Deno.test("JobUids hands out each uid once, goes round the range, and says when it is exhausted", () => {
  const uids = new JobUids({ first: 10, last: 12 });
  deepEqual([uids.take(), uids.take(), uids.take()], [10, 11, 12]);
  throws(() => uids.take(), isCode("resource_exhausted", /no free job uid/));
  uids.release(11);
  deepEqual(uids.take(), 11);
  uids.release(10);
  uids.release(12);
  // Round the range: the uid released last (12) is not the next one.
  deepEqual(uids.take(), 12);
  deepEqual(uids.take(), 10);
  deepEqual(uids.inUse, 3);
});

Deno.test("JobUids.claim keeps a restored job's uid from being handed out", () => {
  const uids = new JobUids({ first: 1, last: 2 });
  uids.claim(1);
  uids.claim(99); // outside the range: ignored
  deepEqual(uids.take(), 2);
  throws(() => uids.take(), isCode("resource_exhausted"));
});

Deno.test("JobUids.continueAfter resumes the round after a given uid", () => {
  const uids = new JobUids({ first: 1, last: 3 });
  uids.continueAfter(2);
  deepEqual(uids.take(), 3);
  uids.continueAfter(3);
  deepEqual(uids.take(), 1);
});

Deno.test("checkUidRange refuses a range that holds an account, a group or subordinate ids", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files = {
      passwd:
        "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
      group: "root:x:0:\nstaff:x:5000:\n",
      subuid: "alice:100000:65536\n",
    };
    const paths = Object.entries(files).map(([name, text]) => {
      const path = `${dir}/${name === "subuid" ? "subuid" : name}`;
      Deno.writeTextFileSync(path, text);
      return path;
    });
    await checkUidRange({ first: 200000, last: 265535 }, paths);
    await checkUidRange({ first: 1001, last: 4999 }, paths);
    await rejects(
      checkUidRange({ first: 900, last: 1000 }, paths),
      isCode("invalid_argument", /the id of alice \(1000\)/),
    );
    await rejects(
      checkUidRange({ first: 5000, last: 5000 }, paths),
      isCode("invalid_argument", /staff/),
    );
    await rejects(
      checkUidRange({ first: 165535, last: 170000 }, paths),
      isCode("invalid_argument", /subordinate ids of alice \(100000-165535\)/),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
