import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { CertExistsError, ensureDevCerts, issueClient } from "./dev_certs.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dev_certs_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const cert = (dir: string, name: string) =>
  new X509Certificate(Deno.readTextFileSync(join(dir, `${name}.pem`)));
const mode = (path: string) => Deno.statSync(path).mode! & 0o777;

Deno.test("ensureDevCerts writes CA, server, admin, alice and bob with keys 0600", async () => {
  await withTempDir(async (dir) => {
    await ensureDevCerts(dir);
    const ca = cert(dir, "ca");
    for (const name of ["server", "admin", "alice", "bob"]) {
      assert.ok(
        cert(dir, name).verify(ca.publicKey),
        `${name} chains to the CA`,
      );
    }
    for (const name of ["ca", "server", "admin", "alice", "bob"]) {
      assert.equal(mode(join(dir, `${name}.key`)), 0o600, `${name}.key mode`);
    }
    assert.equal(cert(dir, "admin").subject, "CN=admin\nOU=admin");
    assert.equal(cert(dir, "alice").subject, "CN=alice\nOU=user");
    assert.equal(cert(dir, "bob").subject, "CN=bob\nOU=user");
    assert.equal(
      cert(dir, "server").subjectAltName,
      "DNS:localhost, IP Address:127.0.0.1",
    );
  });
});

Deno.test("ensureDevCerts keeps existing certificates unless forced", async () => {
  await withTempDir(async (dir) => {
    await ensureDevCerts(dir);
    const before = Deno.readTextFileSync(join(dir, "alice.pem"));
    const caBefore = Deno.readTextFileSync(join(dir, "ca.pem"));
    await Deno.remove(join(dir, "bob.pem"));
    await ensureDevCerts(dir);
    assert.equal(Deno.readTextFileSync(join(dir, "alice.pem")), before);
    assert.equal(Deno.readTextFileSync(join(dir, "ca.pem")), caBefore);
    assert.ok(
      cert(dir, "bob").verify(cert(dir, "ca").publicKey),
      "missing bob reissued",
    );

    await Deno.chmod(join(dir, "alice.key"), 0o644);
    await ensureDevCerts(dir, { force: true });
    assert.notEqual(Deno.readTextFileSync(join(dir, "ca.pem")), caBefore);
    assert.ok(
      cert(dir, "alice").verify(cert(dir, "ca").publicKey),
      "alice reissued by new CA",
    );
    assert.equal(mode(join(dir, "alice.key")), 0o600);
  });
});

Deno.test("issueClient issues from the dev CA and refuses to overwrite without force", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      issueClient(dir, "carol", "user"),
      Deno.errors.NotFound,
    );
    await ensureDevCerts(dir);
    await issueClient(dir, "carol", "admin");
    assert.equal(cert(dir, "carol").subject, "CN=carol\nOU=admin");
    assert.equal(mode(join(dir, "carol.key")), 0o600);
    await assert.rejects(issueClient(dir, "carol", "user"), CertExistsError);
    await issueClient(dir, "carol", "user", { force: true });
    assert.equal(cert(dir, "carol").subject, "CN=carol\nOU=user");

    const out = join(dir, "elsewhere");
    await issueClient(dir, "dave", "user", { out });
    assert.ok(cert(out, "dave").verify(cert(out, "ca").publicKey));
    await assert.rejects(Deno.stat(join(out, "ca.key")), Deno.errors.NotFound);

    await assert.rejects(issueClient(dir, "../evil", "user"), RangeError);
    await assert.rejects(issueClient(dir, "ca", "user"), RangeError);
  });
});
