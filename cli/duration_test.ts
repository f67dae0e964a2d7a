import assert from "node:assert/strict";
import { formatDuration, parseDuration, readDuration } from "./duration.ts";
import { UsageError } from "./usage_error.ts";

Deno.test("parseDuration reads units, compounds and bare seconds", () => {
  assert.equal(parseDuration("10s", "--grace"), 10_000);
  assert.equal(parseDuration("500ms", "--grace"), 500);
  assert.equal(parseDuration("1m30s", "--grace"), 90_000);
  assert.equal(parseDuration("1h", "--grace"), 3_600_000);
  assert.equal(parseDuration("2d12h", "--older-than"), 216_000_000);
  assert.equal(parseDuration("2", "--grace"), 2_000);
  assert.equal(parseDuration("0.5s", "--grace"), 500);
  assert.equal(parseDuration("0", "--grace"), 0);
  for (const bad of ["", "s", "10x", "1m 30s", "-1s", "10s5"]) {
    assert.throws(() => parseDuration(bad, "--grace"), UsageError, bad);
  }
});

Deno.test("formatDuration keeps the two largest units", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(-5_000), "0s");
  assert.equal(formatDuration(42_900), "42s");
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(3_600_000), "1h");
  assert.equal(formatDuration(3_660_000 + 5_000), "1h1m");
  assert.equal(formatDuration(2 * 86_400_000 + 4 * 3_600_000 + 59_000), "2d4h");
});

Deno.test("readDuration answers undefined instead of throwing", () => {
  assert.equal(readDuration("1h30m"), 5_400_000);
  assert.equal(readDuration("90s"), 90_000);
  assert.equal(readDuration("soon"), undefined);
  assert.equal(readDuration(""), undefined);
});
