/**
 * Running the real `jw` for tests: as a subprocess of bin/jw against a
 * test server, connected by flags, with its output and exit code.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestServer } from "../server/test_server.ts";

// bin/jw, the launcher users run: it runs the bundle of cli.ts
// (cli/bundle.sh), so these tests cover the bundle as shipped.
export const JW = fileURLToPath(new URL("../../bin/jw", import.meta.url));
export const decoder = new TextDecoder();

export interface Result {
  code: number;
  stdout: Uint8Array;
  out: string;
  err: string;
}

/** Flags that connect to `server` as `identity` ("admin", "alice", "bob"). */
export function connection(server: TestServer, identity: string): string[] {
  return [
    "--server",
    server.address,
    "--ca",
    join(server.dir, "ca.pem"),
    "--cert",
    join(server.dir, `${identity}.pem`),
    "--key",
    join(server.dir, `${identity}.key`),
  ];
}

/** Runs `jw` as `identity` against `server`, with the connection given by flags. */
export async function jw(
  server: TestServer | undefined,
  identity: string,
  ...args: string[]
) {
  const conn = server ? connection(server, identity) : [];
  const { code, stdout, stderr } = await new Deno.Command(JW, {
    args: [...conn, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: {
      NO_COLOR: "1",
      JW_SERVER: "",
      JW_CA: "",
      JW_CERT: "",
      JW_KEY: "",
      JW_USER: "",
    },
  }).output();
  return {
    code,
    stdout,
    out: decoder.decode(stdout),
    err: decoder.decode(stderr),
  } as Result;
}

/** Asserts the shape of every expected failure: one `jw: ` line, no stack. */
export function assertOneLineError(
  result: Result,
  code: number,
  pattern: RegExp,
): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.err}`);
  assert.equal(result.out, "");
  assert.match(result.err, /^jw: [^\n]+\n$/, "one line on stderr");
  assert.match(result.err, pattern);
}

/**
 * A TCP proxy to `port` that can cut every connection through it and
 * refuse new ones for a while: a network drop, or a server restart, as a
 * client sees it.
 */
export async function startProxy(port: number, host = "127.0.0.1") {
  const sockets = new Set<net.Socket>();
  const listen = (at: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const proxy = net.createServer((client) => {
        const upstream = net.connect(port, "127.0.0.1");
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("error", () => {});
          socket.on("close", () => sockets.delete(socket));
        }
        client.pipe(upstream).pipe(client);
      });
      proxy.once("error", reject);
      proxy.listen(at, host, () => resolve(proxy));
    });
  let proxy = await listen(0);
  const address = proxy.address() as net.AddressInfo;
  const close = () => new Promise((resolve) => proxy.close(resolve));
  return {
    port: address.port,
    /** Cuts every connection and refuses new ones for `ms`. */
    async outage(ms: number) {
      const closed = close();
      for (const socket of sockets) socket.destroy();
      await closed;
      await new Promise((resolve) => setTimeout(resolve, ms));
      proxy = await listen(address.port);
    },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await close();
    },
  };
}
