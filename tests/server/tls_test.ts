/**
 * Mutual TLS at the handshake: only TLS 1.3 clients holding a valid
 * clientAuth certificate from the server's CA get to make a call.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import * as tls from "node:tls";
import { ensureDevCerts } from "../../certs/dev_certs.ts";
import { createCa, issueCert, type Pem } from "../../certs/pki.ts";
import { clientCredentials, connect } from "./client.ts";
import {
  issueExpired,
  startTestServer,
  type TestServer,
} from "./test_server.ts";

/** Whoami with `client`, resolving with the gRPC code of the answer. */
async function whoAmICode(
  server: TestServer,
  client: Pem,
): Promise<grpc.status> {
  const conn = connect(server.address, server.ca, client);
  try {
    await conn.call("whoAmI", {});
    return grpc.status.OK;
  } catch (err) {
    return (err as grpc.ServiceError).code;
  } finally {
    conn.close();
  }
}

/** Whoami with `client` (none: no certificate), resolving with the error. */
async function whoAmIError(
  server: TestServer,
  client?: Pem,
): Promise<grpc.ServiceError> {
  const channel = new grpc.Client(
    server.address,
    client
      ? clientCredentials(server.ca, client)
      : grpc.credentials.createSsl(Buffer.from(server.ca)),
  );
  try {
    const err = await new Promise<grpc.ServiceError | undefined>((resolve) =>
      channel.makeUnaryRequest(
        "/jobworker.v1.JobWorker/WhoAmI",
        (x: Uint8Array) => Buffer.from(x),
        (x: Buffer) => x,
        new Uint8Array(),
        (err) => resolve(err ?? undefined),
      )
    );
    assert.ok(err, "the call was served");
    return err;
  } finally {
    channel.close();
  }
}

/**
 * Expects `client`'s calls to be answered UNAUTHENTICATED with `message` in
 * the details, and the refusal logged once with `reason`.
 */
async function assertRefused(
  server: TestServer,
  client: Pem | undefined,
  reason: string,
  message: RegExp,
): Promise<void> {
  const before = server.logs.length;
  const err = await whoAmIError(server, client);
  assert.equal(err.code, grpc.status.UNAUTHENTICATED, err.details);
  assert.match(err.details, /^the server refused your certificate: /);
  assert.match(err.details, message);
  const logged = server.logs.slice(before);
  const refusal = logged.find((r) => r.msg === "connection refused");
  assert.equal(refusal?.reason, reason, JSON.stringify(logged));
  assert.equal(refusal?.client, "127.0.0.1");
  assert.ok(
    !logged.some((r) => r.msg === "rpc"),
    "a refused connection's call reaches no handler",
  );
}

/**
 * Connects with node:tls and reports the protocol once the server has
 * answered with its HTTP/2 SETTINGS (so a refusal of the client certificate,
 * which in TLS 1.3 comes after the client's handshake, is seen too).
 */
function tlsProbe(server: TestServer, options: tls.ConnectionOptions) {
  return new Promise<
    { ok: true; protocol: string } | { ok: false; error: string }
  >((resolve) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port: server.port,
      servername: "localhost",
      ca: Buffer.from(server.ca),
      ALPNProtocols: ["h2"],
      ...options,
    });
    socket.on("secureConnect", () => {
      // The HTTP/2 client preface; the server answers with a SETTINGS frame.
      socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
    });
    socket.once("data", () => {
      resolve({ ok: true, protocol: socket.getProtocol() ?? "" });
      socket.destroy();
    });
    socket.on("error", (err) => resolve({ ok: false, error: err.message }));
    socket.on("close", () => resolve({ ok: false, error: "closed" }));
  });
}

