import assert from "node:assert/strict";
import { createCa, issueCert } from "../certs/pki.ts";
import { JobError } from "../lib/errors.ts";
import { identityFromCertificate } from "./identity.ts";

function der(pem: string): Uint8Array {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

const ca = await createCa({ cn: "identity test CA" });

function refused(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof JobError);
    assert.equal(err.code, "permission_denied");
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("identity is the subject CN with the OU as role", async () => {
  const admin = await issueCert(ca, {
    cn: "root",
    ou: "admin",
    usage: "client",
  });
  const alice = await issueCert(ca, {
    cn: "alice",
    ou: "user",
    usage: "client",
    algorithm: "ed25519",
  });
  assert.deepEqual(identityFromCertificate(der(admin.cert)), {
    user: "root",
    role: "admin",
  });
  assert.deepEqual(identityFromCertificate(der(alice.cert)), {
    user: "alice",
    role: "user",
  });
});

Deno.test("a certificate with an unknown or missing role is refused", async () => {
  const root = await issueCert(ca, {
    cn: "mallory",
    ou: "root",
    usage: "client",
  });
  const none = await issueCert(ca, { cn: "mallory", usage: "client" });
  refused(() => identityFromCertificate(der(root.cert)), /role/);
  refused(() => identityFromCertificate(der(none.cert)), /role/);
});

Deno.test("a certificate without the clientAuth usage is refused", async () => {
  const noEku = await issueCert(ca, {
    cn: "alice",
    ou: "user",
    usage: "client",
    noEku: true,
  });
  const server = await issueCert(ca, {
    cn: "alice",
    ou: "user",
    usage: "server",
  });
  refused(
    () => identityFromCertificate(der(noEku.cert)),
    /client authentication/,
  );
  refused(
    () => identityFromCertificate(der(server.cert)),
    /client authentication/,
  );
});

Deno.test("a certificate outside its validity is refused", async () => {
  const cert = await issueCert(ca, {
    cn: "alice",
    ou: "user",
    usage: "client",
  });
  // Admitted at one call (and remembered), refused once it has expired,
  // and before its start.
  assert.equal(identityFromCertificate(der(cert.cert)).user, "alice");
  refused(
    () =>
      identityFromCertificate(
        der(cert.cert),
        new Date(Date.now() + 400 * 86_400_000),
      ),
    /expired on/,
  );
  refused(
    () =>
      identityFromCertificate(
        der(cert.cert),
        new Date(Date.now() - 86_400_000),
      ),
    /not valid until|not yet valid/,
  );
});

Deno.test("no certificate is refused", () => {
  refused(() => identityFromCertificate(undefined), /no client certificate/);
});
