import assert from "node:assert/strict";
import { formatRfc3339Nano, parseRfc3339 } from "./rfc3339.ts";

const MS = 1_000_000n;

Deno.test("parseRfc3339 reads UTC, offsets and fractions to the nanosecond", () => {
  const base = BigInt(Date.UTC(2026, 11, 3, 16, 0, 0)) * MS;
  assert.equal(parseRfc3339("2026-12-03T16:00:00Z"), base);
  assert.equal(parseRfc3339("2026-12-03t16:00:00z"), base);
  assert.equal(parseRfc3339("2026-12-03 16:00:00Z"), base);
  assert.equal(parseRfc3339("2026-12-03T17:30:00+01:30"), base);
  assert.equal(parseRfc3339("2026-12-03T11:00:00-05:00"), base);
  assert.equal(parseRfc3339("2026-12-03T16:00:00.5Z"), base + 500n * MS);
  assert.equal(
    parseRfc3339("2026-12-03T16:00:00.123456789Z"),
    base + 123_456_789n,
  );
  assert.equal(
    parseRfc3339("2026-12-03T16:00:00.1234567891Z"),
    base + 123_456_789n,
    "digits past the nanosecond are dropped",
  );
  assert.equal(parseRfc3339("2026-12-03T16:00Z"), base);
  assert.equal(
    parseRfc3339("2024-02-29T00:00:00Z"),
    BigInt(Date.UTC(2024, 1, 29)) * MS,
  );
});

Deno.test("parseRfc3339 reads a time without a zone as local time", () => {
  assert.equal(
    parseRfc3339("2026-12-03T16:00:00.000000007"),
    BigInt(new Date(2026, 11, 3, 16, 0, 0).getTime()) * MS + 7n,
  );
  assert.equal(
    parseRfc3339("2026-12-03"),
    BigInt(new Date(2026, 11, 3).getTime()) * MS,
  );
});

Deno.test("parseRfc3339 refuses what is not a valid time", () => {
  for (
    const bad of [
      "",
      "10m",
      "1764777600",
      "2026-12-03T",
      "2026-12-03T16",
      "2026-13-01T00:00:00Z",
      "2026-02-29T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-12-03T24:00:00Z",
      "2026-12-03T16:60:00Z",
      "2026-12-03T16:00:60Z",
      "2026-12-03T16:00:00.Z",
      "2026-12-03T16:00:00+2400",
      "2026-12-03T16:00:00+24:00",
      "2026-12-03T16:00:00Zjunk",
    ]
  ) {
    assert.equal(parseRfc3339(bad), undefined, bad);
  }
});

Deno.test("formatRfc3339Nano writes UTC with nine fraction digits", () => {
  assert.equal(formatRfc3339Nano(0n), "1970-01-01T00:00:00.000000000Z");
  assert.equal(
    formatRfc3339Nano(1_000_000_002n),
    "1970-01-01T00:00:01.000000002Z",
  );
  const ns = BigInt(Date.UTC(2026, 11, 3, 16, 27, 55)) * MS + 123_456_789n;
  assert.equal(formatRfc3339Nano(ns), "2026-12-03T16:27:55.123456789Z");
  assert.equal(parseRfc3339(formatRfc3339Nano(ns)), ns, "round trip");
});
