import assert from "node:assert/strict";
import { LinePrefixer } from "./line_prefixer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function run(prefixer: LinePrefixer, data: string, prefix: string): string {
  return decoder.decode(prefixer.prefix(encoder.encode(data), prefix));
}

Deno.test("every line that starts in a chunk gets that chunk's prefix", () => {
  const lines = new LinePrefixer();
  assert.equal(run(lines, "a\nb\n", "1 "), "1 a\n1 b\n");
  assert.equal(run(lines, "c\n\nd\n", "2 "), "2 c\n2 \n2 d\n");
});

Deno.test("a line split across chunks keeps the prefix of its first byte", () => {
  const lines = new LinePrefixer();
  assert.equal(run(lines, "hel", "1 "), "1 hel");
  assert.equal(run(lines, "lo", "2 "), "lo");
  assert.equal(run(lines, "\nnext", "3 "), "\n3 next");
  assert.equal(run(lines, "", "4 "), "");
  assert.equal(run(lines, "\n", "5 "), "\n");
  assert.equal(run(lines, "last", "6 "), "6 last");
});

Deno.test("prefixers keep apart the lines of different streams", () => {
  const out = new LinePrefixer();
  const err = new LinePrefixer();
  assert.equal(run(out, "o1", "1 "), "1 o1");
  assert.equal(run(err, "e1\n", "2 "), "2 e1\n");
  assert.equal(run(out, " more\n", "3 "), " more\n");
  assert.equal(run(err, "e2", "4 "), "4 e2");
});

Deno.test("bytes that are not UTF-8 pass through untouched", () => {
  const lines = new LinePrefixer();
  const out = lines.prefix(Uint8Array.of(0xff, 0x0a, 0x00, 0xfe), "T ");
  assert.deepEqual(
    out,
    Uint8Array.of(0x54, 0x20, 0xff, 0x0a, 0x54, 0x20, 0x00, 0xfe),
  );
});
