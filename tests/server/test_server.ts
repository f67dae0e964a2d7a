/**
 * A real server for tests: fresh certificates (the dev set: CA, server,
 * admin, alice, bob) and a fresh job runtime in a temporary directory, on a
 * free loopback port. Reused by the CLI tests.
 *
 * @module
 */
import { join } from "node:path";
import { ensureDevCerts } from "../../certs/dev_certs.ts";
import { issueCert, type Pem } from "../../certs/pki.ts";
import { JobRuntime } from "../../lib/mod.ts";
import { resolveViewPaths } from "../../lib/job_view.ts";
import type { LogRecord } from "../../server/log.ts";
import { type JobServer, startServer } from "../../server/server.ts";
import { readTlsFiles } from "../../server/tls.ts";
import { connect, type TestClient } from "./client.ts";

/** A running test server. */
export interface TestServer {
  /** `localhost:<port>`: the name the server certificate carries. */
  address: string;
  port: number;
  /** Directory of ca.pem, server/admin/alice/bob .pem + .key. */
  dir: string;
  /** A host directory every job sees, read-only, at the same path. */
  shared: string;
  /** The CA certificate (PEM). */
  ca: string;
  runtime: JobRuntime;
  server: JobServer;
  /** Log records written so far. */
  logs: LogRecord[];
  /** The cert and key of a dev identity: "admin", "alice" or "bob". */
  pem(name: string): Promise<Pem>;
  /** A client connected as a dev identity; closed by {@link TestServer.close}. */
  client(name: string): Promise<TestClient>;
  /** Closes clients and server, stops jobs, removes the directory. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 with its own certificates and data directory.
 *
 * @example
 * ```ts
 * await using server = await startTestServer();
 * const alice = await server.client("alice");
 * await alice.call("whoAmI", {});
 * ```
 */
export async function startTestServer(
  options: { policyPath?: string; maxConnectionsPerUser?: number } = {},
): Promise<TestServer> {
  const root = await Deno.makeTempDir({ prefix: "jobworker-server-test-" });
  const dir = join(root, "certs");
  const shared = join(root, "shared");
  await Deno.mkdir(shared, { mode: 0o755 });
  await Deno.chmod(root, 0o755);
  const clients: TestClient[] = [];
  let runtime: JobRuntime | undefined;
  try {
    await ensureDevCerts(dir);
    runtime = await JobRuntime.open({
      dataDir: join(root, "data"),
      policyPath: options.policyPath,
      cgroupName: `jobworker-test-${crypto.randomUUID().slice(0, 8)}`,
      viewPaths: [...await resolveViewPaths(), shared],
    });
    const logs: LogRecord[] = [];
    const server = await startServer({
      listen: "127.0.0.1:0",
      tls: await readTlsFiles({
        ca: join(dir, "ca.pem"),
        cert: join(dir, "server.pem"),
        key: join(dir, "server.key"),
      }),
      runtime,
      log: (record) => logs.push(record),
      maxConnectionsPerUser: options.maxConnectionsPerUser,
    });
    const ca = await Deno.readTextFile(join(dir, "ca.pem"));
    const pem = async (name: string) => ({
      cert: await Deno.readTextFile(join(dir, `${name}.pem`)),
      key: await Deno.readTextFile(join(dir, `${name}.key`)),
    });
    const address = `localhost:${server.port}`;
    const close = async () => {
      // Connections go first, without GOAWAY (see abortConnections); the
      // clients then have nothing left to close.
      await server.close({
        graceMs: 1_000,
        drainMs: 2_000,
        abortConnections: true,
      });
      clients.forEach((client) => client.close());
      await Deno.remove(root, { recursive: true }).catch(() => {});
    };
    return {
      address,
      port: server.port,
      dir,
      shared,
      ca,
      runtime,
      server,
      logs,
      pem,
      async client(name) {
        const client = connect(address, ca, await pem(name));
        clients.push(client);
        return client;
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await runtime?.close({ graceMs: 0 });
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw err;
  }
}

/**
 * A client certificate for `cn` from `server`'s CA that expired a day ago
 * (on a whole second, as certificates state it), and when it expired.
 */
export async function issueExpired(
  server: TestServer,
  cn: string,
): Promise<{ pem: Pem; notAfter: Date }> {
  const ca = {
    cert: server.ca,
    key: await Deno.readTextFile(join(server.dir, "ca.key")),
  };
  const notAfter = new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000);
  const pem = await issueCert(ca, {
    cn,
    ou: "user",
    usage: "client",
    notBefore: new Date(notAfter.getTime() - 2 * 86_400_000),
    notAfter,
  });
  return { pem, notAfter };
}
