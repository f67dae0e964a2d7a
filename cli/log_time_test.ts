import assert from "node:assert/strict";
import { parseLogTime } from "./log_time.ts";
import { UsageError } from "./usage_error.ts";

const NOW = Date.UTC(2026, 11, 3, 16, 0, 0);
const MS = 1_000_000n;

Deno.test("--since and --until read durations back from now", () => {
  const now = BigInt(NOW) * MS;
  assert.equal(parseLogTime("10m", "--since", NOW), now - 600_000n * MS);
  assert.equal(parseLogTime("1h30m", "--since", NOW), now - 5_400_000n * MS);
  assert.equal(parseLogTime("90s", "--until", NOW), now - 90_000n * MS);
  assert.equal(parseLogTime("250ms", "--since", NOW), now - 250n * MS);
  assert.equal(parseLogTime("0s", "--since", NOW), now);
});

Deno.test("--since and --until read RFC 3339 times and Unix seconds", () => {
  assert.equal(
    parseLogTime("2026-12-03T15:00:00.000000001Z", "--since", NOW),
    BigInt(NOW - 3_600_000) * MS + 1n,
  );
  assert.equal(
    parseLogTime("2026-12-03T17:00:00+01:00", "--until", NOW),
    BigInt(NOW) * MS,
  );
  assert.equal(
    parseLogTime("1764777600", "--since", NOW),
    1_764_777_600_000_000_000n,
  );
  assert.equal(
    parseLogTime("1764777600.25", "--since", NOW),
    1_764_777_600_250_000_000n,
  );
});

Deno.test("a time before the epoch is the epoch", () => {
  assert.equal(parseLogTime("1000000h", "--since", NOW), 0n);
});

Deno.test("a bad --since or --until is a one-line usage error naming the flag", () => {
  for (
    const bad of ["", "soon", "-10m", "10x", "1.5.2", "2026-12-03T25:00:00Z"]
  ) {
    assert.throws(
      () => parseLogTime(bad, "--since", NOW),
      (err: unknown) => {
        assert.ok(err instanceof UsageError, bad);
        assert.equal(
          err.message,
          `--since: not a duration or time: "${bad}" (e.g. 10m, 1h30m, 2026-12-03T16:00:00Z)`,
        );
        return true;
      },
    );
  }
});
