import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { hold, release } from "./release.ts";

Deno.test("release detaches a buffer the bytes own, and leaves shared ones alone", () => {
  const owned = new Uint8Array(128 * 1024).fill(7);
  release(owned);
  assert.equal(owned.byteLength, 0);
  assert.equal(owned.buffer.detached, true);
  release(owned); // twice is harmless

  const whole = new Uint8Array(16).fill(1);
  const part = whole.subarray(4);
  release(part);
  assert.equal(part.byteLength, 12);
  assert.equal(whole[0], 1);

  const pooled = Buffer.from("short"); // a slice of Node's shared pool
  release(pooled);
  assert.equal(pooled.toString(), "short");
});

Deno.test("a held buffer is freed by the last of its holders' releases", () => {
  const chunk = new Uint8Array(1024).fill(3);
  hold(chunk);
  hold(chunk);
  release(chunk);
  release(chunk);
  assert.equal(chunk.byteLength, 1024, "one holder is left");
  assert.equal(chunk[1023], 3);
  release(chunk);
  assert.equal(chunk.buffer.detached, true);
});
