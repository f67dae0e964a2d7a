/**
 * A connection flood against main.ts: raw TCP connections that never start
 * TLS, more of them than the server has file descriptors. Deno's accept
 * loop does not recover from EMFILE, so the server must never reach it,
 * and must serve again once the flood is over.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { startTestServer } from "./test_server.ts";
import { connect } from "./client.ts";
import { spawnMain } from "./_main_process.ts";

/** Opens `count` TCP connections to `port` (those refused are counted, not kept). */
async function flood(port: number, count: number): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port }).catch(
      () => undefined,
    );
    if (conn) conns.push(conn);
  }
  return conns;
}

function fdCount(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

/** The PID of the Deno server beneath prlimit (prlimit execs it, so the same). */
Deno.test("1,100 idle connections against a 1,024-descriptor server: it never runs out, and serves once they are gone", async () => {
  await using main = await spawnMain({ openFiles: 1024 });
  const conns = await flood(main.port, 1100);
  // The cap (a quarter of the limit) closes the excess at once.
  assert.ok(fdCount(main.child.pid) < 1024, `${fdCount(main.child.pid)} fds`);
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // closed by the server already
    }
  }
  const alice = connect(
    `localhost:${main.port}`,
    main.ca,
    await main.pem("alice"),
  );
  try {
    assert.equal((await alice.call("whoAmI", {})).user, "alice");
  } finally {
    alice.close();
  }
});

Deno.test("a connection that never finishes its TLS handshake is closed, and the refusal logged", async () => {
  await using main = await spawnMain();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: main.port });
  // The server closes it (after its 10 s handshake deadline): the read ends.
  const read = await conn.read(new Uint8Array(16)).catch(() => null);
  assert.equal(read, null);
  conn.close();
  for (;;) {
    const { value, done } = await main.lines.next();
    assert.ok(!done, "server exited");
    const record = JSON.parse(value);
    if (record.msg === "tls handshake refused") {
      assert.match(record.error, /timeout/i);
      assert.equal(record.client, "127.0.0.1");
      break;
    }
  }
});

Deno.test("one user's connections are capped after the handshake; others still get in", async () => {
  await using server = await startTestServer({ maxConnectionsPerUser: 3 });
  const alice = await server.pem("alice");
  const open = () =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect({
        host: "127.0.0.1",
        port: server.port,
        servername: "localhost",
        ca: server.ca,
        cert: alice.cert,
        key: alice.key,
        ALPNProtocols: ["h2"],
      }, () => resolve(socket));
      socket.on("error", reject);
    });
  const closed = (socket: tls.TLSSocket) =>
    new Promise<void>((resolve) => {
      if (socket.destroyed) resolve();
      socket.once("close", () => resolve());
      socket.resume();
    });
  const kept = [await open(), await open(), await open()];
  const extra = await open();
  // The server closes it (a hang guard, not a timing check).
  let timer: ReturnType<typeof setTimeout> | undefined;
  const verdict = await Promise.race([
    closed(extra).then(() => "closed"),
    new Promise((r) => {
      timer = setTimeout(() => r("still open after 20 s"), 20_000);
    }),
  ]);
  clearTimeout(timer);
  assert.equal(verdict, "closed");
  assert.ok(kept.every((socket) => !socket.destroyed), "the first three stay");
  assert.ok(
    server.logs.some((r) =>
      r.msg === "connection refused" &&
      /user alice has 3 connections open \(limit 3\)/.test(String(r.error))
    ),
  );
  const bob = await server.client("bob");
  assert.equal((await bob.call("whoAmI", {})).user, "bob");
  for (const socket of kept) socket.destroy();
  await Promise.all(kept.map(closed));
});
