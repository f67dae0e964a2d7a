import assert from "node:assert/strict";
import { type LogRecord, throttledLog } from "./log.ts";

Deno.test("a throttled log passes a few records a second and counts the rest in the next", () => {
  const seen: LogRecord[] = [];
  let clock = 0;
  const log = throttledLog((r) => seen.push(r), 2, () => clock);
  for (let i = 0; i < 5; i++) log({ msg: "connection refused", i });
  assert.deepEqual(seen.map((r) => r.i), [0, 1]);
  clock = 999;
  log({ msg: "connection refused", i: 5 });
  assert.equal(seen.length, 2, "still the same second");
  clock = 1000;
  log({ msg: "connection refused", i: 6 });
  assert.deepEqual(seen[2], {
    msg: "connection refused",
    i: 6,
    alsoRefused: 4,
  });
  log({ msg: "connection refused", i: 7 });
  assert.deepEqual(seen[3], { msg: "connection refused", i: 7 });
});
