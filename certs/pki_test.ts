import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { Buffer } from "node:buffer";
import tls from "node:tls";
import { join } from "node:path";
import { createCa, issueCert, type KeyAlgorithm, type Pem } from "./pki.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Runs `openssl` with PEM files written to a temporary directory. */
async function openssl(
  files: Record<string, string>,
  args: string[],
): Promise<{ code: number; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "pki_test_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    const { code, stdout, stderr } = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return { code, out: decoder.decode(stdout) + decoder.decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function verifyPurpose(ca: Pem, leaf: Pem, purpose: string) {
  return await openssl(
    { "ca.pem": ca.cert, "leaf.pem": leaf.cert },
    ["verify", "-CAfile", "ca.pem", "-purpose", purpose, "leaf.pem"],
  );
}

async function extension(leaf: Pem, name: string): Promise<string> {
  const { out } = await openssl({ "leaf.pem": leaf.cert }, [
    "x509",
    "-in",
    "leaf.pem",
    "-noout",
    "-ext",
    name,
  ]);
  return out;
}

Deno.test("createCa makes a CA of at most one year that may sign certificates", async () => {
  const ca = await createCa({ cn: "test CA" });
  const cert = new X509Certificate(ca.cert);
  assert.equal(cert.ca, true);
  assert.equal(cert.subject, "CN=test CA");
  assert.deepEqual(cert.keyUsage, ["KeyCertSign", "CRLSign"]);
  assert.ok(cert.checkIssued(cert) && cert.verify(cert.publicKey));
  const days = (Date.parse(cert.validTo) - Date.now()) / DAY_MS;
  assert.ok(days > 364 && days <= 365, `CA lives ${days} days`);
  assert.match(ca.key, /^-----BEGIN PRIVATE KEY-----\n/);
  await assert.rejects(createCa({ cn: "x", days: 366 }), RangeError);
});

Deno.test("a client certificate chains to the CA and carries CN, OU and clientAuth", async () => {
  const ca = await createCa({ cn: "test CA" });
  const alice = await issueCert(ca, {
    cn: "alice",
    ou: "user",
    usage: "client",
  });
  const cert = new X509Certificate(alice.cert);
  assert.equal(cert.subject, "CN=alice\nOU=user");
  assert.equal(cert.ca, false);
  assert.ok(cert.checkIssued(new X509Certificate(ca.cert)));
  assert.ok(cert.verify(new X509Certificate(ca.cert).publicKey));
  assert.deepEqual(cert.keyUsage, ["DigitalSignature", "KeyAgreement"]);
  assert.equal(cert.subjectAltName, undefined);
  assert.equal((await verifyPurpose(ca, alice, "sslclient")).code, 0);
  assert.notEqual((await verifyPurpose(ca, alice, "sslserver")).code, 0);
});

Deno.test("a server certificate has serverAuth and SANs localhost and 127.0.0.1", async () => {
  const ca = await createCa({ cn: "test CA" });
  const server = await issueCert(ca, { cn: "localhost", usage: "server" });
  const cert = new X509Certificate(server.cert);
  assert.equal(cert.subjectAltName, "DNS:localhost, IP Address:127.0.0.1");
  assert.equal(cert.checkHost("localhost"), "localhost");
  assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal((await verifyPurpose(ca, server, "sslserver")).code, 0);
  assert.notEqual((await verifyPurpose(ca, server, "sslclient")).code, 0);

  const custom = await issueCert(ca, {
    cn: "w1",
    usage: "server",
    sans: ["w1.example", "::1"],
  });
  assert.equal(
    new X509Certificate(custom.cert).subjectAltName,
    "DNS:w1.example, IP Address:::1",
  );
});

Deno.test("leaves live at most 90 days and honour explicit windows", async () => {
  const ca = await createCa({ cn: "test CA" });
  const leaf = new X509Certificate(
    (await issueCert(ca, { cn: "a", usage: "client" })).cert,
  );
  const days = (Date.parse(leaf.validTo) - Date.now()) / DAY_MS;
  assert.ok(days > 89 && days <= 90, `leaf lives ${days} days`);
  assert.ok(Date.parse(leaf.validFrom) <= Date.now());

  // An expired certificate, as tests of the server's checks need.
  const notBefore = new Date(Date.UTC(2020, 0, 1));
  const notAfter = new Date(Date.UTC(2020, 0, 2));
  const expired = await issueCert(ca, {
    cn: "old",
    usage: "client",
    notBefore,
    notAfter,
  });
  const cert = new X509Certificate(expired.cert);
  assert.equal(Date.parse(cert.validFrom), notBefore.getTime());
  assert.equal(Date.parse(cert.validTo), notAfter.getTime());
  const verdict = await verifyPurpose(ca, expired, "sslclient");
  assert.notEqual(verdict.code, 0);
  assert.match(verdict.out, /expired/);

  await assert.rejects(
    issueCert(ca, {
      cn: "long",
      usage: "client",
      notBefore,
      notAfter: new Date(notBefore.getTime() + 91 * DAY_MS),
    }),
    RangeError,
  );
  await assert.rejects(
    issueCert(ca, {
      cn: "backwards",
      usage: "client",
      notBefore: notAfter,
      notAfter: notBefore,
    }),
    RangeError,
  );
});

Deno.test("noEku leaves the extended key usage out; serials are random", async () => {
  const ca = await createCa({ cn: "test CA" });
  const plain = await issueCert(ca, {
    cn: "a",
    ou: "user",
    usage: "client",
    noEku: true,
  });
  assert.doesNotMatch(
    await extension(plain, "extendedKeyUsage"),
    /Client Authentication/,
  );
  const withEku = await issueCert(ca, { cn: "a", ou: "user", usage: "client" });
  assert.match(
    await extension(withEku, "extendedKeyUsage"),
    /TLS Web Client Authentication/,
  );
  assert.notEqual(
    new X509Certificate(plain.cert).serialNumber,
    new X509Certificate(withEku.cert).serialNumber,
  );
});

/** Completes one mTLS 1.3 handshake and returns the CN the server saw. */
async function handshake(ca: Pem, server: Pem, client: Pem): Promise<string> {
  const listener = tls.createServer({
    ca: Buffer.from(ca.cert),
    cert: Buffer.from(server.cert),
    key: Buffer.from(server.key),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
  }, (socket) => socket.end(String(socket.getPeerCertificate().subject.CN)));
  try {
    await new Promise<void>((resolve) =>
      listener.listen(0, "127.0.0.1", resolve)
    );
    const { port } = listener.address() as { port: number };
    return await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({
        host: "localhost",
        port,
        ca: Buffer.from(ca.cert),
        cert: Buffer.from(client.cert),
        key: Buffer.from(client.key),
        minVersion: "TLSv1.3",
      });
      let text = "";
      socket.on("data", (chunk) => text += chunk);
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
  } finally {
    await new Promise((resolve) => listener.close(resolve));
  }
}

for (const algorithm of ["ecdsa-p256", "ed25519"] as KeyAlgorithm[]) {
  Deno.test(`${algorithm} certificates complete an mTLS 1.3 handshake with node:tls`, async () => {
    const ca = await createCa({ cn: "test CA", algorithm });
    const server = await issueCert(ca, {
      cn: "localhost",
      usage: "server",
      algorithm,
    });
    const client = await issueCert(ca, {
      cn: "alice",
      ou: "user",
      usage: "client",
      algorithm,
    });
    assert.equal(await handshake(ca, server, client), "alice");
  });
}
