/**
 * The request flow: a user makes a key and a request, the CA's keeper signs
 * it with a role, and the user connects with a key no one else had.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { requestClient, signClient } from "../../certs/dev_certs.ts";
import { createRequest, signRequest } from "../../certs/pki.ts";
import { connect } from "./client.ts";
import { startTestServer } from "./test_server.ts";

Deno.test("a certificate signed from a user's request works with the user's own key, under the role the CA gave", async () => {
  await using server = await startTestServer();
  const home = await Deno.makeTempDir({ prefix: "jw-csr-" });
  try {
    const csr = await requestClient("carol", home);
    assert.equal(
      (await Deno.stat(join(home, "client.key"))).mode! & 0o777,
      0o600,
    );
    const signed = join(home, "signed");
    assert.equal(await signClient(server.dir, csr, "user", signed), "carol");
    const client = connect(server.address, server.ca, {
      cert: await Deno.readTextFile(join(signed, "carol.pem")),
      key: await Deno.readTextFile(join(home, "client.key")),
    });
    try {
      const me = await client.call("whoAmI", {});
      assert.equal(me.user, "carol");
      assert.equal(me.role, 1); // ROLE_USER, whatever the request said
    } finally {
      client.close();
    }
    // A second request does not replace the key the first one made.
    await assert.rejects(requestClient("carol", home), /exists/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a request whose signature does not match its key, or that is not one, is refused", async () => {
  await using server = await startTestServer();
  const ca = {
    cert: await Deno.readTextFile(join(server.dir, "ca.pem")),
    key: await Deno.readTextFile(join(server.dir, "ca.key")),
  };
  const { csr } = await createRequest("mallory");
  // Flip one byte of the signature (near the end of the DER).
  const der = Uint8Array.from(
    atob(csr.replace(/-----[^-]+-----|\s/g, "")),
    (c) => c.charCodeAt(0),
  );
  der[der.length - 3] ^= 1;
  const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${
    btoa(String.fromCharCode(...der))
  }\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(signRequest(ca, forged, "admin"), /signature|request/);
  await assert.rejects(
    signRequest(ca, "garbage", "admin"),
    /not a certificate request/,
  );
});
