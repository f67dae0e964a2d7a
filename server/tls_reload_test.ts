import { rejects } from "node:assert/strict";
import { ensureDevCerts } from "../certs/dev_certs.ts";
import { checkTlsFiles } from "./tls_reload.ts";
import { readTlsFiles } from "./tls.ts";

Deno.test("new TLS files are checked: a key that is not the certificate's, or garbage, is refused", async () => {
  const [a, b] = [
    await Deno.makeTempDir({ prefix: "jw-tls-a-" }),
    await Deno.makeTempDir({ prefix: "jw-tls-b-" }),
  ];
  try {
    await ensureDevCerts(a);
    await ensureDevCerts(b);
    const files = (dir: string) =>
      readTlsFiles({
        ca: `${dir}/ca.pem`,
        cert: `${dir}/server.pem`,
        key: `${dir}/server.key`,
      });
    const good = await files(a);
    await checkTlsFiles(good);
    const other = await files(b);
    await rejects(
      checkTlsFiles({ ...good, key: other.key }),
      /does not belong to the server certificate/,
    );
    await rejects(checkTlsFiles({ ...good, cert: "not a certificate" }));
    await rejects(
      checkTlsFiles(good, new Date(Date.now() + 10 * 365 * 86_400_000)),
      /valid from/,
    );
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});
