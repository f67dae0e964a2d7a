import assert from "node:assert/strict";
import { JobError } from "./errors.ts";
import { resolveJob } from "./job_reference.ts";

const jobs = [
  { id: "4d5c9fa91db4", name: "build", owner: "alice" },
  { id: "4d5c00000001", name: "", owner: "alice" },
  { id: "4d5c11111111", name: "build", owner: "bob" },
  { id: "beef00000000", name: "4d5c", owner: "alice" },
];

function fails(ref: string, code: string, message: RegExp) {
  assert.throws(() => resolveJob(jobs, ref), (err) => {
    assert.ok(err instanceof JobError);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  }, ref);
}

Deno.test("an exact id comes first, then a name, then a unique prefix", () => {
  assert.equal(resolveJob(jobs, "4d5c9fa91db4").id, "4d5c9fa91db4");
  assert.equal(resolveJob(jobs, "4d5c9").id, "4d5c9fa91db4");
  assert.equal(resolveJob(jobs, "beef").id, "beef00000000");
  assert.equal(
    resolveJob(jobs, "4d5c").id,
    "beef00000000",
    "a name wins over a prefix, as in Docker",
  );
  assert.equal(resolveJob(jobs.slice(0, 2), "build").id, "4d5c9fa91db4");
});

Deno.test("several matches, too short a prefix or none are clear errors", () => {
  fails("4d5c2", "not_found", /^job 4d5c2$/);
  fails("4d5", "invalid_argument", /^prefix 4d5 is too short/);
  fails(
    "build",
    "invalid_argument",
    /^name build matches 2 jobs \(of alice, bob\); use an id$/,
  );
  assert.throws(
    () => resolveJob(jobs.slice(0, 3), "4d5c"),
    /^invalid argument: prefix 4d5c matches 3 jobs$/,
  );
  fails("", "invalid_argument", /missing job id/);
  fails("../etc", "invalid_argument", /malformed job id/);
  fails("\x1b[2J", "invalid_argument", /"\?\[2J"/);
  fails("nosuchjob", "not_found", /^job nosuchjob$/);
});
