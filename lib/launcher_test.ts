import assert from "node:assert/strict";
import { parseReport } from "./launcher.ts";

Deno.test("the launcher's final report, with the output the full disk lost and the server cut", () => {
  assert.deepEqual(parseReport("exited 3\n"), { kind: "exited", code: 3 });
  assert.deepEqual(parseReport("signaled 9 lost 4096"), {
    kind: "signaled",
    signal: 9,
    lostBytes: 4096,
  });
  assert.deepEqual(parseReport("exited 0 lost 10 cut 2048"), {
    kind: "exited",
    code: 0,
    lostBytes: 10,
    cutBytes: 2048,
  });
  assert.deepEqual(parseReport("exited 0 cut 7"), {
    kind: "exited",
    code: 0,
    cutBytes: 7,
  });
  assert.equal(parseReport("started 1 2"), null);
  assert.equal(parseReport("exited x"), null);
});
