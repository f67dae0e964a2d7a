import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { TLSSocket } from "node:tls";
import { Backlog, wireBytes } from "./backlog.ts";

/** Stands in for a TLS socket: an address and a bytesWritten counter. */
function fakeSocket(port: number) {
  return Object.assign(new EventEmitter(), {
    remoteAddress: "127.0.0.1",
    remotePort: port,
    bytesWritten: 3_000, // the handshake
    destroyed: false,
  });
}

Deno.test("wireBytes counts the gRPC prefix and one frame header per 16 KiB", () => {
  assert.equal(wireBytes(0), 5 + 9);
  assert.equal(wireBytes(16_379), 16_384 + 9);
  assert.equal(wireBytes(16_380), 16_385 + 18);
  assert.equal(wireBytes(128 * 1024), 131_077 + 9 * 9);
});

Deno.test("a sender waits while its connection has more than the limit unsent, and goes on as the socket writes", async () => {
  const backlog = new Backlog(100_000);
  const socket = fakeSocket(40_000);
  backlog.track(socket as unknown as TLSSocket);
  const peer = "127.0.0.1:40000";
  const signal = new AbortController().signal;

  await backlog.add(peer, 60_000, signal); // under the limit: no wait
  assert.equal(backlog.unsent(peer), wireBytes(60_000));

  let done = false;
  const waiting = backlog.add(peer, 60_000, signal).then(() => done = true);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(done, false);
  socket.bytesWritten += 50_000; // the client read some
  await waiting;
  assert.ok(backlog.unsent(peer) <= 100_000);

  // An unknown peer (say, a connection opened before tracking) never waits.
  await backlog.add("127.0.0.1:1", 10_000_000, signal);
});

Deno.test("a waiting sender stops when its call is cancelled or its connection closes", async () => {
  const backlog = new Backlog(1_000);
  const socket = fakeSocket(40_001);
  backlog.track(socket as unknown as TLSSocket);
  const peer = "127.0.0.1:40001";
  const cancel = new AbortController();
  const waiting = backlog.add(peer, 10_000, cancel.signal);
  cancel.abort(new Error("cancelled"));
  await assert.rejects(waiting, /cancelled/);

  const stuck = backlog.add(peer, 10_000, new AbortController().signal);
  socket.destroyed = true;
  socket.emit("close");
  await stuck;
  assert.equal(backlog.unsent(peer), 0);
});

Deno.test("the last waiting sender to give up stops the connection's polling", async () => {
  const backlog = new Backlog(1_000);
  const socket = fakeSocket(40_002);
  backlog.track(socket as unknown as TLSSocket);
  const peer = "127.0.0.1:40002";
  const first = new AbortController();
  const second = new AbortController();
  const a = backlog.add(peer, 10_000, first.signal);
  const b = backlog.add(peer, 10_000, second.signal);
  assert.ok(backlog.polling(peer));
  first.abort(new Error("first cancelled"));
  await assert.rejects(a, /first cancelled/);
  assert.ok(backlog.polling(peer), "one sender still waits");
  second.abort(new Error("second cancelled"));
  await assert.rejects(b, /second cancelled/);
  assert.equal(backlog.polling(peer), false);
});
