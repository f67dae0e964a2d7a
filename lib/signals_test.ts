import assert from "node:assert/strict";
import { JobError } from "./errors.ts";
import { parseSignal } from "./signals.ts";

Deno.test("signals by name, short name or number; empty is SIGKILL", () => {
  assert.equal(parseSignal("SIGUSR1"), "SIGUSR1");
  assert.equal(parseSignal("hup"), "SIGHUP");
  assert.equal(parseSignal("15"), "SIGTERM");
  assert.equal(parseSignal(""), "SIGKILL");
});

Deno.test("unknown signals are invalid arguments", () => {
  for (const bad of ["SIGFOO", "99", "1.5", "constructor", "SIGSEGV"]) {
    assert.throws(
      () => parseSignal(bad),
      (err) => err instanceof JobError && err.code === "invalid_argument",
      bad,
    );
  }
});
