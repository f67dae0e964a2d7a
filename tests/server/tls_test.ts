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
import { connect } from "./client.ts";
import { startTestServer, type TestServer } from "./test_server.ts";

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

  await t.step("a client without a certificate is refused", async () => {
    const probe = await tlsProbe(server, {});
    assert.equal(probe.ok, false);
  });

  await t.step("a certificate from another CA is refused", async () => {
    const other = await createCa({ cn: "another CA" });
    const stranger = await issueCert(other, {
      cn: "alice",
      ou: "user",
      usage: "client",
    });
    assert.equal((await tlsProbe(server, stranger)).ok, false);
    assert.equal(await whoAmICode(server, stranger), grpc.status.UNAVAILABLE);
  });

  await t.step("an expired certificate is refused", async () => {
    const expired = await issueCert(ca, {
      cn: "alice",
      ou: "user",
      usage: "client",
      notBefore: new Date(Date.now() - 3 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    assert.equal((await tlsProbe(server, expired)).ok, false);
    assert.equal(await whoAmICode(server, expired), grpc.status.UNAVAILABLE);
  });

  await t.step(
    "a certificate without the clientAuth usage is refused",
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
        assert.equal((await tlsProbe(server, cert)).ok, false);
        assert.equal(await whoAmICode(server, cert), grpc.status.UNAVAILABLE);
      }
    },
  );

  await t.step(
    "a certificate with an unknown role gets PERMISSION_DENIED",
    async () => {
      const root = await issueCert(ca, {
        cn: "mallory",
        ou: "root",
        usage: "client",
      });
      assert.equal(
        await whoAmICode(server, root),
        grpc.status.PERMISSION_DENIED,
      );
    },
  );

  await t.step("the server still serves after all that", async () => {
    assert.equal(await whoAmICode(server, alice), grpc.status.OK);
  });
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