Deno.test("mTLS handshake", async (t) => {
  await using server = await startTestServer();
  const ca = {
    cert: server.ca,
    key: await Deno.readTextFile(`${server.dir}/ca.key`),
  };
  const alice = await server.pem("alice");
  const stranger = await issueCert(await createCa({ cn: "another CA" }), {
    cn: "alice",
    ou: "user",
    usage: "client",
  });

  await t.step(
    "a TLS 1.3 client with a valid certificate is served",
    async () => {
      const probe = await tlsProbe(server, {
        cert: alice.cert,
        key: alice.key,
      });
      assert.deepEqual(probe, { ok: true, protocol: "TLSv1.3" });
      assert.equal(await whoAmICode(server, alice), grpc.status.OK);
    },
  );

  await t.step("an Ed25519 client certificate is accepted", async () => {
    const ed = await issueCert(ca, {
      cn: "carol",
      ou: "user",
      usage: "client",
      algorithm: "ed25519",
    });
    assert.equal(await whoAmICode(server, ed), grpc.status.OK);
  });

  await t.step("a TLS 1.2-only client is refused", async () => {
    const probe = await tlsProbe(server, {
      cert: alice.cert,
      key: alice.key,
      maxVersion: "TLSv1.2",
    });
    assert.equal(probe.ok, false);
  });

  await t.step("a client without a certificate is told so", async () => {
    await assertRefused(server, undefined, "no_certificate", /no client cert/);
  });

  await t.step("a certificate from another CA is told so", async () => {
    await assertRefused(
      server,
      stranger,
      "unknown_ca",
      /issued by "CN=another CA", not by this server's CA/,
    );
  });

  await t.step("an expired certificate is told when it expired", async () => {
    const { pem: expired, notAfter } = await issueExpired(server, "alice");
    await assertRefused(
      server,
      expired,
      "expired",
      new RegExp(`expired on ${notAfter.toISOString().slice(0, 19)}Z`),
    );
  });

  await t.step("a certificate not valid yet is told from when", async () => {
    const future = await issueCert(ca, {
      cn: "alice",
      ou: "user",
      usage: "client",
      notBefore: new Date(Date.now() + 86_400_000),
      notAfter: new Date(Date.now() + 3 * 86_400_000),
    });
    await assertRefused(server, future, "not_yet_valid", /not valid until /);
  });

  await t.step(
    "a certificate without the clientAuth usage is told so",
    async () => {
      const noEku = await issueCert(ca, {
        cn: "alice",
        ou: "user",
        usage: "client",
        noEku: true,
      });
      const serverCert = await issueCert(ca, {
        cn: "alice",
        ou: "user",
        usage: "server",
      });
      for (const cert of [noEku, serverCert]) {
        await assertRefused(
          server,
          cert,
          "wrong_eku",
          /not for client authentication/,
        );
      }
    },
  );

  await t.step(
    "an admin certificate from another CA reaches no job",
    async () => {
      const other = await createCa({ cn: "jobworker dev CA" });
      const forged = await issueCert(other, {
        cn: "admin",
        ou: "admin",
        usage: "client",
      });
      const conn = connect(server.address, server.ca, forged);
      try {
        for (
          const call of [
            conn.call("start", { command: "/bin/true" }),
            conn.call("list", {}),
          ]
        ) {
          await assert.rejects(
            call,
            (err: grpc.ServiceError) =>
              err.code === grpc.status.UNAUTHENTICATED,
          );
        }
      } finally {
        conn.close();
      }
      assert.deepEqual(server.runtime.list(), []);
    },
  );

  await t.step(
    "the server closes a refused connection soon after telling it why",
    async () => {
      const closed = await new Promise<boolean>((resolve) => {
        const socket = tls.connect({
          host: "127.0.0.1",
          port: server.port,
          servername: "localhost",
          ca: Buffer.from(server.ca),
          ALPNProtocols: ["h2"],
          cert: stranger.cert,
          key: stranger.key,
        });
        const timer = setTimeout(() => {
          socket.destroy();
          resolve(false);
        }, 60_000);
        socket.on("error", () => {});
        socket.resume(); // the end of the stream is seen only when read
        socket.on("close", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      assert.ok(closed, "the refused connection was left open");
    },
  );

  await t.step("a certificate with an unknown role is refused", async () => {
    const root = await issueCert(ca, {
      cn: "mallory",
      ou: "root",
      usage: "client",
    });
    await assertRefused(server, root, "bad_role", /role \(OU\) "root"/);
  });

  await t.step("the server still serves after all that", async () => {
    assert.equal(await whoAmICode(server, alice), grpc.status.OK);
  });
});

Deno.test("refused connections naming a user do not use up that user's connections", async () => {
  await using server = await startTestServer({ maxConnectionsPerUser: 2 });
  const other = await createCa({ cn: "another CA" });
  const stranger = await issueCert(other, {
    cn: "alice",
    ou: "user",
    usage: "client",
  });
  // Held open (the server keeps a refused connection a few seconds).
  const strangers = Array.from(
    { length: 4 },
    () => connect(server.address, server.ca, stranger),
  );
  try {
    for (const conn of strangers) {
      await assert.rejects(
        conn.call("whoAmI", {}),
        (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED,
      );
    }
    const alice = await server.client("alice");
    assert.equal((await alice.call("whoAmI", {})).user, "alice");
  } finally {
    for (const conn of strangers) conn.close();
  }
});

Deno.test("a running server takes new TLS files; bad ones are refused and the old ones keep serving", async () => {
  await using server = await startTestServer();
  const next = await Deno.makeTempDir({ prefix: "jw-tls-next-" });
  try {
    await ensureDevCerts(next);
    const read = (name: string) => Deno.readTextFile(`${next}/${name}`);
    const pem = {
      ca: await read("ca.pem"),
      cert: await read("server.pem"),
      key: await read("server.key"),
    };
    const old = await server.client("alice");
    // A key from elsewhere: refused, and the server goes on as it was.
    await assert.rejects(
      server.server.reloadTls({ ...pem, key: (await server.pem("alice")).key }),
      /does not belong/,
    );
    assert.equal((await old.call("whoAmI", {})).user, "alice");
    await server.server.reloadTls(pem);
    // New connections get the new certificate: a client of the new CA gets in.
    const fresh = connect(`localhost:${server.port}`, pem.ca, {
      cert: await read("bob.pem"),
      key: await read("bob.key"),
    });
    try {
      assert.equal((await fresh.call("whoAmI", {})).user, "bob");
    } finally {
      fresh.close();
    }
  } finally {
    await Deno.remove(next, { recursive: true });
  }
});
